"""Configuration: built-in calendars and packages, merged with a dataset's config.toml.

The package catalogue is data, not code: `defaults.toml` beside this module holds the
vendor's published packages and a dataset's `config.toml` is merged over it, so a
user changes a target or adds a tier without touching Python.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

    @property
    def targeted(self) -> bool:
        return bool(self.initial_hours)


@dataclass(frozen=True)
class Config:
    """The merged configuration a load or a metric runs with."""

    source_timezone: str | None
    reporting_timezone: str
    at_risk_fraction: float
    calendars: dict[str, CalendarSpec]
    packages: dict[str, PackageSpec]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def to_json(self) -> str:
        """The merged TOML tree as JSON, for storing beside the data it was loaded with."""
        return json.dumps(self.raw, default=str, sort_keys=True)


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


def load_config(dataset_dir: Path | None = None) -> Config:
    """Read `dataset_dir/config.toml` (if any) over the built-in defaults and validate it."""
    tree = _defaults()
    if dataset_dir is not None:
        path = Path(dataset_dir) / "config.toml"
        if path.exists():
            try:
                with path.open("rb") as f:
                    user = tomllib.load(f)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise LoadError(f"{path.name}: not valid TOML ({exc})") from None
            tree = merge(tree, user)
    return parse_config(tree, origin="config.toml")


def config_from_json(text: str) -> Config:
    """Rebuild a Config from the JSON stored with a load."""
    return parse_config(json.loads(text), origin="stored config")


def parse_config(tree: dict[str, Any], origin: str = "config.toml") -> Config:
    """Validate a merged TOML tree and turn it into typed specs."""
    source = tree.get("source", {})
    reporting = tree.get("reporting", {})
    source_tz = source.get("timezone")
    if source_tz is not None:
        _check_timezone(source_tz, f"{origin}: [source] timezone")
    reporting_tz = reporting.get("timezone", "UTC")
    _check_timezone(reporting_tz, f"{origin}: [reporting] timezone")
    at_risk = reporting.get("at_risk_fraction", 0.75)
    if not isinstance(at_risk, int | float) or not 0 < at_risk <= 1:
        raise LoadError(f"{origin}: [reporting] at_risk_fraction: expected a number in (0, 1], got {at_risk!r}")

    calendars: dict[str, CalendarSpec] = {}
    for name, spec in tree.get("calendars", {}).items():
        if name == ALWAYS:
            raise LoadError(f"{origin}: [calendars.{ALWAYS}] is built in and cannot be redefined")
        calendars[name] = _parse_calendar(name, spec, origin)

    packages: dict[str, PackageSpec] = {}
    for name, spec in tree.get("packages", {}).items():
        packages[name] = _parse_package(name, spec, calendars, origin, default_rank=len(packages) + 1)
    return Config(source_tz, reporting_tz, float(at_risk), calendars, packages, raw=tree)


def _check_timezone(name: object, where: str) -> None:
    try:
        if not isinstance(name, str):
            raise ZoneInfoNotFoundError
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise LoadError(f"{where}: expected an IANA timezone such as 'America/Denver', got {name!r}") from None


def _parse_calendar(name: str, spec: dict[str, Any], origin: str) -> CalendarSpec:
    where = f"{origin}: [calendars.{name}]"
    tz = spec.get("timezone")
    _check_timezone(tz, f"{where} timezone")
    hours_spec = spec.get("hours")
    if not isinstance(hours_spec, dict):
        raise LoadError(f"{where} hours: expected a table such as {{ mon = \"07:00-18:00\" }}")
    for day in hours_spec:
        if day not in WEEKDAYS:
            raise LoadError(f"{where} hours: unknown day {day!r}, expected one of {', '.join(WEEKDAYS)}")
    hours = tuple(_parse_ranges(hours_spec.get(day, ""), f"{where} hours.{day}") for day in WEEKDAYS)
    hol = spec.get("holidays", {}) or {}
    unknown = sorted(set(hol) - {"country", "subdiv", "add", "remove"})
    if unknown:
        raise LoadError(f"{where} holidays: unknown key {unknown[0]!r}, expected country, subdiv, add or remove")
    country = hol.get("country") or None
    if country is not None and country not in holidays_lib.list_supported_countries():
        raise LoadError(f"{where} holidays.country: {country!r} is not a country the holidays package knows")
    return CalendarSpec(
        name=name,
        timezone=str(tz),
        hours=hours,
        holiday_country=country,
        holiday_subdivision=hol.get("subdiv") or None,
        holidays_add=tuple(_parse_date(d, f"{where} holidays.add") for d in hol.get("add", [])),
        holidays_remove=tuple(_parse_date(d, f"{where} holidays.remove") for d in hol.get("remove", [])),
    )


def _parse_ranges(text: object, where: str) -> tuple[tuple[int, int], ...]:
    """'08:00-12:00,13:00-17:00' -> ((480, 720), (780, 1020)); '' means a day off."""
    if not isinstance(text, str):
        raise LoadError(f"{where}: expected a string such as \"07:00-18:00\", got {text!r}")
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RANGE.match(part)
        if not m:
            raise LoadError(f"{where}: expected HH:MM-HH:MM ranges, got {part!r}")
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            raise LoadError(f"{where}: {part!r} is not a range within 00:00-24:00 that ends after it starts")
        if ranges and start < ranges[-1][1]:
            raise LoadError(f"{where}: {part!r} overlaps or precedes the range before it")
        ranges.append((start, end))
    return tuple(ranges)


def _parse_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LoadError(f"{where}: expected a date YYYY-MM-DD, got {value!r}") from None


def _severity_table(spec: object, where: str, kind: type) -> dict[int, Any]:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise LoadError(f"{where}: expected a table such as {{ 1 = 4, 2 = 8, 3 = 12 }}")
    out: dict[int, Any] = {}
    for key, value in spec.items():
        try:
            sev = int(key)
        except ValueError:
            sev = 0
        if sev not in SEVERITIES:
            raise LoadError(f"{where}: severity keys are 1, 2 or 3, got {key!r}")
        if kind is float and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
            raise LoadError(f"{where}.{key}: expected a positive number of hours, got {value!r}")
        out[sev] = value
    return out


def _parse_package(
    name: str, spec: dict[str, Any], calendars: dict[str, CalendarSpec], origin: str, default_rank: int
) -> PackageSpec:
    where = f"{origin}: [packages.{name}]"
    initial = _severity_table(spec.get("initial_response_hours"), f"{where} initial_response_hours", float)
    follow = _severity_table(spec.get("follow_up_hours"), f"{where} follow_up_hours", float)
    clock = {1: ALWAYS, 2: BUSINESS, 3: BUSINESS}
    clock.update(_severity_table(spec.get("clock"), f"{where} clock", str))
    for sev, value in clock.items():
        if value not in (ALWAYS, BUSINESS) and value not in calendars:
            raise LoadError(f"{where} clock.{sev}: expected '24x7', 'business' or a calendar name, got {value!r}")

    def number(key: str, default: float = 0) -> float:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise LoadError(f"{where} {key}: expected a number >= 0, got {value!r}")
        return value

    return PackageSpec(
        name=name,
        rank=int(spec.get("rank", default_rank)),
        initial_hours={k: float(v) for k, v in initial.items()},
        follow_up_hours={k: float(v) for k, v in follow.items()},
        clock=clock,
        authorized_contacts=int(number("authorized_contacts")),
        phone_support=bool(spec.get("phone_support", False)),
        service_days=number("service_days"),
        training_sessions=number("training_sessions"),
        features=tuple(spec.get("features", ())),
    )
