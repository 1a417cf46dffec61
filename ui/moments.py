"""The snapshots a server keeps: the least recently used dropped first, bounded by count and by their own memory.

Every session looking at the same moment shares one snapshot. People move the As-of date
(and the Weekly update looks at week ends), so a shared server holds many moments at once;
dropping one that a session still looks at makes its next page take it again. A snapshot
derived from the stored run holds only the rows of the cases open at its moment (a few MB
at a million cases, `Snapshot.own_bytes`), a full engine run hundreds of MB: a bound by
count alone would be too small for the first or too large for the second, so both bound it.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

from metrics.engine.snapshot import Snapshot


class _Moment:
    """One key's snapshot, taken once however many threads ask for it at the same time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # held while the snapshot is taken
        self.snapshot: Snapshot | None = None

    def value(self, take: Callable[[], Snapshot]) -> Snapshot:
        with self.lock:
            if self.snapshot is None:
                self.snapshot = take()
            return self.snapshot


class Moments:
    """Snapshots by key, at most `most` of them and `budget` bytes of their own, least recently used out first.

    The snapshot just asked for is always kept, even alone over the budget. A snapshot
    being taken is never dropped (its takers wait for it); one whose take raised is
    forgotten, so the next caller tries again.
    """

    def __init__(self, most: int, budget: int) -> None:
        self.most = most
        self.budget = budget
        self._lock = threading.Lock()  # guards _held; never held while a snapshot is taken
        self._held: OrderedDict[Hashable, _Moment] = OrderedDict()
        _EVERY.add(self)

    def get(self, key: Hashable, take: Callable[[], Snapshot]) -> Snapshot:
        with self._lock:
            moment = self._held.get(key)
            new = moment is None
            if moment is None:
                moment = self._held[key] = _Moment()
            self._held.move_to_end(key)
        try:
            snapshot = moment.value(take)
        except BaseException:
            with self._lock:
                if self._held.get(key) is moment:
                    del self._held[key]
            raise
        if new:
            self._drop_beyond_bounds(keep=key)
        return snapshot

    def holds(self, key: Hashable) -> bool:
        """True when `key`'s snapshot is taken and kept (asking for it returns at once)."""
        with self._lock:
            moment = self._held.get(key)
        return moment is not None and moment.snapshot is not None

    def kept(self) -> list[Hashable]:
        """The keys kept, least recently used first."""
        with self._lock:
            return list(self._held)

    def clear(self) -> None:
        """Drop every snapshot kept (their cursors closed with them)."""
        with self._lock:
            self._held.clear()

    def _drop_beyond_bounds(self, keep: Hashable) -> None:
        with self._lock:
            taken = [(key, m.snapshot) for key, m in self._held.items() if m.snapshot is not None and key != keep]
        # measured outside the lock: per-case tables may be built meanwhile, and a snapshot's size only grows
        sizes = {key: snap.own_bytes() for key, snap in taken}
        kept = self._held.get(keep)
        total = sum(sizes.values()) + (kept.snapshot.own_bytes() if kept and kept.snapshot is not None else 0)
        with self._lock:
            for key in [key for key, _ in taken]:  # least recently used first
                if len(self._held) <= self.most and total <= self.budget:
                    break
                if key in self._held:
                    del self._held[key]
                    total -= sizes[key]


# Every Moments of the process, emptied at exit: snapshots hold DuckDB cursors, and cursors
# destroyed during the interpreter's own teardown (in no set order with their connections)
# abort the process instead of closing.
_EVERY: weakref.WeakSet[Moments] = weakref.WeakSet()


@atexit.register
def _drop_every_moment() -> None:
    for moments in list(_EVERY):
        moments.clear()
