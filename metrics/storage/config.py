"""Configuration: built-in calendars and packages, merged with a dataset's config.toml.

The package catalogue is data, not code: `defaults.toml` beside this module holds the
vendor's published packages and a dataset's `config.toml` is merged over it, so a
user changes a target or adds a tier without touching Python.

Every key is checked at load, so a config that loads can never break a page later: a
bad value or an unknown key (a typo would silently mean "unset") stops the load with one
sentence naming the key path and what was expected, e.g.
``config.toml: [packages.Gold] initial_response_hours.1: expected a positive, finite
number of hours of at most 8784 (one year), got inf``.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import json
import math
import re
import tomllib
import zoneinfo
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import holidays as holidays_lib

from metrics.errors import LoadError

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")
ALWAYS = "24x7"
BUSINESS = "business"
SEVERITIES = (1, 2, 3)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Tables whose value replaces the default whole instead of being merged key by key:
# a dataset listing Monday hours only means "Mondays only", not "Monday changed".
_REPLACE_WHOLE = {"hours"}

# The keys each known table may hold. Unknown top-level sections stay allowed (importers
# record their choices in [importer]; later sections will come).
SOURCE_KEYS = ("timezone",)
REPORTING_KEYS = (
    "at_risk_fraction", "breach_severity", "escalation_incident_hours", "min_bucket_obligations", "timezone",
)
# The severity a breached obligation is reported under (sla-rules.md leaves it open; docs/metrics.md).
BREACH_SEVERITIES = ("at_breach", "final")
CALENDAR_KEYS = ("holidays", "hours", "timezone")
HOLIDAY_KEYS = ("add", "country", "remove", "subdiv")
PACKAGE_KEYS = (
    "authorized_contacts", "clock", "dedicated_phone_line", "features", "follow_up_hours",
    "initial_response_hours", "phone_support", "rank", "service_days", "target_attainment", "training_sessions",
)  # fmt: skip
_SECTIONS = ("calendars", "overrides", "packages", "reporting", "source")
# What a dated version of a package or an account's override may change: any package key
# but `rank`, which orders the catalogue rather than stating a term.
TERMS_KEYS = tuple(k for k in PACKAGE_KEYS if k != "rank")
VERSION_KEYS = ("from", *TERMS_KEYS)
OVERRIDE_KEYS = ("account_id", "from", *TERMS_KEYS)
FIRST_DATE, LAST_DATE = dt.date(1970, 1, 1), dt.date(2100, 12, 31)  # the dates data may hold

MAX_TARGET_HOURS = 8784  # 366 days: a longer target is a typo, and the engine's horizon grows with it
MAX_COUNT = 1_000_000_000  # entitlements and ranks: far beyond any package, still exact as int64 and float
# The engine materialises every calendar up to the longest target past as-of
# (calendars.horizon_days): ten years of a calendar's weeks at most, or a page would crawl.
MAX_TARGET_WEEKS = 520
MAX_DEPTH = 32  # tables and lists inside each other; deeper trees overflow copy and json
# Years a calendar's holidays are built for at load: an unknown subdivision must fail here, not on a page.
_HOLIDAY_SAMPLE_YEARS = (1970, 2026, 2100)


@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar: weekly wall-clock hours in a timezone, minus holidays."""

    name: str
    timezone: str
    # working ranges (start_minute, end_minute) per weekday, Monday first; an end may be 1440
    hours: tuple[tuple[tuple[int, int], ...], ...]
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    holidays_add: tuple[dt.date, ...] = ()
    holidays_remove: tuple[dt.date, ...] = ()

    @property
    def weekly_minutes(self) -> int:
        """Working minutes of a week on the wall clock (holidays and DST aside)."""
        return sum(end - start for ranges in self.hours for start, end in ranges)

    def holiday_dates(self, first_year: int, last_year: int) -> set[dt.date]:
        """Holidays observed between the two years inclusive (country rules + add - remove)."""
        days: set[dt.date] = set()
        if self.holiday_country:
            years = range(first_year, last_year + 1)
            days.update(
                holidays_lib.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision, years=years
                ).keys()
            )
        days.update(self.holidays_add)
        days.difference_update(self.holidays_remove)
        return days


@dataclass(frozen=True)
class PackageSpec:
    """A support package: response targets and entitlements."""

    name: str
    rank: int
    initial_hours: dict[int, float]  # empty: no targets (untargeted)
    follow_up_hours: dict[int, float]
    clock: dict[int, str]  # severity -> "24x7" | "business" | calendar name
    authorized_contacts: int
    phone_support: bool
    service_days: float
    training_sessions: float
    features: tuple[str, ...] = ()
    target_attainment: float | None = None  # the share of response targets the package means to meet

    @property
    def targeted(self) -> bool:
        return bool(self.initial_hours)


@dataclass(frozen=True)
class TermsChange:
    """A dated change of package keys: a version of a package, or an account's override.

    Its keys merge over the definition in force, tables key by key: a version that writes
    `initial_response_hours = { 1 = 2 }` changes severity 1 and keeps 2 and 3.
    """

    entry: int  # position among its package's versions, or among all [[overrides]], from 1
    valid_from: dt.date | None  # None: from the start (an override without `from`)
    keys: dict[str, Any]
    package: str | None = None  # versions
    account_id: str | None = None  # overrides

    @property
    def since(self) -> str:
        return "from the start" if self.valid_from is None else f"from {self.valid_from.isoformat()}"

    def describe(self) -> str:
        """How an explanation or a page names it: "Gold's version from 2026-07-01"."""
        if self.account_id is not None:
            return f"the override of {self.account_id} {self.since}"
        return f"{self.package}'s version {self.since}"


@dataclass(frozen=True)
class Terms:
    """A package's definition in force over a span of local dates, for every account or for one.

    `account_id` is None on the package's own spans (every account without overrides); an
    account with [[overrides]] has spans of its own for every package and date.
    """

    package: str
    account_id: str | None
    valid_from: dt.date | None  # None: from the start
    valid_to: dt.date | None  # inclusive; None: no end
    spec: PackageSpec
    applied: tuple[TermsChange, ...]  # versions, then overrides, in date order over the package's keys

    def holds(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def describe(self) -> str:
        """One line: "Gold's own keys, then Gold's version from 2026-07-01, then the override of A1 from the start"."""
        return ", then ".join([f"{self.package}'s own keys", *(c.describe() for c in self.applied)])


@dataclass(frozen=True)
class Config:
    """The merged configuration a load or a metric runs with."""

    source_timezone: str | None
    reporting_timezone: str
    at_risk_fraction: float
    calendars: dict[str, CalendarSpec]
    packages: dict[str, PackageSpec]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    breach_severity: str = "at_breach"
    escalation_incident_hours: float = 24.0
    versions: dict[str, tuple[TermsChange, ...]] = field(default_factory=dict)  # per package, in date order
    overrides: tuple[TermsChange, ...] = ()  # in file order
    # Every package's spans, then each overridden account's: `terms_in_force` picks one.
    terms: tuple[Terms, ...] = ()
    min_bucket_obligations: int = 20  # a trend bucket with fewer is flagged too small to judge

    @property
    def longest_target_weeks(self) -> float:
        """Weeks of its slowest calendar the longest target needs: how far the engine builds calendars."""
        specs = [t.spec for t in self.terms] or list(self.packages.values())
        return max((weeks for weeks, _, _ in _target_runs(self.calendars, specs)), default=0.0)

    @property
    def overridden_accounts(self) -> frozenset[str]:
        return frozenset(o.account_id for o in self.overrides if o.account_id is not None)

    def terms_in_force(self, package: str, day: dt.date, account_id: str | None = None) -> Terms:
        """The definition of `package` in force on local date `day` for `account_id` (docs/sla-clock.md).

        The package's keys, then each of its versions from on or before `day` in date order,
        then the account's overrides likewise. Raises KeyError for a package the config lacks.
        """
        owner = account_id if account_id in self.overridden_accounts else None
        for terms in self.terms:
            if terms.package == package and terms.account_id == owner and terms.holds(day):
                return terms
        raise KeyError(package)

    def to_json(self) -> str:
        """The merged TOML tree as JSON, for storing beside the data it was loaded with.

        Keys keep the file's order: a package without `rank` ranks by its position, so
        sorting them would rank it differently once re-read from the store.
        """
        return json.dumps(self.raw, default=str)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` over `base` (tables merge, other values replace)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in _REPLACE_WHOLE:
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@cache
def _defaults() -> dict[str, Any]:
    with DEFAULTS_PATH.open("rb") as f:
        return tomllib.load(f)


MAX_CONFIG_BYTES = 1 << 20
MAX_DOTS_PER_LINE = 256  # generous for values (dates, lists of floats); a key nesting past MAX_DEPTH has more


def load_config(dataset_dir: Path | None = None) -> Config:
    """Read `dataset_dir/config.toml` (if any) over the built-in defaults and validate it."""
    tree = _defaults()
    if dataset_dir is not None:
        path = Path(dataset_dir) / "config.toml"
        if path.exists():
            tree = merge(tree, _read_toml(path))
    return parse_config(tree, origin="config.toml")


def config_from_json(text: str) -> Config:
    """Rebuild a Config from the JSON stored with a load, checked as strictly as at load."""
    try:
        tree = json.loads(text)
    except RecursionError:
        raise LoadError("stored config: not valid JSON (nested too deeply)") from None
    except (TypeError, ValueError) as exc:
        raise LoadError(f"stored config: not valid JSON ({exc})") from None
    return parse_config(tree, origin="stored config")


def _read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; any failure (syntax, encoding, depth, I/O) becomes one sentence."""
    try:
        data = path.read_bytes()
        if len(data) > MAX_CONFIG_BYTES:
            raise LoadError(f"{path.name}: is larger than {MAX_CONFIG_BYTES // 1024} KB; a config is a few lines")
        if max((line.count(b".") for line in data.split(b"\n")), default=0) > MAX_DOTS_PER_LINE:
            # dotted keys thousands deep take TOML parsers minutes: refuse before parsing
            raise LoadError(f"{path.name}: not valid TOML (nested too deeply: more than {MAX_DEPTH} levels)")
        tree = tomllib.loads(data.decode("utf-8"))
    except RecursionError:
        raise LoadError(f"{path.name}: not valid TOML (nested too deeply)") from None
    except UnicodeDecodeError:
        raise LoadError(f"{path.name}: not valid TOML (not UTF-8 text)") from None
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(f"{path.name}: not valid TOML ({exc})") from None
    except ValueError:  # e.g. an integer of thousands of digits
        raise LoadError(f"{path.name}: not valid TOML (a value is too large)") from None
    except OSError as exc:
        raise LoadError(f"{path.name}: could not be read ({exc.strerror or exc})") from None
    _check_depth(tree, path.name)
    return tree


def _check_depth(tree: object, origin: str) -> None:
    """Refuse trees nested deeper than MAX_DEPTH (dotted keys nest without limit in TOML)."""
    stack: list[tuple[object, int]] = [(tree, 0)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 >= MAX_DEPTH:
                    raise LoadError(f"{origin}: not valid TOML (nested too deeply: more than {MAX_DEPTH} levels)")
                stack.append((child, depth + 1))


def parse_config(tree: dict[str, Any], origin: str = "config.toml") -> Config:
    """Validate a merged TOML tree and turn it into typed specs."""
    if not isinstance(tree, dict):
        raise LoadError(f"{origin}: expected a TOML document of sections such as [reporting], got {_show(tree)}")
    _check_depth(tree, origin)
    for key, value in tree.items():
        if key not in _SECTIONS and not _is_section(value):
            raise LoadError(
                f"{origin}: top-level key {key!r}: expected a [section]; settings go under "
                "[source], [reporting], [calendars.NAME] or [packages.NAME]"
            )
    source = _table(tree.get("source", {}), f"{origin}: [source]", SOURCE_KEYS)
    reporting = _table(tree.get("reporting", {}), f"{origin}: [reporting]", REPORTING_KEYS)
    source_tz = source.get("timezone")
    if source_tz is not None:
        _check_timezone(source_tz, f"{origin}: [source] timezone")
    reporting_tz = reporting.get("timezone", "UTC")
    _check_timezone(reporting_tz, f"{origin}: [reporting] timezone")
    at_risk = _number(
        reporting.get("at_risk_fraction", 0.75),
        f"{origin}: [reporting] at_risk_fraction",
        "a number in (0, 1]",
        minimum=0,
        maximum=1,
        above_minimum=True,
    )

    breach_severity = reporting.get("breach_severity", "at_breach")
    if breach_severity not in BREACH_SEVERITIES:
        raise LoadError(
            f"{origin}: [reporting] breach_severity: expected one of {', '.join(BREACH_SEVERITIES)}, "
            f"got {_show(breach_severity)}"
        )
    incident_hours = _number(
        reporting.get("escalation_incident_hours", 24),
        f"{origin}: [reporting] escalation_incident_hours",
        "a number of hours in [0, 8784]",
        minimum=0,
        maximum=8784,
    )

    min_bucket = _number(
        reporting.get("min_bucket_obligations", 20),
        f"{origin}: [reporting] min_bucket_obligations",
        f"a non-negative integer of at most {MAX_COUNT}",
        minimum=0,
        maximum=MAX_COUNT,
        integer=True,
    )

    calendar_specs = _table(tree.get("calendars", {}), f"{origin}: [calendars]", example=" such as [calendars.emea]")
    calendars: dict[str, CalendarSpec] = {}
    for name, spec in calendar_specs.items():
        if name in (ALWAYS, BUSINESS):
            raise LoadError(
                f"{origin}: [calendars.{_key(name)}]: {name!r} is a built-in clock; expected another calendar name"
            )
        calendars[name] = _parse_calendar(name, spec, origin)

    package_specs = _table(tree.get("packages", {}), f"{origin}: [packages]", example=" such as [packages.Gold]")
    packages: dict[str, PackageSpec] = {}
    for name, spec in package_specs.items():
        packages[name] = _parse_package(name, spec, calendars, origin, default_rank=len(packages) + 1)
    versions = {name: _parse_versions(name, spec, package_specs, origin) for name, spec in package_specs.items()}
    overrides = _parse_overrides(tree.get("overrides", []), origin)
    terms = _terms_spans(package_specs, packages, versions, overrides, calendars, origin)
    _check_reachable(calendars, [t.spec for t in terms], origin)
    return Config(
        source_tz, reporting_tz, float(at_risk), calendars, packages, raw=tree,
        breach_severity=breach_severity, escalation_incident_hours=float(incident_hours),
        versions={name: v for name, v in versions.items() if v}, overrides=overrides, terms=terms,
        min_bucket_obligations=int(min_bucket),
    )


# ---------------------------------------------------------------- value checks
def show_value(value: object) -> str:
    """A value as the user wrote it, shortened: one sentence stays one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_show = show_value


def _key(name: str) -> str:
    """A table name as TOML writes it in a header: bare, or quoted (so a message stays one line)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _is_section(value: object) -> bool:
    """A table or an array of tables ([[name]]): what an unknown top-level key may be."""
    return isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _unknown_key(key: object, allowed: Collection[str], where: str) -> LoadError:
    """A typo would silently mean 'unset': name the key, suggest the close one, list the rest."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return LoadError(f"{where}: unknown key {key!r}{hint}; expected one of {', '.join(sorted(allowed))}")


def _table(value: object, where: str, allowed: Collection[str] | None = None, example: str = "") -> dict[str, Any]:
    """A TOML table whose keys are all in `allowed` (when given)."""
    if not isinstance(value, dict):
        raise LoadError(f"{where}: expected a table{example}, got {_show(value)}")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise _unknown_key(key, allowed, where)
    return value


def _number(
    value: object,
    where: str,
    expected: str,
    minimum: float,
    maximum: float,
    integer: bool = False,
    above_minimum: bool = False,
) -> float:
    """A finite TOML number in [minimum, maximum] (or (minimum, maximum]); booleans are not numbers.

    Huge integers are compared as integers, never converted to float (that overflows).
    """
    kinds = (int,) if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or (isinstance(value, float) and not math.isfinite(value))
        or value < minimum
        or (above_minimum and value == minimum)
        or value > maximum
    ):
        raise LoadError(f"{where}: expected {expected}, got {_show(value)}")
    return value


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise LoadError(f"{where}: expected true or false, got {_show(value)}")
    return value


def _string(value: object, where: str, expected: str = "a string") -> str:
    if not isinstance(value, str):
        raise LoadError(f"{where}: expected {expected}, got {_show(value)}")
    return value


@cache
def _timezones() -> frozenset[str]:
    """IANA names both zoneinfo and DuckDB know: the engine converts in both, so either may refuse one.

    `localtime` is the server's own zone, not a place, and DuckDB refuses it.
    """
    names = set(zoneinfo.available_timezones()) - {"localtime"}
    try:
        con = duckdb.connect()
        try:
            names &= {row[0] for row in con.execute("select name from pg_timezone_names()").fetchall()}
        finally:
            con.close()
    except duckdb.Error:  # DuckDB without ICU: zoneinfo's list is all there is
        pass
    return frozenset(names)


def _check_timezone(name: object, where: str) -> None:
    expected = "expected an IANA timezone such as 'America/Denver'"
    if name is None:
        raise LoadError(f"{where}: missing; {expected}")
    if not isinstance(name, str) or name not in _timezones():
        raise LoadError(f"{where}: {expected}, got {_show(name)}")
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise LoadError(f"{where}: {expected}, got {_show(name)}") from None


# ---------------------------------------------------------------- calendars
def _parse_calendar(name: str, spec: object, origin: str) -> CalendarSpec:
    where = f"{origin}: [calendars.{_key(name)}]"
    spec = _table(spec, where, CALENDAR_KEYS)
    tz = spec.get("timezone")
    _check_timezone(tz, f"{where} timezone")
    hours_spec = _table(spec.get("hours"), f"{where} hours", example=' such as { mon = "07:00-18:00" }')
    for day in hours_spec:
        if day not in WEEKDAYS:
            raise LoadError(f"{where} hours: unknown day {day!r}, expected one of {', '.join(WEEKDAYS)}")
    hours = tuple(_parse_ranges(hours_spec.get(day, ""), f"{where} hours.{day}") for day in WEEKDAYS)
    if not any(hours):
        raise LoadError(f'{where} hours: has no working time; expected at least one range such as mon = "07:00-18:00"')
    hol = _table(spec.get("holidays", {}), f"{where} holidays", HOLIDAY_KEYS, example=' such as { country = "US" }')
    country = _string(hol.get("country", ""), f"{where} holidays.country", "a country code such as 'US'") or None
    subdiv = _string(hol.get("subdiv", ""), f"{where} holidays.subdiv", "a subdivision code such as 'CA'") or None
    _check_holidays(country, subdiv, f"{where} holidays")
    return CalendarSpec(
        name=name,
        timezone=str(tz),
        hours=hours,
        holiday_country=country,
        holiday_subdivision=subdiv,
        holidays_add=_dates(hol.get("add", []), f"{where} holidays.add"),
        holidays_remove=_dates(hol.get("remove", []), f"{where} holidays.remove"),
    )


@cache
def _check_holidays(country: str | None, subdiv: str | None, where: str) -> None:
    """Build the holidays of a few sample years now: the package raises on an unknown code."""
    if country is None:
        if subdiv is not None:
            raise LoadError(f"{where}.subdiv: {subdiv!r} needs a country; expected holidays.country as well")
        return
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise LoadError(
            f"{where}.country: {country!r} is not a country the holidays package knows; "
            "expected an ISO 3166 code such as 'US', 'GB' or 'JP'"
        )
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv, years=_HOLIDAY_SAMPLE_YEARS)
    except Exception:  # whatever the holidays package raises for a code it cannot build must not reach a page
        if subdiv is None:
            raise LoadError(
                f"{where}.country: the holidays package could not build {country!r}; expected another country code"
            ) from None
        codes = list(supported[country])
        expected = (
            f"one of {', '.join(codes[:10])}{', ...' if len(codes) > 10 else ''}"
            if codes
            else f"none ({country} has no subdivisions in the holidays package)"
        )
        raise LoadError(f"{where}.subdiv: {subdiv!r} is not a subdivision of {country}; expected {expected}") from None


def _parse_ranges(text: object, where: str) -> tuple[tuple[int, int], ...]:
    """'08:00-12:00,13:00-17:00' -> ((480, 720), (780, 1020)); '' means a day off."""
    if not isinstance(text, str):
        raise LoadError(f'{where}: expected a string such as "07:00-18:00", got {_show(text)}')
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RANGE.match(part)
        if not m:
            raise LoadError(f"{where}: expected HH:MM-HH:MM ranges, got {_show(part)}")
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            raise LoadError(f"{where}: {part!r} is not a range within 00:00-24:00 that ends after it starts")
        if ranges and start < ranges[-1][1]:
            raise LoadError(f"{where}: {part!r} overlaps or precedes the range before it")
        ranges.append((start, end))
    return tuple(ranges)


def _dates(values: object, where: str) -> tuple[dt.date, ...]:
    """A list of dates: TOML dates, or 'YYYY-MM-DD' strings (as a stored config holds them)."""
    if not isinstance(values, list):
        raise LoadError(f"{where}: expected a list of dates such as [2026-12-24], got {_show(values)}")
    return tuple(_parse_date(value, where) for value in values)


def _parse_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise LoadError(f"{where}: expected a date YYYY-MM-DD, got {_show(value)}")


# ---------------------------------------------------------------- packages
def _severity_table(spec: object, where: str, example: str) -> dict[int, Any]:
    """{ 1 = ..., 2 = ..., 3 = ... } keyed by severity; TOML and JSON give the keys as text."""
    if spec is None:
        return {}
    table = _table(spec, where, example=f" such as {example}")
    out: dict[int, Any] = {}
    for key, value in table.items():
        # TOML gives "1", JSON-stored configs may give 1; str(True) and str(1.0) match no severity
        sev = next((s for s in SEVERITIES if str(key) == str(s)), None)
        if sev is None:
            raise LoadError(f"{where}: expected severity keys 1, 2 or 3, got {_show(key)}")
        out[sev] = value
    return out


def _target_hours(spec: object, where: str) -> dict[int, float]:
    """Response targets: each at least one second (a 0 s target rounds away) and at most a year."""
    out: dict[int, float] = {}
    for sev, value in _severity_table(spec, where, "{ 1 = 4, 2 = 8, 3 = 12 }").items():
        hours = _number(
            value,
            f"{where}.{sev}",
            f"a positive, finite number of hours of at most {MAX_TARGET_HOURS} (one year)",
            minimum=0,
            maximum=MAX_TARGET_HOURS,
            above_minimum=True,
        )
        if hours * 3600 < 1:
            raise LoadError(f"{where}.{sev}: expected at least one second (1/3600 hour), got {_show(value)}")
        out[sev] = float(hours)
    return out


def _parse_package(
    name: str,
    spec: object,
    calendars: dict[str, CalendarSpec],
    origin: str,
    default_rank: int,
    where: str | None = None,
) -> PackageSpec:
    where = where or f"{origin}: [packages.{_key(name)}]"
    spec = _table(spec, where, (*PACKAGE_KEYS, "versions"))
    initial = _target_hours(spec.get("initial_response_hours"), f"{where} initial_response_hours")
    follow = _target_hours(spec.get("follow_up_hours"), f"{where} follow_up_hours")
    clock = {1: ALWAYS, 2: BUSINESS, 3: BUSINESS}
    clock.update(_severity_table(spec.get("clock"), f"{where} clock", '{ 1 = "24x7", 2 = "business" }'))
    for sev, value in clock.items():
        if not isinstance(value, str) or (value not in (ALWAYS, BUSINESS) and value not in calendars):
            raise LoadError(f"{where} clock.{sev}: expected '24x7', 'business' or a calendar name, got {_show(value)}")

    def count(key: str, integer: bool, default: int = 0) -> float:
        kind = "a non-negative integer" if integer else "a finite number >= 0"
        return _number(
            spec.get(key, default), f"{where} {key}", f"{kind} of at most {MAX_COUNT}", 0, MAX_COUNT, integer=integer
        )

    features = spec.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        example = '["named_advisor"]'
        raise LoadError(f"{where} features: expected a list of strings such as {example}, got {_show(features)}")
    _boolean(spec.get("dedicated_phone_line", False), f"{where} dedicated_phone_line")
    target = spec.get("target_attainment")
    if target is not None:
        target = _number(target, f"{where} target_attainment", "a share in (0, 1] such as 0.95", 0, 1,
                         above_minimum=True)
    return PackageSpec(
        name=name,
        rank=int(count("rank", integer=True, default=default_rank)),
        initial_hours=initial,
        follow_up_hours=follow,
        clock=clock,
        authorized_contacts=int(count("authorized_contacts", integer=True)),
        phone_support=_boolean(spec.get("phone_support", False), f"{where} phone_support"),
        service_days=float(count("service_days", integer=False)),
        training_sessions=float(count("training_sessions", integer=False)),
        features=tuple(features),
        target_attainment=None if target is None else float(target),
    )


def _target_runs(
    calendars: dict[str, CalendarSpec], packages: Iterable[PackageSpec]
) -> Iterator[tuple[float, str, str]]:
    """(weeks, target key, calendar) for each target and each calendar its clock may run on.

    `business` may be any calendar (it is the account's region); a `24x7` target needs no
    calendar intervals at all, so it is left out.
    """
    for p in packages:
        for kind, table in (("initial_response_hours", p.initial_hours), ("follow_up_hours", p.follow_up_hours)):
            for sev, hours in table.items():
                clock = p.clock[sev]
                names = () if clock == ALWAYS else tuple(calendars) if clock == BUSINESS else (clock,)
                for name in names:
                    weeks = hours * 60 / max(calendars[name].weekly_minutes, 1)
                    yield weeks, f"[packages.{_key(p.name)}] {kind}.{sev}", name


def _check_reachable(calendars: dict[str, CalendarSpec], packages: Iterable[PackageSpec], origin: str) -> None:
    """Each target must run within MAX_TARGET_WEEKS on every calendar its clock may use.

    The engine materialises calendars that far past as-of: a 1-minute week under a
    72-hour target would need 80 years of intervals, a year-long one 10,000.
    """
    weeks, target, name = max(_target_runs(calendars, packages), default=(0.0, "", ""))
    if weeks > MAX_TARGET_WEEKS:
        minutes = calendars[name].weekly_minutes
        raise LoadError(
            f"{origin}: [calendars.{_key(name)}] hours: a week of {minutes} working minutes would take more than "
            f"{MAX_TARGET_WEEKS // 52} years to run the target {target} on it; expected at least "
            f"{math.ceil(weeks * minutes / MAX_TARGET_WEEKS)} minutes a week, or targets of at most "
            f"{minutes * MAX_TARGET_WEEKS // 60} hours"
        )


# ---------------------------------------------------------------- terms that change over time
def _parse_date_in_range(value: object, where: str) -> dt.date:
    day = _parse_date(value, where)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise LoadError(f"{where}: expected a date between {FIRST_DATE} and {LAST_DATE}, got {_show(value)}")
    return day


def _entries(value: object, where: str, header: str) -> list[object]:
    """An array of tables ([[header]] blocks)."""
    if not isinstance(value, list):
        raise LoadError(f"{where}: expected a list of tables written as [[{header}]] blocks, got {_show(value)}")
    return value


def _changed_keys(entry: dict[str, Any], where: str) -> dict[str, Any]:
    keys = {k: v for k, v in entry.items() if k in TERMS_KEYS}
    if not keys:
        raise LoadError(f"{where}: changes nothing; expected at least one package key such as initial_response_hours")
    return keys


def _parse_versions(
    name: str, spec: object, package_specs: dict[str, Any], origin: str
) -> tuple[TermsChange, ...]:
    """A package's [[packages.NAME.versions]], in date order; one version per date."""
    if not isinstance(spec, dict) or "versions" not in spec:
        return ()
    header = f"packages.{_key(name)}.versions"
    where = f"{origin}: [[{header}]]"
    if set(spec) == {"versions"}:  # nothing but versions: a package no default or config defines
        known = [n for n, s in package_specs.items() if not (isinstance(s, dict) and set(s) == {"versions"})]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise LoadError(
            f"{where}: {name!r} is not a package{hint}; expected versions of one of {', '.join(known)}"
        )
    out: list[TermsChange] = []
    for number, entry in enumerate(_entries(spec["versions"], where, header), start=1):
        at = f"{where} entry {number}"
        entry = _table(entry, at, VERSION_KEYS)
        if "from" not in entry:
            raise LoadError(f"{at}: missing from; expected the date the version holds from, such as from = 2026-07-01")
        day = _parse_date_in_range(entry["from"], f"{at} from")
        if any(v.valid_from == day for v in out):
            raise LoadError(
                f"{at} from: a version from {day} comes earlier; expected one version per date (put their keys in one)"
            )
        out.append(TermsChange(number, day, _changed_keys(entry, at), package=name))
    return tuple(sorted(out, key=lambda v: v.valid_from or FIRST_DATE))


def _parse_overrides(value: object, origin: str) -> tuple[TermsChange, ...]:
    """[[overrides]]: an account's terms from a date on (or from the start); one per account and date.

    Whether each account exists is checked by the load against the accounts table.
    """
    where = f"{origin}: [[overrides]]"
    out: list[TermsChange] = []
    for number, entry in enumerate(_entries(value, where, "overrides"), start=1):
        at = f"{where} entry {number}"
        entry = _table(entry, at, OVERRIDE_KEYS)
        account = entry.get("account_id")
        if not isinstance(account, str) or not account.strip():
            expected = "expected the account_id of an account, such as 'ACC-0002'"
            raise LoadError(f"{at} account_id: {expected}, got {_show(account)}")
        day = _parse_date_in_range(entry["from"], f"{at} from") if "from" in entry else None
        if any(o.account_id == account and o.valid_from == day for o in out):
            since = "the start" if day is None else str(day)
            raise LoadError(
                f"{at}: an override of {account!r} from {since} comes earlier; expected one override per "
                "account and date (put their keys in one)"
            )
        out.append(TermsChange(number, day, _changed_keys(entry, at), account_id=account))
    return tuple(out)


def _terms_spans(
    package_specs: dict[str, Any],
    packages: dict[str, PackageSpec],
    versions: dict[str, tuple[TermsChange, ...]],
    overrides: tuple[TermsChange, ...],
    calendars: dict[str, CalendarSpec],
    origin: str,
) -> tuple[Terms, ...]:
    """Every package's spans of local dates with one definition, then each overridden account's.

    A span starts at each `from` and ends the day before the next one; its definition is the
    package's keys, then the versions from on or before its start in date order, then the
    account's overrides likewise (tables merged key by key). Each definition is checked as a
    package is, and a bad value is reported under the version or override that brought it.
    """
    by_account: dict[str, list[TermsChange]] = {}
    for o in overrides:
        by_account.setdefault(str(o.account_id), []).append(o)
    owners: list[tuple[str | None, list[TermsChange]]] = [(None, [])]
    owners += [(a, sorted(os, key=lambda o: o.valid_from or dt.date.min)) for a, os in by_account.items()]
    spans: list[Terms] = []
    for account, own in owners:
        for name, spec in package_specs.items():
            dated = versions[name]
            starts = sorted({c.valid_from for c in (*dated, *own) if c.valid_from is not None})
            for start, end in zip([None, *starts], [*starts, None], strict=True):
                applied = tuple(
                    c for c in (*dated, *own) if c.valid_from is None or (start is not None and c.valid_from <= start)
                )
                tree = {k: v for k, v in spec.items() if k != "versions"}
                for change in applied:
                    tree = merge(tree, change.keys)
                where = None
                if applied:
                    last = applied[-1]
                    header = "[[overrides]]" if last.account_id is not None else f"[[packages.{_key(name)}.versions]]"
                    where = f"{origin}: {header} entry {last.entry} ({last.since})"
                spec_now = packages[name] if not applied else _parse_package(
                    name, tree, calendars, origin, packages[name].rank, where
                )
                valid_to = None if end is None else end - dt.timedelta(days=1)
                spans.append(Terms(name, account, start, valid_to, spec_now, applied))
    return tuple(spans)
