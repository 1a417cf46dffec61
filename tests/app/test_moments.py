"""ui.moments.Moments: the snapshots a server keeps, bounded by count and by their own bytes, taken once per key."""

from __future__ import annotations

import threading
import time
from typing import cast

import pytest

from metrics.engine.snapshot import Snapshot
from ui.moments import Moments


class Held:
    """A stand-in for a snapshot: Moments reads nothing of it but `own_bytes`."""

    def __init__(self, size: int) -> None:
        self.size = size

    def own_bytes(self) -> int:
        return self.size


def taking(size: int = 1, calls: list[str] | None = None, name: str = "") -> Snapshot:
    if calls is not None:
        calls.append(name)
    return cast(Snapshot, Held(size))


def test_the_least_recently_used_goes_first_beyond_the_count() -> None:
    moments = Moments(most=3, budget=10**9)
    for key in "abc":
        moments.get(key, taking)
    moments.get("a", taking)  # used again: now the most recent
    moments.get("d", taking)
    assert moments.kept() == ["c", "a", "d"]  # b, the least recently used, was dropped
    calls: list[str] = []
    moments.get("b", lambda: taking(calls=calls, name="b"))
    assert calls == ["b"]  # taken again
    assert moments.kept() == ["a", "d", "b"]


def test_the_bytes_bound_counts_each_snapshots_own_memory() -> None:
    moments = Moments(most=100, budget=1_000)
    for key in "abc":
        moments.get(key, lambda: taking(400))
    assert moments.kept() == ["b", "c"]  # 1,200 bytes: a dropped
    for key in "xyz":
        moments.get(key, lambda: taking(10))
    assert moments.kept() == ["b", "c", "x", "y", "z"]  # 830 bytes
    moments.get("big", lambda: taking(5_000))
    assert moments.kept() == ["big"]  # the one just asked for is kept, even alone over the budget


def test_many_threads_asking_for_one_moment_take_it_once() -> None:
    moments = Moments(most=4, budget=10**9)
    calls: list[str] = []
    start = threading.Barrier(8)

    def slow() -> Snapshot:
        time.sleep(0.05)  # every other thread arrives while this one takes it
        return taking(calls=calls, name="m")

    def ask() -> None:
        start.wait()
        results.append(moments.get("m", slow))

    results: list[Snapshot] = []
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["m"]
    assert all(r is results[0] for r in results) and len(results) == 8


def test_a_failed_take_is_forgotten_and_tried_again() -> None:
    moments = Moments(most=4, budget=10**9)

    def broken() -> Snapshot:
        raise RuntimeError("store replaced")

    with pytest.raises(RuntimeError):
        moments.get("m", broken)
    assert not moments.holds("m") and moments.kept() == []
    calls: list[str] = []
    moments.get("m", lambda: taking(calls=calls, name="m"))
    assert calls == ["m"] and moments.holds("m")


def test_a_moment_being_taken_is_not_dropped() -> None:
    moments = Moments(most=2, budget=10**9)
    release = threading.Event()
    taken: list[Snapshot] = []

    def waiting() -> Snapshot:
        release.wait(5)
        return taking()

    slow = threading.Thread(target=lambda: taken.append(moments.get("slow", waiting)))
    slow.start()
    while "slow" not in moments.kept():
        time.sleep(0.01)
    for key in "abcd":
        moments.get(key, taking)
    assert "slow" in moments.kept() and not moments.holds("slow")
    release.set()
    slow.join()
    assert moments.holds("slow") and len(taken) == 1
