"""Seeded sample dataset: a realistic support log for demos, tests and benchmarks.

One generator makes the bundled sample data and the test fixtures alike, so every
page and metric is exercised on data with the shape of a real vendor's log: business-
hour arrival peaks, quiet weekends, package changes between yearly terms, pauses,
reopens, re-classified severities, escalations, non-authorized contacts, suspensions,
delivered service days and two bad weeks where response targets slip.

Everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order, so the
same seed gives byte-identical files. Python loops run per account, per calendar or
per message position within a case, never per case: a million cases take minutes.
Response times are drawn in *clock* seconds (business or 24x7, as the package's SLA
clock runs) and mapped to real instants through each region's working intervals, so
first responses mostly meet their targets on the same clock the SLA engine uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from metrics.engine.calendars import working_intervals
from metrics.storage.config import ALWAYS, CalendarSpec, Config, load_config

TABLES = ("accounts", "subscriptions", "cases", "responses", "case_changes", "contacts", "standing", "engagements")
FORMATS = ("csv", "parquet")
REPORTING_TIMEZONE = "America/Denver"
AT_RISK_FRACTION = 0.75
DAY = 86_400
HOUR = 3_600
_UTC = pa.timestamp("s", tz="UTC")
_CSV_INSTANT = "%Y-%m-%dT%H:%M:%SZ"

# ---------------------------------------------------------------- the book of business
# (package, accounts holding it at `end`): every tier present, more in the middle.
PACKAGE_MIX = (("Standard", 9), ("Bronze", 8), ("Silver", 12), ("Gold", 14), ("Platinum", 10), ("Premier", 7))
REGION_MIX = (("americas", 32), ("emea", 18), ("japan", 10))
# Relative case volume of an account by package rank (index 0: no package).
PACKAGE_VOLUME = np.array([0.5, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8])
ADVISOR_RANK = 4  # Gold and above have a named advisor
ADVISORS = {
    "americas": ("Dana Whitfield", "Marcus Ortega", "Priya Raman"),
    "emea": ("Sophie Lambert", "Tom Achterberg"),
    "japan": ("Kenji Mori",),
}
AGENTS = {
    "americas": (
        "Alex Turner", "Brooke Hayes", "Carlos Mendez", "Dina Patel",
        "Evan Brooks", "Fatima Khan", "Grace Liu", "Henry Walsh",
    ),
    "emea": ("Ines Duarte", "Jonas Becker", "Katie O'Neill", "Lars Nilsson", "Maya Cohen", "Nadia Rossi"),
    "japan": ("Aiko Tanaka", "Daisuke Ito", "Haruka Sato", "Yuto Nakamura"),
}
COMPANY_WORDS = (
    "Northwind", "Bluepeak", "Cedar", "Harbor", "Ironbridge", "Juniper", "Keystone", "Lumen", "Meridian",
    "Nimbus", "Orchard", "Pinecrest", "Quarry", "Redwood", "Summit", "Tidewater", "Upland", "Vantage",
    "Willow", "Zenith", "Aurora", "Beacon", "Cobalt", "Delta", "Evergreen", "Falcon", "Granite", "Helix",
)
COMPANY_KINDS = ("Logistics", "Health", "Foods", "Energy", "Bank", "Retail", "Analytics", "Manufacturing",
                 "Insurance", "Media")
COMPANY_SUFFIX = {"americas": "Inc.", "emea": "Ltd", "japan": "K.K."}
EMAIL_TLD = {"americas": "com", "emea": "co.uk", "japan": "co.jp"}
FIRST_NAMES = {
    "western": ("Ava", "Ben", "Chloe", "David", "Emma", "Felix", "Hannah", "Isaac", "Julia", "Kevin",
                "Laura", "Mateo", "Nora", "Oscar", "Paula", "Ryan", "Sara", "Victor", "Wendy", "Zoe"),
    "japanese": ("Akira", "Emi", "Hiroshi", "Kaori", "Kenta", "Mai", "Naoki", "Rina", "Shota", "Yui"),
}
LAST_NAMES = {
    "western": ("Adams", "Baker", "Clarke", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Jensen",
                "Kowalski", "Lopez", "Martin", "Novak", "Olsen", "Price", "Reyes", "Schmidt", "Taylor"),
    "japanese": ("Abe", "Fujita", "Hayashi", "Inoue", "Kato", "Kimura", "Matsumoto", "Ogawa", "Saito", "Yamada"),
}
PRODUCT_AREAS = {
    "Reporting": ("Report export times out", "Scheduled report not delivered", "Wrong totals in summary report",
                  "Chart does not render", "Report filter ignores date range"),
    "Integrations": ("Webhook deliveries failing", "CRM sync stopped", "Duplicate records after sync",
                     "OAuth token refresh error", "Connector setup question"),
    "Authentication": ("SSO login loop", "Users locked out after password reset", "MFA codes rejected",
                       "SAML certificate rotation", "Session expires too quickly"),
    "Data import": ("CSV import rejects valid rows", "Bulk import very slow", "Encoding problem in imported names",
                    "Import job stuck in queue", "Request: data import for new region"),
    "Performance": ("Dashboard slow to load", "Search latency spikes", "Timeouts during peak hours",
                    "Batch job runs much longer than usual"),
    "API": ("Rate limit reached unexpectedly", "API returns 500 on update", "Pagination skips records",
            "Question about API versioning"),
    "Billing": ("Invoice does not match usage", "Change billing contact", "License count question"),
    "Configuration": ("How to configure approval workflow", "Custom field not visible", "Feature activation request",
                      "Notification rules not firing", "Role permissions question"),
    "Mobile": ("Mobile app crashes on start", "Push notifications missing", "Offline mode sync conflict"),
    "Installation": ("Upgrade to new release fails", "Agent install on new server", "Certificate error after upgrade"),
}
AREA_WEIGHTS = np.array([0.14, 0.13, 0.10, 0.10, 0.11, 0.10, 0.05, 0.15, 0.06, 0.06])
ENGAGEMENT_NOTES = {
    "service_day": ("Onsite health check", "Architecture review", "Upgrade planning workshop",
                    "Quarterly business review", "Performance tuning session", "Data model review"),
    "training_session": ("Admin training: reporting", "Private session: integrations", "Power-user workshop",
                         "New-hire onboarding", "API training", "Dashboard design session"),
}

# ---------------------------------------------------------------- case behaviour
SEVERITY_P = np.array([0.03, 0.25, 0.72])
CHANNELS = ("phone", "email", "web", "chat")
# Channel mix by package rank (index 0: no package). Standard has no phone support, yet some call anyway.
CHANNEL_P = np.array([
    [0.03, 0.47, 0.38, 0.12],
    [0.03, 0.47, 0.38, 0.12],
    [0.18, 0.40, 0.30, 0.12],
    [0.20, 0.38, 0.30, 0.12],
    [0.25, 0.35, 0.28, 0.12],
    [0.28, 0.32, 0.26, 0.14],
    [0.32, 0.30, 0.24, 0.14],
])
# A prioritized development ticket is raised for ~2% of cases, mostly on the upper tiers.
DEV_TICKET_P = np.array([0.002, 0.002, 0.004, 0.008, 0.015, 0.026, 0.045])
# Untargeted packages (and cases outside every term) are still answered, just more slowly.
FALLBACK_INITIAL_HOURS = {1: 8.0, 2: 24.0, 3: 36.0}
FALLBACK_FOLLOW_UP_HOURS = {1: 48.0, 2: 96.0, 3: 96.0}
WEEKDAY_WEIGHT = np.array([1.05, 1.0, 1.0, 0.97, 0.85, 0.12, 0.10])  # Monday first
HOLIDAY_WEIGHT = 0.2
GAP_WEIGHT = 0.08  # a few cases arrive between two terms, where no package is in force
NON_AUTHORIZED_P = 0.035
PAUSE_P = 0.15
REOPEN_P = 0.02
SEVERITY_CHANGE_P = 0.05
ESCALATION_P = 0.03
NOTE_P = 0.03
SLOW_WEEK_FACTOR = 4.0
MAX_RESPONSES = 30
# New severity given the current one, for a re-classification (both directions).
SEVERITY_CHANGE = {1: ((2, 3), (0.7, 0.3)), 2: ((1, 3), (0.35, 0.65)), 3: ((1, 2), (0.15, 0.85))}
CHANGE_VALUES = ("1", "2", "3", "open", "pending_customer", "closed")
FIELDS = ("severity", "status", "escalation")


@dataclass
class _Account:
    """One subscriber and everything drawn for it (a few dozen exist: plain Python is fine)."""

    account_id: str
    name: str
    region: str
    size: float
    terms: list[tuple[dt.date, dt.date, str]] = field(default_factory=list)  # (start, end inclusive, package)
    advisor: str | None = None
    usage: float = 1.0  # share of entitled service days and trainings actually taken


@dataclass(frozen=True)
class _WorkClock:
    """A business calendar as sorted UTC working intervals with running totals.

    Elapsed business time is a difference of running totals and "t plus w business
    seconds" a binary search on them (the dbt_zendesk approach), which keeps every
    response-time draw vectorised.
    """

    starts: np.ndarray  # interval starts, UTC epoch seconds
    ends: np.ndarray
    before: np.ndarray  # working seconds before each interval
    through: np.ndarray  # working seconds up to each interval's end

    def work_at(self, t: np.ndarray) -> np.ndarray:
        """Working seconds from the first interval up to each instant."""
        j = np.minimum(np.searchsorted(self.ends, t, side="right"), len(self.ends) - 1)
        return np.asarray(self.before[j] + np.clip(t - self.starts[j], 0, None))

    def advance(self, t: np.ndarray, work: np.ndarray) -> np.ndarray:
        """The earliest instant at which `work` business seconds have run since `t`."""
        target = self.work_at(t) + work
        j = np.minimum(np.searchsorted(self.through, target, side="left"), len(self.ends) - 1)
        return np.asarray(self.starts[j] + (target - self.before[j]))


@dataclass(frozen=True)
class _Window:
    """The sample's two years, and the instant the log was cut (end of `end` in reporting time)."""

    first: dt.date
    last: dt.date
    cutoff: int  # UTC epoch seconds, inclusive


@dataclass(frozen=True)
class _SlowWeeks:
    """The two ISO weeks where responses lag: labels and UTC bounds [start, end)."""

    labels: tuple[str, str]
    starts: np.ndarray
    ends: np.ndarray

    def holds(self, t: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(t), dtype=bool)
        for start, end in zip(self.starts, self.ends, strict=True):
            hit |= (t >= start) & (t < end)
        return hit


# ---------------------------------------------------------------- entry point
def generate_sample(
    out: Path,
    seed: int = 42,
    cases: int = 20_000,
    fmt: str = "csv",
    end: dt.date = dt.date(2026, 11, 27),
) -> dict[str, int]:
    """Write a seeded, realistic dataset folder (one file per contract table + config.toml).

    Returns the row count written per table. Files of a contract table in another
    format (e.g. ``cases.csv`` when writing Parquet) are removed, so the folder never
    holds two versions of one table.

    Args:
        out: the dataset folder; created if missing.
        seed: same seed, same bytes.
        cases: rows of the cases table, spread over the two years.
        fmt: ``"csv"`` (ISO 8601 ``Z`` instants) or ``"parquet"`` (UTC timestamps, zstd).
        end: last day of the sample; cases still running at its end stay open.

    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    window = _sample_window(end)
    slow = _pick_slow_weeks(rng, window)
    config = _write_config(out, seed, cases, window, slow)
    regions = [name for name, _ in REGION_MIX]
    # Clocks run well past the cut: an answer drawn after it is dropped, but must be drawn.
    first, last = window.first - dt.timedelta(days=7), window.last + dt.timedelta(days=400)
    clocks = [_work_clock(config.calendars[r], first, last) for r in regions]

    # The book of business is drawn before the cases, so it is the same whatever `cases` is.
    accounts = _plan_accounts(rng, config, window)
    contacts = _plan_contacts(rng, accounts, config)
    standing = _standing_table(rng, accounts, config, window)
    engagements = _engagements_table(rng, accounts, config, window)
    case_data = _draw_cases(rng, accounts, contacts, config, window, cases)
    talk = _draw_conversations(rng, case_data, config, clocks, window, slow)

    tables = {
        "accounts": _accounts_table(accounts),
        "subscriptions": _subscriptions_table(accounts),
        "cases": _cases_table(case_data, talk, accounts, contacts),
        "responses": _responses_table(rng, case_data, talk, contacts),
        "case_changes": _changes_table(rng, case_data, talk),
        "contacts": contacts.table,
        "standing": standing,
        "engagements": engagements,
    }
    for name, table in tables.items():
        _write_table(out, name, table, fmt)
    return {name: table.num_rows for name, table in tables.items()}


def _sample_window(end: dt.date) -> _Window:
    """The two years ending at `end`, cut at the end of `end` in the reporting timezone."""
    first = _add_years(end, -2) + dt.timedelta(days=1)
    next_midnight = np.array([_epoch_day(end + dt.timedelta(days=1)) * DAY])
    cutoff = int(_local_to_utc(next_midnight, REPORTING_TIMEZONE)[0]) - 1
    return _Window(first, end, cutoff)


def slow_weeks(seed: int = 42, end: dt.date = dt.date(2026, 11, 27)) -> tuple[str, str]:
    """The two ISO weeks (``YYYY-Www``) in which the sample's responses lag, for tests and demos."""
    return _pick_slow_weeks(np.random.default_rng(seed), _sample_window(end)).labels


# ---------------------------------------------------------------- time helpers
def _epoch_day(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def _add_years(day: dt.date, years: int) -> dt.date:
    """Same day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _local_to_utc(local_seconds: np.ndarray, timezone: str) -> np.ndarray:
    """Local wall-clock epoch seconds -> UTC epoch seconds, as the SLA clocks resolve them.

    A time in a spring-forward gap moves forward by the gap; an ambiguous fall-back
    time takes its first occurrence (``ambiguous=True`` means "the DST one").
    """
    if len(local_seconds) == 0:
        return np.empty(0, dtype=np.int64)
    index = pd.DatetimeIndex(np.asarray(local_seconds, dtype=np.int64).astype("datetime64[s]"))
    aware = index.tz_localize(timezone, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward")
    return np.asarray(aware.as_unit("s").asi8, dtype=np.int64)


def _weekday(epoch_days: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (epoch_days + 3) % 7


def _holidays(spec: CalendarSpec, first: dt.date, last: dt.date) -> np.ndarray:
    """A calendar's holidays as sorted epoch days (sorted: set order is not reproducible)."""
    return np.array(sorted(_epoch_day(d) for d in spec.holiday_dates(first.year, last.year)), dtype=np.int64)


def _work_clock(spec: CalendarSpec, first: dt.date, last: dt.date) -> _WorkClock:
    """A business calendar's working intervals between two local dates, as the SLA engine builds them."""
    intervals = np.array(working_intervals(spec, first, last), dtype=np.int64).reshape(-1, 2)
    starts, ends = intervals[:, 0], intervals[:, 1]
    through = np.cumsum(ends - starts)
    return _WorkClock(starts, ends, through - (ends - starts), through)


def _advance(clocks: list[_WorkClock], kinds: np.ndarray, t: np.ndarray, work: np.ndarray) -> np.ndarray:
    """`t` plus `work` clock seconds; kind -1 is 24x7, otherwise an index into `clocks`."""
    out: np.ndarray = t + work
    for k, clock in enumerate(clocks):
        mask = kinds == k
        if mask.any():
            out[mask] = clock.advance(t[mask], work[mask])
    return out


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def _pick_slow_weeks(rng: np.random.Generator, window: _Window) -> _SlowWeeks:
    """Two ISO weeks (one per year of the sample) where the support team falls behind.

    Weeks run from Monday 00:00 in the reporting timezone, as the dashboard cuts them,
    so its weekly trend shows two clear dips.
    """
    first_monday = window.first + dt.timedelta(days=(7 - window.first.weekday()) % 7)
    mondays = [first_monday + dt.timedelta(weeks=w) for w in range(((window.last - first_monday).days // 7) + 1)]
    half = len(mondays) // 2
    picks = [
        mondays[int(rng.integers(8, max(9, half - 4)))],
        mondays[int(rng.integers(half + 4, max(half + 5, len(mondays) - 6)))],
    ]
    labels = tuple(f"{m.isocalendar().year}-W{m.isocalendar().week:02d}" for m in picks)
    local = np.array([[_epoch_day(m) * DAY, _epoch_day(m + dt.timedelta(days=7)) * DAY] for m in picks])
    starts = _local_to_utc(local[:, 0], REPORTING_TIMEZONE)
    ends = _local_to_utc(local[:, 1], REPORTING_TIMEZONE)
    return _SlowWeeks((labels[0], labels[1]), starts, ends)


# ---------------------------------------------------------------- config
def _toml_inline(table: dict[str, str]) -> str:
    return "{ " + ", ".join(f'{k} = "{v}"' for k, v in table.items()) + " }"


def _write_config(out: Path, seed: int, cases: int, window: _Window, slow: _SlowWeeks) -> Config:
    """Write config.toml (default hours, country holidays plus Christmas Eve in americas) and load it back.

    Loading it back through `load_config` proves it valid and gives the generator the
    very calendars and targets the SLA engine will use on this folder.
    """
    defaults = load_config(None).raw["calendars"]
    eves = ", ".join(f'"{y}-12-24"' for y in range(window.first.year, window.last.year + 1))
    countries = {"americas": "US", "emea": "GB", "japan": "JP"}
    lines = [
        f"# Sample dataset from metrics.tools.sample: seed {seed}, {cases} cases,",
        f"# {window.first.isoformat()} to {window.last.isoformat()}.",
        f"# Responses lag in the ISO weeks {slow.labels[0]} and {slow.labels[1]}.",
        "",
        "[reporting]",
        f'timezone = "{REPORTING_TIMEZONE}"',
        f"at_risk_fraction = {AT_RISK_FRACTION}",
    ]
    for region, country in countries.items():
        add = eves if region == "americas" else ""
        lines += [
            "",
            f"[calendars.{region}]",
            f'timezone = "{defaults[region]["timezone"]}"',
            f"hours = {_toml_inline(defaults[region]['hours'])}",
            f'holidays = {{ country = "{country}", add = [{add}], remove = [] }}',
        ]
    (out / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(out)


# ---------------------------------------------------------------- accounts, terms, contacts
def _plan_accounts(rng: np.random.Generator, config: Config, window: _Window) -> list[_Account]:
    """About 60 subscribers over every package and region, with yearly terms and advisors."""
    packages = [name for name, count in PACKAGE_MIX for _ in range(count)]
    packages = [packages[i] for i in rng.permutation(len(packages))]
    regions = [name for name, count in REGION_MIX for _ in range(count)]
    regions = [regions[i] for i in rng.permutation(len(regions))]
    combos = [(a, b) for a in COMPANY_WORDS for b in COMPANY_KINDS]
    picks = rng.choice(len(combos), size=len(packages), replace=False)
    sizes = rng.lognormal(0.0, 0.5, len(packages))
    usage_profile = rng.choice(3, size=len(packages), p=[0.25, 0.55, 0.20])
    usage_low = np.array([0.2, 0.75, 1.1])[usage_profile]
    usage = usage_low + rng.random(len(packages)) * np.array([0.4, 0.25, 0.4])[usage_profile]
    accounts = []
    for i, (package, region) in enumerate(zip(packages, regions, strict=True)):
        word, kind = combos[picks[i]]
        account = _Account(
            account_id=f"ACC-{i + 1:04d}",
            name=f"{word} {kind} {COMPANY_SUFFIX[region]}",
            region=region,
            size=float(sizes[i]) * PACKAGE_VOLUME[config.packages[package].rank],
            usage=float(usage[i]),
        )
        account.terms = _plan_terms(rng, package, window)
        accounts.append(account)
    _assign_advisors(accounts, config)
    return accounts


def _plan_terms(rng: np.random.Generator, package: str, window: _Window) -> list[tuple[dt.date, dt.date, str]]:
    """1-3 consecutive yearly terms, built backwards from one that holds `end`.

    Some accounts changed package at a renewal (mostly upgrades over time) and some
    renewed a few weeks late, leaving a gap in which no package is in force.
    """
    names = [name for name, _ in PACKAGE_MIX]  # in tier order
    n_terms = int(rng.choice([1, 2, 3], p=[0.1, 0.5, 0.4]))
    back = int(rng.integers(30, 330)) if n_terms == 1 else int(rng.integers(0, 365))
    start = window.last - dt.timedelta(days=back)
    terms = [(start, _add_years(start, 1) - dt.timedelta(days=1), package)]
    for _ in range(n_terms - 1):
        gap = int(rng.integers(10, 43)) if rng.random() < 0.2 else 0
        prev_end = terms[0][0] - dt.timedelta(days=1 + gap)
        if prev_end < window.first:
            break
        prev_start = _add_years(prev_end + dt.timedelta(days=1), -1)
        step = int(rng.choice([-1, 0, 1], p=[0.17, 0.75, 0.08]))  # mostly upgrades over time
        prev_package = names[min(max(names.index(terms[0][2]) + step, 0), len(names) - 1)]
        terms.insert(0, (prev_start, prev_end, prev_package))
    return terms


def _assign_advisors(accounts: list[_Account], config: Config) -> None:
    """Round-robin within a region, so each advisor has several Gold-and-above accounts."""
    turn = dict.fromkeys(ADVISORS, 0)
    for account in accounts:
        if config.packages[account.terms[-1][2]].rank >= ADVISOR_RANK:
            names = ADVISORS[account.region]
            account.advisor = names[turn[account.region] % len(names)]
            turn[account.region] += 1


@dataclass(frozen=True)
class _Contacts:
    """The contacts table plus per-account offsets, to pick a case's contact vectorised."""

    table: pa.Table
    ids: pa.Array
    auth_offset: np.ndarray
    auth_count: np.ndarray
    other_offset: np.ndarray
    other_count: np.ndarray


def _plan_contacts(rng: np.random.Generator, accounts: list[_Account], config: Config) -> _Contacts:
    """Authorized contacts up to the allotment (some accounts designate more) plus a few others."""
    rows: dict[str, list[object]] = {k: [] for k in ("contact_id", "account_id", "name", "email", "authorized",
                                             "authorized_from", "authorized_to")}
    n = len(accounts)
    auth_offset, auth_count = np.zeros(n, np.int64), np.zeros(n, np.int64)
    other_offset, other_count = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for i, account in enumerate(accounts):
        allot = config.packages[account.terms[-1][2]].authorized_contacts
        if rng.random() < 0.2:
            n_auth = allot + int(rng.integers(1, 4))  # designates more than the package allots
        elif allot >= 10:
            n_auth = int(rng.integers(allot // 2, allot + 1))
        else:
            n_auth = max(1, allot - int(rng.random() < 0.2))
        n_other = int(rng.integers(1, 5))
        style = "japanese" if account.region == "japan" else "western"
        firsts, lasts = FIRST_NAMES[style], LAST_NAMES[style]
        people = rng.choice(len(firsts) * len(lasts), size=n_auth + n_other, replace=False)
        domain = f"{account.name.split()[0].lower()}-{account.name.split()[1].lower()}.{EMAIL_TLD[account.region]}"
        auth_offset[i], auth_count[i] = len(rows["contact_id"]), n_auth
        other_offset[i], other_count[i] = len(rows["contact_id"]) + n_auth, n_other
        for j, person in enumerate(people):
            first, last = firsts[person // len(lasts)], lasts[person % len(lasts)]
            authorized = j < n_auth
            rows["contact_id"].append(f"CT-{len(rows['contact_id']) + 1:05d}")
            rows["account_id"].append(account.account_id)
            rows["name"].append(f"{first} {last}")
            rows["email"].append(f"{first}.{last}@{domain}".lower())
            rows["authorized"].append(authorized)
            rows["authorized_from"].append(account.terms[0][0] if authorized else None)
            rows["authorized_to"].append(None)
    schema = pa.schema([("contact_id", pa.string()), ("account_id", pa.string()), ("name", pa.string()),
                        ("email", pa.string()), ("authorized", pa.bool_()), ("authorized_from", pa.date32()),
                        ("authorized_to", pa.date32())])
    table = pa.Table.from_pydict(rows, schema=schema)
    return _Contacts(table, table["contact_id"].combine_chunks(), auth_offset, auth_count, other_offset, other_count)


# ---------------------------------------------------------------- cases
@dataclass
class _Cases:
    """Per-case arrays, sorted by opening instant (case ids follow that order)."""

    account: np.ndarray
    region: np.ndarray
    rank: np.ndarray  # package rank in force at opening, 0 = none
    opened: np.ndarray
    severity: np.ndarray
    channel: np.ndarray
    contact: np.ndarray
    owner: np.ndarray  # index into _agent_names()
    area: np.ndarray
    subject: np.ndarray  # index into _subjects()
    dev_ticket: np.ndarray


def _agent_names() -> list[str]:
    return [name for region, _ in REGION_MIX for name in AGENTS[region]]


def _agent_ranges() -> tuple[np.ndarray, np.ndarray]:
    """Offset and count of each region's agents in `_agent_names()`."""
    counts = np.array([len(AGENTS[r]) for r, _ in REGION_MIX])
    return np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def _subjects() -> tuple[list[str], np.ndarray, np.ndarray]:
    """All subjects flattened, with each product area's offset and count."""
    flat = [s for subjects in PRODUCT_AREAS.values() for s in subjects]
    counts = np.array([len(s) for s in PRODUCT_AREAS.values()])
    return flat, np.concatenate([[0], np.cumsum(counts)[:-1]]), counts


def _account_days(
    account: _Account, config: Config, holidays: np.ndarray, window: _Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local days on which the account may open cases, their arrival weight and package rank."""
    first = max(window.first, account.terms[0][0])
    days = np.arange(_epoch_day(first), _epoch_day(window.last) + 1, dtype=np.int64)
    rank = np.zeros(len(days), dtype=np.int64)
    for start, stop, package in account.terms:
        rank[(days >= _epoch_day(start)) & (days <= _epoch_day(stop))] = config.packages[package].rank
    span = max(1, _epoch_day(window.last) - _epoch_day(window.first))
    growth = 0.85 + 0.3 * (days - _epoch_day(window.first)) / span  # the business grows a little
    weight = WEEKDAY_WEIGHT[_weekday(days)] * growth
    weight *= np.where(np.isin(days, holidays), HOLIDAY_WEIGHT, 1.0) * np.where(rank == 0, GAP_WEIGHT, 1.0)
    return days, weight, rank


def _draw_time_of_day(rng: np.random.Generator, weekend: np.ndarray) -> np.ndarray:
    """Seconds after local midnight: morning and afternoon peaks on weekdays, flatter at weekends."""
    n = len(weekend)
    u = rng.random(n)
    morning = rng.normal(10.0, 1.6, n)
    afternoon = rng.normal(14.5, 1.8, n)
    anytime = rng.random(n) * 24
    weekend_day = rng.normal(13.0, 4.0, n)
    hours = np.where(u < 0.45, morning, np.where(u < 0.85, afternoon, anytime))
    hours = np.where(weekend, np.where(u < 0.5, weekend_day, anytime), hours)
    return np.asarray(np.floor(hours * HOUR).astype(np.int64) % DAY)


def _draw_cases(
    rng: np.random.Generator,
    accounts: list[_Account],
    contacts: _Contacts,
    config: Config,
    window: _Window,
    n_cases: int,
) -> _Cases:
    """Case arrivals per account (local business-hour peaks) and their descriptive columns."""
    regions = [r for r, _ in REGION_MIX]
    holidays = {r: _holidays(config.calendars[r], window.first, window.last) for r in regions}
    plans = [_account_days(a, config, holidays[a.region], window) for a in accounts]
    expected = np.array([a.size * w.sum() for a, (_, w, _) in zip(accounts, plans, strict=True)])
    per_account = rng.multinomial(n_cases, expected / expected.sum())
    acc_parts, day_parts, rank_parts = [], [], []
    for i, ((days, weight, rank), n) in enumerate(zip(plans, per_account, strict=True)):
        pick = rng.choice(len(days), size=int(n), p=weight / weight.sum())
        acc_parts.append(np.full(int(n), i, dtype=np.int64))
        day_parts.append(days[pick])
        rank_parts.append(rank[pick])
    account = np.concatenate(acc_parts)
    day = np.concatenate(day_parts)
    rank = np.concatenate(rank_parts)
    region_of = np.array([regions.index(a.region) for a in accounts])
    region = region_of[account]
    local = day * DAY + _draw_time_of_day(rng, _weekday(day) >= 5)
    opened = np.empty(len(local), dtype=np.int64)
    for k, r in enumerate(regions):
        mask = region == k
        opened[mask] = _local_to_utc(local[mask], config.calendars[r].timezone)
    order = np.argsort(opened, kind="stable")
    account, region, rank, opened = account[order], region[order], rank[order], opened[order]
    n = len(opened)

    severity = rng.choice(np.array([1, 2, 3]), size=n, p=SEVERITY_P)
    channel = (rng.random(n)[:, None] > np.cumsum(CHANNEL_P, axis=1)[rank][:, :-1]).sum(axis=1)
    phone_ok = np.array([False] + [_rank_phone(config, r) for r in range(1, 7)])
    channel = np.where((severity == 1) & phone_ok[rank] & (rng.random(n) < 0.5), 0, channel)
    other = rng.random(n) < NON_AUTHORIZED_P
    u = rng.random(n)
    contact = np.where(
        other,
        contacts.other_offset[account] + np.floor(u * contacts.other_count[account]).astype(np.int64),
        contacts.auth_offset[account] + np.floor(u**1.6 * contacts.auth_count[account]).astype(np.int64),
    )
    agent_offset, agent_count = _agent_ranges()
    owner = agent_offset[region] + np.floor(rng.random(n) * agent_count[region]).astype(np.int64)
    _, subject_offset, subject_count = _subjects()
    area = rng.choice(len(PRODUCT_AREAS), size=n, p=AREA_WEIGHTS / AREA_WEIGHTS.sum())
    subject = subject_offset[area] + np.floor(rng.random(n) * subject_count[area]).astype(np.int64)
    dev_ticket = rng.random(n) < DEV_TICKET_P[rank]
    return _Cases(account, region, rank, opened, severity, channel, contact, owner, area, subject, dev_ticket)


def _rank_phone(config: Config, rank: int) -> bool:
    return any(p.phone_support for p in config.packages.values() if p.rank == rank)


# ---------------------------------------------------------------- conversations
@dataclass
class _Talk:
    """Responses (in case, then position order), closes and status pauses/reopens of every case."""

    resp_case: np.ndarray
    resp_pos: np.ndarray
    resp_at: np.ndarray
    closed: np.ndarray  # -1 while open at the cut
    life_end: np.ndarray  # closed_at, or the cut for open cases
    slow_first: np.ndarray  # the first response took longer than the initial target
    status_case: np.ndarray
    status_at: np.ndarray
    status_value: np.ndarray  # index into CHANGE_VALUES


def _target_tables(config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial and follow-up hours and a 24x7 flag, indexed [package rank, severity]."""
    initial = np.zeros((8, 4))
    follow = np.zeros((8, 4))
    always = np.zeros((8, 4), dtype=bool)
    for s in (1, 2, 3):
        initial[:, s], follow[:, s], always[:, s] = FALLBACK_INITIAL_HOURS[s], FALLBACK_FOLLOW_UP_HOURS[s], s == 1
    for package in config.packages.values():
        if 0 < package.rank < 8:
            for s in (1, 2, 3):
                initial[package.rank, s] = package.initial_hours.get(s, FALLBACK_INITIAL_HOURS[s])
                follow[package.rank, s] = package.follow_up_hours.get(s, FALLBACK_FOLLOW_UP_HOURS[s])
                always[package.rank, s] = package.clock.get(s) == ALWAYS
    return initial, follow, always


def _pick_gap(rng: np.random.Generator, n_resp: np.ndarray, p: float, needs: int) -> np.ndarray:
    """For about `p` of all cases, an agent position k (even) with at least `needs` messages from k on; else -1."""
    choices = (n_resp - needs) // 2 + 1  # even k with k + needs <= n_resp
    eligible = choices > 0
    share = eligible.mean() if len(n_resp) else 1.0
    hit = eligible & (rng.random(len(n_resp)) < min(1.0, p / max(share, 1e-9)))
    k = 2 * np.floor(rng.random(len(n_resp)) * np.maximum(choices, 1)).astype(np.int64)
    return np.where(hit, k, -1)


def _draw_conversations(
    rng: np.random.Generator,
    cases: _Cases,
    config: Config,
    clocks: list[_WorkClock],
    window: _Window,
    slow: _SlowWeeks,
) -> _Talk:
    """Alternate agent and customer messages, position by position across all cases at once.

    Agent delays are a fraction of the package's target in clock seconds (business
    hours or 24x7 as the SLA clock runs), so ~5-10% of first responses miss; in the two
    slow weeks the fraction is 4 times larger. A waiting-on-customer pause runs from
    just after an agent message to the customer's answer; a reopen closes the case
    after an agent message and reopens it on the customer's next one.
    """
    n = len(cases.opened)
    initial_h, follow_h, always = _target_tables(config)
    lam = rng.gamma(2.0, 2.0, n) * np.where(cases.severity == 1, 1.2, 1.0)
    n_resp = np.minimum(1 + rng.poisson(lam), MAX_RESPONSES)
    n_resp[rng.random(n) < 0.015] = 0  # duplicates and self-solved cases: closed without an answer
    reopen_k = _pick_gap(rng, n_resp, REOPEN_P, needs=3)
    pause_k = _pick_gap(rng, n_resp, PAUSE_P * 1.05, needs=2)
    pause_k[pause_k == reopen_k] = -1
    pause_delay = rng.integers(0, 601, n)
    close_delay = rng.integers(300, 7201, n)

    offsets = np.concatenate([[0], np.cumsum(n_resp)])
    at = np.empty(int(offsets[-1]), dtype=np.int64)
    prev = cases.opened.copy()
    slow_first = np.zeros(n, dtype=bool)
    channel_speed = np.array([0.25, 1.0, 1.0, 0.5])  # phone and chat are answered sooner
    for k in range(int(n_resp.max()) if n else 0):
        act = np.flatnonzero(n_resp > k)
        t = prev[act]
        m = len(act)
        if k % 2 == 0:
            sev, rank = cases.severity[act], cases.rank[act]
            if k == 0:
                hours = initial_h[rank, sev]
                f = _lognormal(rng, 0.36, 0.8, m) * channel_speed[cases.channel[act]]
            else:
                hours = follow_h[rank, sev]
                f = _lognormal(rng, 0.07, 0.9, m)
            f = np.where(slow.holds(t), f * SLOW_WEEK_FACTOR, f)
            if k == 0:
                slow_first[act] = f > 1
            work = np.clip(np.round(f * hours * HOUR), 60, hours * HOUR * 4).astype(np.int64)
            kinds = np.where(always[rank, sev], -1, cases.region[act])
            new = _advance(clocks, kinds, t, work)
        else:
            in_hours = rng.random(m) < 0.6
            work = np.clip(np.round(_lognormal(rng, 2.5 * HOUR, 1.1, m)), 60, 10 * DAY).astype(np.int64)
            real = np.clip(np.round(_lognormal(rng, 8 * HOUR, 1.3, m)), 60, 14 * DAY).astype(np.int64)
            kinds = np.where(in_hours, cases.region[act], -1)
            new = _advance(clocks, kinds, t, np.where(in_hours, work, real))
            long_wait = np.clip(np.round(_lognormal(rng, 2 * DAY, 0.8, m)), HOUR, 21 * DAY).astype(np.int64)
            paused = pause_k[act] == k - 1
            new = np.where(paused, t + pause_delay[act] + long_wait, new)
            reopened = reopen_k[act] == k - 1
            new = np.where(reopened, t + close_delay[act] + HOUR + long_wait, new)
        at[offsets[act] + k] = new
        prev[act] = new

    last_agent = n_resp % 2 == 1
    wait = np.where(
        n_resp == 0,
        _lognormal(rng, 2 * HOUR, 1.0, n),
        np.where(last_agent, _lognormal(rng, 20 * HOUR, 1.0, n), _lognormal(rng, 2 * HOUR, 1.0, n)),
    )
    closed = prev + np.clip(np.round(wait), 60, 30 * DAY).astype(np.int64)

    resp_case = np.repeat(np.arange(n), n_resp)
    resp_pos = np.arange(len(at)) - offsets[:-1][resp_case]
    status_case, status_at, status_value, reclosed = _status_rows(
        n, offsets, at, pause_k, pause_delay, reopen_k, close_delay, window.cutoff
    )
    # The log is cut at the end of `end`: later events have not happened yet.
    closed = np.where(closed <= window.cutoff, closed, reclosed)
    keep = at <= window.cutoff
    resp_case, resp_pos, at = resp_case[keep], resp_pos[keep], at[keep]
    life_end = np.where(closed >= 0, closed, window.cutoff)
    return _Talk(resp_case, resp_pos, at, closed, life_end, slow_first,
                 status_case, status_at, status_value)


def _status_rows(
    n: int,
    offsets: np.ndarray,
    at: np.ndarray,
    pause_k: np.ndarray,
    pause_delay: np.ndarray,
    reopen_k: np.ndarray,
    close_delay: np.ndarray,
    cutoff: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Status changes for pauses (pending_customer, open) and reopens (closed, open), cut at `cutoff`.

    Also returns, per case, the close instant to report when the log is cut after a
    reopen's close but before the customer reopened it (-1 otherwise).
    """
    paused = np.flatnonzero(pause_k >= 0)
    reopened = np.flatnonzero(reopen_k >= 0)
    pause_from = at[offsets[paused] + pause_k[paused]] + pause_delay[paused]
    pause_to = at[offsets[paused] + pause_k[paused] + 1]
    close_at = at[offsets[reopened] + reopen_k[reopened]] + close_delay[reopened]
    reopen_at = at[offsets[reopened] + reopen_k[reopened] + 1]
    value = {v: CHANGE_VALUES.index(v) for v in ("open", "pending_customer", "closed")}
    case = np.concatenate([paused, paused, reopened, reopened])
    when = np.concatenate([pause_from, pause_to, close_at, reopen_at])
    what = np.concatenate([
        np.full(len(paused), value["pending_customer"]), np.full(len(paused), value["open"]),
        np.full(len(reopened), value["closed"]), np.full(len(reopened), value["open"]),
    ])
    reclosed = np.full(n, -1, dtype=np.int64)
    still_closed = (close_at <= cutoff) & (reopen_at > cutoff)
    reclosed[reopened[still_closed]] = close_at[still_closed]
    keep = when <= cutoff
    return case[keep], when[keep], what[keep], reclosed


# ---------------------------------------------------------------- tables
def _ids(prefix: str, count: int, width: int) -> pa.Array:
    """'C' + zero-padded 1..count, built in Arrow (a million Python strings would be slow)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, count + 1)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _take(values: list[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """Strings by index from a small dictionary, vectorised; index -1 gives null."""
    dictionary = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return dictionary.take(pa.array(index, mask=index < 0, type=pa.int64()))


def _instants(seconds: np.ndarray) -> pa.Array:
    """UTC epoch seconds -> timezone-aware Arrow timestamps; -1 gives null."""
    return pa.array(seconds, mask=seconds < 0, type=pa.int64()).cast(_UTC)


def _accounts_table(accounts: list[_Account]) -> pa.Table:
    return pa.table({
        "account_id": [a.account_id for a in accounts],
        "name": [a.name for a in accounts],
        "region": [a.region for a in accounts],
        "advisor": pa.array([a.advisor for a in accounts], pa.string()),
    })


def _subscriptions_table(accounts: list[_Account]) -> pa.Table:
    rows = [(a.account_id, pkg, start, stop) for a in accounts for start, stop, pkg in a.terms]
    return pa.table({
        "account_id": [r[0] for r in rows],
        "package": [r[1] for r in rows],
        "start_date": pa.array([r[2] for r in rows], pa.date32()),
        "end_date": pa.array([r[3] for r in rows], pa.date32()),
    })


def _case_ids(n: int) -> pa.Array:
    return _ids("C", n, max(7, len(str(n))))


def _cases_table(cases: _Cases, talk: _Talk, accounts: list[_Account], contacts: _Contacts) -> pa.Table:
    subjects, _, _ = _subjects()
    return pa.table({
        "case_id": _case_ids(len(cases.opened)),
        "account_id": _take([a.account_id for a in accounts], cases.account),
        "opened_at": _instants(cases.opened),
        "severity": pa.array(cases.severity, pa.int64()),
        "contact_id": _take(contacts.ids, cases.contact),
        "channel": _take(list(CHANNELS), cases.channel),
        "subject": _take(subjects, cases.subject),
        "product_area": _take(list(PRODUCT_AREAS), cases.area),
        "owner": _take(_agent_names(), cases.owner),
        "closed_at": _instants(talk.closed),
        "development_ticket": pa.array(cases.dev_ticket, pa.bool_()),
    })


def _responses_table(rng: np.random.Generator, cases: _Cases, talk: _Talk, contacts: _Contacts) -> pa.Table:
    """Public messages plus ~3% internal notes, in time order with sequential response ids.

    A note sits between a message and the next event of its case, so it never falls
    before the opening or after the close.
    """
    case, pos, at = talk.resp_case, talk.resp_pos, talk.resp_at
    r = len(at)
    note = np.flatnonzero(rng.random(r) < NOTE_P)
    following = np.append(at[1:], 0)
    same_case = np.append(case[1:] == case[:-1], False)
    next_t = np.where(same_case, following, talk.life_end[case])[note]
    note_at = at[note] + np.minimum(rng.integers(60, 3601, len(note)), next_t - at[note])

    is_agent = pos % 2 == 0
    agent_offset, agent_count = _agent_ranges()
    region = cases.region[case]
    other_agent = agent_offset[region] + np.floor(rng.random(r) * agent_count[region]).astype(np.int64)
    agent = np.where(rng.random(r) < 0.8, cases.owner[case], other_agent)
    n_agents = len(_agent_names())
    author = np.where(is_agent, agent, n_agents + cases.contact[case])
    channel = np.where(rng.random(r) < 0.7, cases.channel[case], CHANNELS.index("email"))

    all_case = np.concatenate([case, case[note]])
    all_at = np.concatenate([at, note_at])
    all_order = np.concatenate([2 * pos, 2 * pos[note] + 1])
    all_agent = np.concatenate([is_agent, np.ones(len(note), dtype=bool)])
    all_author = np.concatenate([author, cases.owner[case[note]]])
    all_channel = np.concatenate([channel, np.full(len(note), -1)])
    public = np.concatenate([np.ones(r, dtype=bool), np.zeros(len(note), dtype=bool)])
    order = np.lexsort((all_order, all_case, all_at))
    authors = pa.concat_arrays([pa.array(_agent_names(), pa.string()), contacts.ids])
    total = len(order)
    return pa.table({
        "case_id": _case_ids(len(cases.opened)).take(pa.array(all_case[order])),
        "at": _instants(all_at[order]),
        "author_type": _take(["customer", "agent"], all_agent[order].astype(np.int64)),
        "response_id": _ids("R", total, max(8, len(str(total)))),
        "author": authors.take(pa.array(all_author[order])),
        "channel": _take(list(CHANNELS), all_channel[order]),
        "public": pa.array(public[order], pa.bool_()),
    })


def _changes_table(rng: np.random.Generator, cases: _Cases, talk: _Talk) -> pa.Table:
    """Status pauses and reopens, severity re-classifications (~5%) and recorded escalations (~3%).

    Escalations favour severe cases and cases whose first answer was late; a quarter
    of them go on to level 2.
    """
    n = len(cases.opened)
    opened, life = cases.opened, talk.life_end - cases.opened

    changed = np.flatnonzero(rng.random(n) < SEVERITY_CHANGE_P)
    change_at = opened[changed] + np.floor(rng.uniform(0.02, 0.9, len(changed)) * life[changed]).astype(np.int64)
    up_or_down = rng.random(len(changed))
    new_sev = np.zeros(len(changed), dtype=np.int64)
    for s, (targets, p) in SEVERITY_CHANGE.items():
        mask = cases.severity[changed] == s
        new_sev[mask] = np.where(up_or_down[mask] < p[0], targets[0], targets[1])

    weight = (np.where(cases.severity == 1, 4.0, np.where(cases.severity == 2, 2.0, 1.0))
              * np.where(talk.slow_first, 5.0, 1.0))
    escalated = np.flatnonzero(rng.random(n) < np.minimum(1.0, ESCALATION_P * weight / (weight.mean() if n else 1.0)))
    level1_at = opened[escalated] + np.floor(rng.uniform(0.05, 0.6, len(escalated)) * life[escalated]).astype(np.int64)
    second = escalated[rng.random(len(escalated)) < 0.25]
    first_of_second = level1_at[np.isin(escalated, second)]
    level2_at = first_of_second + np.floor(
        rng.uniform(0.1, 0.9, len(second)) * (talk.life_end[second] - first_of_second)
    ).astype(np.int64)

    severity, status, escalation = FIELDS.index("severity"), FIELDS.index("status"), FIELDS.index("escalation")
    case = np.concatenate([talk.status_case, changed, escalated, second])
    at = np.concatenate([talk.status_at, change_at, level1_at, level2_at])
    fld = np.concatenate([
        np.full(len(talk.status_case), status), np.full(len(changed), severity),
        np.full(len(escalated) + len(second), escalation),
    ])
    value = np.concatenate([
        talk.status_value, new_sev - 1, np.zeros(len(escalated), np.int64), np.ones(len(second), np.int64),
    ])
    order = np.lexsort((fld, case, at))
    return pa.table({
        "case_id": _case_ids(n).take(pa.array(case[order])),
        "at": _instants(at[order]),
        "field": _take(list(FIELDS), fld[order]),
        "value": _take(list(CHANGE_VALUES), value[order]),
    })


def _standing_table(rng: np.random.Generator, accounts: list[_Account], config: Config, window: _Window) -> pa.Table:
    """2-4 suspensions of lower-tier accounts; the last one may still be running at the cut."""
    lower = [i for i, a in enumerate(accounts) if config.packages[a.terms[-1][2]].rank <= 3]
    long_standing = [i for i in lower if accounts[i].terms[0][0] <= window.first + dt.timedelta(days=200)]
    lower = long_standing if len(long_standing) >= 4 else lower
    count = int(rng.integers(2, 5))
    chosen = rng.choice(lower, size=count, replace=False)
    rows = []
    for j, i in enumerate(chosen):
        account = accounts[i]
        open_ended = j == count - 1 and rng.random() < 0.6
        if open_ended:
            day = window.last - dt.timedelta(days=int(rng.integers(5, 40)))
            day = min(max(day, account.terms[-1][0] + dt.timedelta(days=1)), window.last)
        else:
            earliest = max(window.first, account.terms[0][0]) + dt.timedelta(days=20)
            span = max(1, (window.last - earliest).days - 60)
            day = earliest + dt.timedelta(days=int(rng.integers(0, span)))
        local_from = _epoch_day(day) * DAY + int(rng.integers(8 * HOUR, 17 * HOUR))
        local_to = local_from + int(rng.integers(7, 46)) * DAY + int(rng.integers(-4 * HOUR, 4 * HOUR))
        tz = config.calendars[account.region].timezone
        start, stop = _local_to_utc(np.array([local_from, local_to]), tz)
        rows.append((account.account_id, int(start), -1 if open_ended else int(stop)))
    rows.sort(key=lambda row: row[1])
    return pa.table({
        "account_id": [r[0] for r in rows],
        "suspended_from": _instants(np.array([r[1] for r in rows], dtype=np.int64)),
        "suspended_to": _instants(np.array([r[2] for r in rows], dtype=np.int64)),
    })


def _engagements_table(
    rng: np.random.Generator, accounts: list[_Account], config: Config, window: _Window
) -> pa.Table:
    """Service days and private trainings delivered per Gold-and-above term, up to `end`.

    Each account has a usage profile (under, on pace, over), so the utilization page
    has accounts on both sides of their entitlement.
    """
    rows: list[tuple[str, dt.date, str, int, str]] = []
    for account in accounts:
        for start, stop, package in account.terms:
            spec = config.packages[package]
            last = min(stop, window.last)
            if spec.rank < ADVISOR_RANK or last < start:
                continue
            elapsed = ((last - start).days + 1) / ((stop - start).days + 1)
            weekdays = [start + dt.timedelta(days=d) for d in range((last - start).days + 1)]
            weekdays = [d for d in weekdays if d.weekday() < 5]
            if not weekdays:
                continue
            for kind, entitled in (("service_day", spec.service_days), ("training_session", spec.training_sessions)):
                units = round(entitled * account.usage * rng.uniform(0.85, 1.15) * elapsed)
                quantities: list[int] = []
                while sum(quantities) < units:
                    quantities.append(2 if kind == "service_day" and rng.random() < 0.15 else 1)
                days = sorted(rng.choice(len(weekdays), size=len(quantities), replace=len(quantities) > len(weekdays)))
                notes = ENGAGEMENT_NOTES[kind]
                for d, q in zip(days, quantities, strict=True):
                    rows.append((account.account_id, weekdays[d], kind, q, notes[int(rng.integers(len(notes)))]))
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return pa.table({
        "account_id": pa.array([r[0] for r in rows], pa.string()),
        "date": pa.array([r[1] for r in rows], pa.date32()),
        "kind": pa.array([r[2] for r in rows], pa.string()),
        "quantity": pa.array([r[3] for r in rows], pa.int64()),
        "note": pa.array([r[4] for r in rows], pa.string()),
    })


def _write_table(out: Path, name: str, table: pa.Table, fmt: str) -> None:
    """Write one table; CSV instants become ``2026-03-09T14:05:00Z`` text."""
    for other in ("csv", "parquet", "jsonl"):
        if other != fmt:
            (out / f"{name}.{other}").unlink(missing_ok=True)
    if fmt == "parquet":
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        return
    columns = [
        pc.strftime(col, format=_CSV_INSTANT) if pa.types.is_timestamp(col.type) else col for col in table.columns
    ]
    pacsv.write_csv(pa.table(columns, names=table.column_names), out / f"{name}.csv")
