"""The global filters (period, package, severity, region, advisor, account) as SQL.

One definition serves every metric and page: `Filters.where()` gives a WHERE fragment
over `case_facts` columns plus its parameters, and the period is cut in the reporting
timezone on whichever instant a metric counts by (an obligation's `start_at`, a case's
`opened_at`, an escalation's instant). `Filters.previous()` is the one previous-period rule
every delta uses; PERIOD_GRAINS the grains every trend offers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The period grains every trend offers (local dates in the reporting timezone; weeks are ISO weeks).
PERIOD_GRAINS = ("day", "week", "month", "quarter")

# The one previous-period rule, in words (docs/metrics.md and the pages' help show it).
PREVIOUS_PERIOD_RULE = (
    "A period of whole calendar months compares with as many whole months just before it "
    "(Q3 = Jul 1..Sep 30 with Apr 1..Jun 30, March with February); any other period with as many days "
    "just before it (ISO week 10 with week 9); an open-ended period has no previous period."
)


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the view to; empty tuples and None mean "all"."""

    start: dt.date | None = None  # first local date of the period (reporting timezone), inclusive
    end: dt.date | None = None  # last local date, inclusive
    packages: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    advisors: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    def where(
        self,
        facts: str = "f",
        instant: str | None = None,
        timezone: str = "UTC",
        severity: str | None = None,
        local_day: str | None = None,
    ) -> tuple[str, list[object]]:
        """SQL condition and parameters.

        Args:
            facts: alias of the case_facts relation (account, region, advisor, package).
            instant: SQL expression of the instant the period applies to; None ignores the period.
            timezone: the reporting timezone the period's dates are cut in.
            severity: SQL expression of the severity to filter on (default: the case's current one).
            local_day: instead of `instant`, SQL of a date already local to the reporting timezone
                (pre-aggregated tables keep one); the period then compares dates.

        """
        parts: list[str] = ["true"]
        params: list[object] = []
        for values, column in (
            (self.packages, f"{facts}.package"),
            (self.regions, f"{facts}.region"),
            (self.advisors, f"{facts}.advisor"),
            (self.accounts, f"{facts}.account_id"),
        ):
            if values:
                parts.append(f"list_contains(?, {column})")
                params.append(list(values))
        if self.severities:
            parts.append(f"list_contains(?, {severity or facts + '.severity'})")
            params.append([int(s) for s in self.severities])
        if local_day is not None:
            if self.start is not None:
                parts.append(f"{local_day} >= ?")
                params.append(self.start)
            if self.end is not None:
                parts.append(f"{local_day} <= ?")
                params.append(self.end)
        # The period as UTC bounds: local midnights of the first day and of the day after the
        # last (a comparison on the stored instant, ~20x faster than converting every row).
        if instant is not None and self.start is not None:
            parts.append(f"{instant} >= ?")
            params.append(local_midnight(self.start, timezone))
        if instant is not None and self.end is not None:
            parts.append(f"{instant} < ?")
            params.append(local_midnight(self.end + dt.timedelta(days=1), timezone))
        return " and ".join(parts), params

    def previous(self) -> Filters | None:
        """The same filters over the period just before this one; None when the period is open-ended.

        The one previous-period rule of every delta (PREVIOUS_PERIOD_RULE): a period of
        whole calendar months steps back as many whole months (Q3 -> Q2, March -> February,
        whatever the months' lengths); any other period steps back its length in days.
        """
        start, end = self.start, self.end
        if start is None or end is None:
            return None
        if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
            months = (end.year - start.year) * 12 + end.month - start.month + 1
            previous_start = _shift_months(start, -months)
        else:
            previous_start = start - (end - start + dt.timedelta(days=1))
        return dataclasses.replace(self, start=previous_start, end=start - dt.timedelta(days=1))


def with_account(table: str) -> str:
    """`table` with its account's own attributes (name, region, advisor), as the alias `f` `Filters.where` reads.

    For tables that carry only the account id: the per-day cubes, the re-classifications.
    """
    return f"""(
        select t.*, a.name as account_name, a.region, a.advisor
        from {table} t join accounts a using (account_id)
    ) f"""


def previous_period(filters: Filters) -> Filters | None:
    """`filters.previous()`: the same filters over the previous period (see PREVIOUS_PERIOD_RULE)."""
    return filters.previous()


def _shift_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """00:00 of `day` in `timezone` as an aware UTC instant (a DST gap moves it forward)."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


def day_period_label(day: str, grain: str) -> str:
    """`period_label` for a column that already holds the local date (no timezone parameter)."""
    formats = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}
    if grain in formats:
        return f"strftime({day}, '{formats[grain]}')"
    if grain == "quarter":
        return f"(strftime({day}, '%Y') || '-Q' || quarter({day}))"
    raise ValueError(f"period grain must be one of {PERIOD_GRAINS}, got {grain!r}")


def period_label(instant: str, grain: str, timezone_param: str = "?") -> str:
    """SQL giving the period an instant falls in, as a sortable label, in the reporting timezone.

    The label holds one `?` per use of the timezone (quarters use it twice): bind the
    reporting timezone `label.count("?")` times, before the other parameters.

    day '2026-03-09', ISO week '2026-W11', month '2026-03', quarter '2026-Q1'.
    """
    return day_period_label(f"timezone({timezone_param}, {instant})", grain)
