"""Which accounts a viewer may see, applied to a request's filters (pure: no Streamlit, no SQL).

The app narrows every request to the viewer's accounts here, in one place: `Scope.restrict`
intersects a `Filters` value with the allowed accounts, so a metric asked for "all
accounts" computes over the viewer's accounts only and a filter naming another account
matches nothing. Neither the address bar nor a widget can widen a scope: whatever the
request names outside it is dropped before any SQL runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from metrics.subjects.filters import Filters

# An account id no dataset holds (it starts with a control character the loader never stores
# as an id): filtering on it alone matches nothing. Used when a request's accounts and the
# scope do not meet, because an empty tuple would mean "all accounts".
NO_ACCOUNT = "\x1f(no account in scope)"


@dataclass(frozen=True)
class Scope:
    """The accounts a viewer may see; `accounts=None` means every account (admins, executives, local mode)."""

    accounts: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.accounts is None

    def allows(self, account_id: str) -> bool:
        return self.accounts is None or account_id in self.accounts

    def keep(self, account_ids: Iterable[str]) -> tuple[str, ...]:
        """The ids of `account_ids` inside the scope, in their order."""
        return tuple(a for a in account_ids if self.allows(a))

    def restrict(self, filters: Filters) -> Filters:
        """`filters` narrowed to the scope: the chosen accounts inside it, or all of its accounts when none is chosen.

        A choice wholly outside the scope (or an empty scope) becomes `NO_ACCOUNT`, which
        matches no row, never "all accounts".
        """
        if self.accounts is None:
            return filters
        chosen = self.keep(filters.accounts) if filters.accounts else tuple(sorted(self.accounts))
        return dataclasses.replace(filters, accounts=chosen or (NO_ACCOUNT,))


def advisor_book(advisor: str, account_advisors: Mapping[str, str | None]) -> frozenset[str]:
    """The accounts whose advisor is `advisor` (names compared exactly, as stored in accounts.advisor)."""
    return frozenset(a for a, name in account_advisors.items() if name == advisor)
