"""config.toml: every key is checked at load, so a config that loads can never break a page.

A bad value, a wrong type or an unknown key is refused with one sentence (a LoadError)
naming the key path and what was expected; nothing reaches a page or a traceback.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from metrics.errors import LoadError
from metrics.storage.config import MAX_TARGET_HOURS, config_from_json, load_config, parse_config
from metrics.storage.contract import TABLES
from metrics.storage.ingest import ingest
from metrics.storage.store import connect
from tests.random_cases import make_config_override, to_toml

GOLD = "[packages.Gold]\n"
AMERICAS = "[calendars.americas]\n"
# A new calendar that is valid but for the line a case adds.
APAC = '[calendars.apac]\ntimezone = "Asia/Singapore"\nhours = { mon = "09:00-18:00" }\n'

# (case id, config.toml text, fragments the one-sentence message must contain)
BAD_CONFIGS = [
    # ---- calendars without working time
    ("hours-empty", AMERICAS + "hours = {}", ["[calendars.americas] hours", "has no working time"]),
    (
        "hours-all-days-off",
        AMERICAS + 'hours = { mon = "", tue = "", wed = "", thu = "", fri = "", sat = "", sun = "" }',
        ["[calendars.americas] hours", "has no working time"],
    ),
    ("hours-not-table", AMERICAS + 'hours = "mon"', ["[calendars.americas] hours", "expected a table"]),
    ("hours-value-int", AMERICAS + "hours = { mon = 9 }", ["hours.mon", "expected a string"]),
    ("hours-value-list", AMERICAS + 'hours = { mon = ["07:00-18:00"] }', ["hours.mon", "expected a string"]),
    ("hours-unknown-day", AMERICAS + 'hours = { monday = "07:00-18:00" }', ["hours", "unknown day 'monday'", "expected"]),
    ("hours-bad-range", AMERICAS + 'hours = { mon = "18:00-07:00" }', ["hours.mon", "ends after it starts"]),
    ("hours-24-start", AMERICAS + 'hours = { mon = "24:00-24:00" }', ["hours.mon", "within 00:00-24:00"]),
    ("hours-overlap", AMERICAS + 'hours = { mon = "08:00-12:00,11:00-17:00" }', ["hours.mon", "overlaps"]),
    # ---- a calendar too slow for the longest target: the engine's horizon would run for millennia
    (
        "calendar-one-minute-a-week",
        '[calendars.tiny]\ntimezone = "UTC"\nhours = { sat = "10:00-10:01" }',
        ["[calendars.tiny] hours", "a week of 1 working minutes", "follow_up_hours", "expected at least"],
    ),
    # ---- holidays
    ("subdiv-unknown", AMERICAS + 'holidays = { country = "US", subdiv = "ZZ" }', ["holidays.subdiv", "'ZZ'", "expected"]),
    ("subdiv-lowercase", AMERICAS + 'holidays = { country = "US", subdiv = "ca" }', ["holidays.subdiv", "expected"]),
    ("subdiv-not-string", AMERICAS + 'holidays = { country = "US", subdiv = 5 }', ["holidays.subdiv", "expected"]),
    ("subdiv-without-country", AMERICAS + 'holidays = { country = "", subdiv = "CA" }', ["holidays.subdiv", "expected"]),
    ("country-list", AMERICAS + 'holidays = { country = ["US"] }', ["holidays.country", "expected"]),
    ("country-unknown", AMERICAS + 'holidays = { country = "XX" }', ["holidays.country", "'XX'", "expected"]),
    ("country-lowercase", AMERICAS + 'holidays = { country = "us" }', ["holidays.country", "expected"]),
    ("country-bool", AMERICAS + "holidays = { country = true }", ["holidays.country", "expected"]),
    ("holidays-string", AMERICAS + 'holidays = "US"', ["[calendars.americas] holidays", "expected a table"]),
    ("holidays-number", AMERICAS + "holidays = 5", ["[calendars.americas] holidays", "expected a table"]),
    ("holidays-unknown-key", AMERICAS + 'holidays = { countries = "US" }', ["holidays", "'countries'", "expected one of"]),
    ("holidays-add-string", AMERICAS + 'holidays = { add = "2026-12-24" }', ["holidays.add", "expected a list of dates"]),
    ("holidays-add-int", AMERICAS + "holidays = { add = [1] }", ["holidays.add", "expected a date"]),
    ("holidays-add-bad-text", AMERICAS + 'holidays = { add = ["24/12/2026"] }', ["holidays.add", "expected a date"]),
    ("holidays-add-bad-day", AMERICAS + 'holidays = { add = ["2026-02-30"] }', ["holidays.add", "expected a date"]),
    ("holidays-remove-datetime", AMERICAS + "holidays = { remove = [2026-12-24T10:00:00] }", ["holidays.remove", "expected a date"]),
    ("holidays-remove-table", AMERICAS + "holidays = { remove = { a = 1 } }", ["holidays.remove", "expected a list"]),
    # ---- timezones
    ("calendar-timezone-int", AMERICAS + "timezone = 5", ["[calendars.americas] timezone", "expected an IANA timezone"]),
    ("calendar-timezone-folder", AMERICAS + 'timezone = "America"', ["[calendars.americas] timezone", "expected"]),
    ("calendar-timezone-localtime", AMERICAS + 'timezone = "localtime"', ["[calendars.americas] timezone", "expected"]),
    ("calendar-timezone-missing", '[calendars.apac]\nhours = { mon = "09:00-18:00" }', ["[calendars.apac] timezone", "expected"]),
    ("reporting-timezone-empty", '[reporting]\ntimezone = ""', ["[reporting] timezone", "expected"]),
    ("reporting-timezone-path", '[reporting]\ntimezone = "../../etc/passwd"', ["[reporting] timezone", "expected"]),
    ("source-timezone-list", '[source]\ntimezone = ["UTC"]', ["[source] timezone", "expected"]),
    # ---- calendar names the clock reserves
    ("calendar-named-24x7", '[calendars.24x7]\ntimezone = "UTC"\nhours = { mon = "00:00-24:00" }', ["[calendars.24x7]", "built-in clock", "expected another calendar name"]),
    ("calendar-named-business", '[calendars.business]\ntimezone = "UTC"\nhours = { mon = "09:00-17:00" }', ["[calendars.business]", "built-in clock", "expected another calendar name"]),
    # ---- targets
    *(
        (f"{key}-{label}", f"{GOLD}{key} = {{ 1 = {value} }}", [f"[packages.Gold] {key}.1", "expected a positive, finite number of hours"])
        for key in ("initial_response_hours", "follow_up_hours")
        for label, value in (
            ("1e308", "1e308"),
            ("inf", "inf"),
            ("minus-inf", "-inf"),
            ("nan", "nan"),
            ("huge-int", "99999999999999999"),
            ("5e6", "5e6"),
            ("over-a-year", MAX_TARGET_HOURS + 1),
            ("zero", "0"),
            ("negative", "-4"),
            ("string", '"4"'),
            ("bool", "true"),
            ("list", "[4]"),
        )
    ),
    ("target-under-a-second", GOLD + "initial_response_hours = { 1 = 1e-9 }", ["initial_response_hours.1", "expected at least one second"]),
    ("target-severity-4", GOLD + "initial_response_hours = { 4 = 4 }", ["initial_response_hours", "expected severity keys 1, 2 or 3"]),
    ("target-severity-01", GOLD + 'initial_response_hours = { "01" = 4 }', ["initial_response_hours", "expected severity keys 1, 2 or 3"]),
    ("targets-not-table", GOLD + "initial_response_hours = 4", ["initial_response_hours", "expected a table"]),
    # ---- rank, entitlements, features, clock
    ("rank-string", GOLD + 'rank = "abc"', ["[packages.Gold] rank", "expected a non-negative integer"]),
    ("rank-float", GOLD + "rank = 1.5", ["[packages.Gold] rank", "expected a non-negative integer"]),
    ("rank-bool", GOLD + "rank = true", ["[packages.Gold] rank", "expected a non-negative integer"]),
    ("rank-negative", GOLD + "rank = -1", ["[packages.Gold] rank", "expected a non-negative integer"]),
    ("features-int", GOLD + "features = 5", ["[packages.Gold] features", "expected a list of strings"]),
    ("features-string", GOLD + 'features = "named_advisor"', ["[packages.Gold] features", "expected a list of strings"]),
    ("features-ints", GOLD + "features = [1, 2]", ["[packages.Gold] features", "expected a list of strings"]),
    ("clock-list", GOLD + 'clock = { 1 = ["x"] }', ["[packages.Gold] clock.1", "expected '24x7', 'business' or a calendar name"]),
    ("clock-unknown-calendar", GOLD + 'clock = { 2 = "apac" }', ["[packages.Gold] clock.2", "expected '24x7'"]),
    ("clock-int", GOLD + "clock = { 3 = 5 }", ["[packages.Gold] clock.3", "expected '24x7'"]),
    ("clock-severity-4", GOLD + 'clock = { 4 = "24x7" }', ["[packages.Gold] clock", "expected severity keys 1, 2 or 3"]),
    ("clock-not-table", GOLD + 'clock = "24x7"', ["[packages.Gold] clock", 'expected a table such as { 1 = "24x7"']),
    ("package-name-with-newline", '[packages."Gold\\nPlus"]\nrank = "x"', ['[packages."Gold\\nPlus"] rank', "expected"]),
    ("contacts-inf", GOLD + "authorized_contacts = inf", ["[packages.Gold] authorized_contacts", "expected a non-negative integer"]),
    ("contacts-float", GOLD + "authorized_contacts = 1.5", ["[packages.Gold] authorized_contacts", "expected a non-negative integer"]),
    ("contacts-negative", GOLD + "authorized_contacts = -1", ["[packages.Gold] authorized_contacts", "expected a non-negative integer"]),
    ("contacts-huge", GOLD + "authorized_contacts = 99999999999999999", ["[packages.Gold] authorized_contacts", "at most"]),
    ("contacts-bool", GOLD + "authorized_contacts = true", ["[packages.Gold] authorized_contacts", "expected"]),
    ("service-days-nan", GOLD + "service_days = nan", ["[packages.Gold] service_days", "expected a finite number >= 0"]),
    ("service-days-negative", GOLD + "service_days = -1", ["[packages.Gold] service_days", "expected a finite number >= 0"]),
    ("service-days-string", GOLD + 'service_days = "3"', ["[packages.Gold] service_days", "expected a finite number >= 0"]),
    ("training-inf", GOLD + "training_sessions = inf", ["[packages.Gold] training_sessions", "expected a finite number >= 0"]),
    ("training-bool", GOLD + "training_sessions = false", ["[packages.Gold] training_sessions", "expected a finite number >= 0"]),
    ("phone-string", GOLD + 'phone_support = "yes"', ["[packages.Gold] phone_support", "expected true or false"]),
    ("phone-int", GOLD + "phone_support = 1", ["[packages.Gold] phone_support", "expected true or false"]),
    ("dedicated-line-string", GOLD + 'dedicated_phone_line = "yes"', ["dedicated_phone_line", "expected true or false"]),
    # ---- at_risk_fraction
    *(
        (f"at-risk-{label}", f"[reporting]\nat_risk_fraction = {value}", ["[reporting] at_risk_fraction", "expected a number in (0, 1]"])
        for label, value in (("nan", "nan"), ("inf", "inf"), ("bool", "true"), ("zero", "0"), ("over-one", "1.5"), ("negative", "-0.5"), ("string", '"0.5"'))
    ),
    # ---- tables where a table is expected
    ("packages-int", "packages = 5", ["[packages]", "expected a table"]),
    ("packages-array-of-tables", "[[packages]]\nname = 'Gold'", ["[packages]", "expected a table"]),
    ("package-string", 'packages = { Gold = "x" }', ["[packages.Gold]", "expected a table"]),
    ("calendars-list", "calendars = [1]", ["[calendars]", "expected a table"]),
    ("calendar-int", "calendars = { americas = 5 }", ["[calendars.americas]", "expected a table"]),
    ("reporting-string", 'reporting = "x"', ["[reporting]", "expected a table"]),
    ("source-int", "source = 5", ["[source]", "expected a table"]),
    # ---- unknown keys: a typo must not silently mean "unset"
    ("package-typo", GOLD + "initial_response_hour = { 1 = 4 }", ["[packages.Gold]", "'initial_response_hour'", "did you mean 'initial_response_hours'", "expected one of"]),
    ("package-unknown", GOLD + "colour = 'gold'", ["[packages.Gold]", "'colour'", "expected one of", "training_sessions"]),
    ("calendar-typo", AMERICAS + 'holiday = { country = "US" }', ["[calendars.americas]", "'holiday'", "expected one of holidays, hours, timezone"]),
    ("reporting-typo", "[reporting]\nat_risk = 0.5", ["[reporting]", "'at_risk'", "expected one of at_risk_fraction"]),
    ("breach-severity-unknown", '[reporting]\nbreach_severity = "worst"',
     ["[reporting] breach_severity", "expected one of at_breach, final"]),
    ("incident-window-negative", "[reporting]\nescalation_incident_hours = -1",
     ["[reporting] escalation_incident_hours", "hours"]),
    ("incident-window-text", '[reporting]\nescalation_incident_hours = "a day"',
     ["[reporting] escalation_incident_hours", "hours"]),
    ("target-attainment-above-one", "[packages.Gold]\ntarget_attainment = 1.5",
     ["[packages.Gold] target_attainment", "a share in (0, 1]"]),
    ("target-attainment-zero", "[packages.Gold]\ntarget_attainment = 0",
     ["[packages.Gold] target_attainment", "a share in (0, 1]"]),
    ("min-bucket-negative", "[reporting]\nmin_bucket_obligations = -5",
     ["[reporting] min_bucket_obligations", "a non-negative integer"]),
    ("min-bucket-fraction", "[reporting]\nmin_bucket_obligations = 2.5",
     ["[reporting] min_bucket_obligations", "a non-negative integer"]),
    ("source-typo", '[source]\ntimezones = "UTC"', ["[source]", "'timezones'", "expected one of timezone"]),
    ("top-level-setting", "at_risk_fraction = 0.5", ["top-level key 'at_risk_fraction'", "expected a [section]"]),
    # ---- terms that change over time: [[packages.NAME.versions]] and [[overrides]]
    ("version-no-from", "[[packages.Gold.versions]]\ninitial_response_hours = { 1 = 2 }",
     ["[[packages.Gold.versions]] entry 1", "missing from", "expected the date"]),
    ("version-bad-date", '[[packages.Gold.versions]]\nfrom = "2026-02-30"\ninitial_response_hours = { 1 = 2 }',
     ["[[packages.Gold.versions]] entry 1 from", "expected a date YYYY-MM-DD", "'2026-02-30'"]),
    ("version-date-time", "[[packages.Gold.versions]]\nfrom = 2026-07-01T00:00:00\ninitial_response_hours = { 1 = 2 }",
     ["[[packages.Gold.versions]] entry 1 from", "expected a date"]),
    ("version-date-out-of-range", "[[packages.Gold.versions]]\nfrom = 1900-01-01\ninitial_response_hours = { 1 = 2 }",
     ["entry 1 from", "between 1970-01-01 and 2100-12-31"]),
    ("version-unknown-key", "[[packages.Gold.versions]]\nfrom = 2026-07-01\ninitial_response_hour = { 1 = 2 }",
     ["[[packages.Gold.versions]] entry 1", "'initial_response_hour'", "did you mean 'initial_response_hours'"]),
    ("version-rank", "[[packages.Gold.versions]]\nfrom = 2026-07-01\nrank = 9",
     ["[[packages.Gold.versions]] entry 1", "unknown key 'rank'"]),
    ("version-nothing", "[[packages.Gold.versions]]\nfrom = 2026-07-01",
     ["[[packages.Gold.versions]] entry 1", "changes nothing"]),
    ("version-bad-target", "[[packages.Gold.versions]]\nfrom = 2026-07-01\ninitial_response_hours = { 1 = -2 }",
     ["[[packages.Gold.versions]] entry 1 (from 2026-07-01) initial_response_hours.1", "expected a positive"]),
    ("version-bad-clock", '[[packages.Gold.versions]]\nfrom = 2026-07-01\nclock = { 2 = "apac" }',
     ["[[packages.Gold.versions]] entry 1 (from 2026-07-01) clock.2", "expected '24x7'"]),
    ("version-same-date", "[[packages.Gold.versions]]\nfrom = 2026-07-01\nservice_days = 4\n"
     "[[packages.Gold.versions]]\nfrom = 2026-07-01\ntraining_sessions = 5",
     ["[[packages.Gold.versions]] entry 2 from", "one version per date"]),
    ("version-unknown-package", "[[packages.Goldd.versions]]\nfrom = 2026-07-01\nservice_days = 4",
     ["[[packages.Goldd.versions]]", "'Goldd' is not a package", "did you mean 'Gold'"]),
    ("versions-not-list", GOLD + 'versions = "2026-07-01"', ["[[packages.Gold.versions]]", "expected a list of tables"]),
    ("override-no-account", "[[overrides]]\nfrom = 2026-01-01\nfollow_up_hours = { 1 = 12 }",
     ["[[overrides]] entry 1 account_id", "expected the account_id of an account"]),
    ("override-account-int", "[[overrides]]\naccount_id = 2\nfollow_up_hours = { 1 = 12 }",
     ["[[overrides]] entry 1 account_id", "got 2"]),
    ("override-bad-date", '[[overrides]]\naccount_id = "A1"\nfrom = "next year"\nfollow_up_hours = { 1 = 12 }',
     ["[[overrides]] entry 1 from", "expected a date YYYY-MM-DD"]),
    ("override-unknown-key", '[[overrides]]\naccount_id = "A1"\npackage = "Gold"\nfollow_up_hours = { 1 = 12 }',
     ["[[overrides]] entry 1", "unknown key 'package'", "expected one of account_id"]),
    ("override-bad-value", '[[overrides]]\naccount_id = "A1"\nfollow_up_hours = { 1 = inf }',
     ["[[overrides]] entry 1 (from the start) follow_up_hours.1", "expected a positive"]),
    ("override-twice-from-the-start", '[[overrides]]\naccount_id = "A1"\nservice_days = 1\n'
     '[[overrides]]\naccount_id = "A1"\nservice_days = 2',
     ["[[overrides]] entry 2", "from the start comes earlier", "one override per account and date"]),
    ("overrides-table", '[overrides]\naccount_id = "A1"', ["[[overrides]]", "expected a list of tables"]),
    # ---- not TOML at all
    ("nested-arrays-50000", "a = " + "[" * 50000 + "]" * 50000, ["not valid TOML", "nested too deeply"]),
    ("nested-inline-tables", "a = " + "{ b = " * 5000 + "1" + " }" * 5000, ["not valid TOML", "nested too deeply"]),
    # valid TOML (dotted keys nest without recursion) but too deep to copy or store
    ("nested-dotted-keys", "a" + ".a" * 2000 + " = 1", ["not valid TOML", "nested too deeply"]),
    ("nested-dotted-keys-50000", "a" + ".a" * 50_000 + " = 1", ["not valid TOML", "nested too deeply"]),  # refused before parsing
    ("syntax", "[reporting\ntimezone = 1", ["not valid TOML"]),
    ("integer-5000-digits", "x = " + "9" * 5000, ["not valid TOML"]),
]


def write_config(folder: Path, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def refused(folder: Path) -> str:
    with pytest.raises(LoadError) as info:
        load_config(folder)
    message = str(info.value)
    assert "\n" not in message and message.startswith("config.toml"), message
    assert len(message) < 400, message
    return message


@pytest.mark.parametrize(("text", "fragments"), [pytest.param(t, f, id=i) for i, t, f in BAD_CONFIGS])
def test_bad_config_is_refused_with_one_sentence_naming_the_key(tmp_path, text, fragments):
    """Each bad config gives one LoadError sentence naming the key path and what was expected."""
    message = refused(write_config(tmp_path, text))
    for fragment in fragments:
        assert fragment in message, message


def test_not_utf8_is_refused(tmp_path):
    """A config.toml in another encoding is refused as not UTF-8, not with a decode traceback."""
    message = refused(write_config(tmp_path, '[reporting]\ntimezone = "Europe/Zürich"\n'.encode("latin-1")))
    assert "not valid TOML (not UTF-8 text)" in message


def test_unreadable_config_is_refused(tmp_path):
    """A config.toml that cannot be read (here a folder) is one sentence too."""
    (tmp_path / "config.toml").mkdir()
    assert "config.toml: could not be read" in refused(tmp_path)


# ---------------------------------------------------------------- what still loads
README_EXAMPLE = """
    [reporting]
    timezone = "America/Denver"        # days and ISO weeks are cut here
    at_risk_fraction = 0.75

    [calendars.americas]
    timezone = "America/Denver"
    hours = { mon = "07:00-18:00", tue = "07:00-18:00", wed = "07:00-18:00", thu = "07:00-18:00", fri = "07:00-18:00" }
    holidays = { country = "US", add = ["2026-12-24"], remove = [] }   # also subdiv = "NSW", ...

    [packages.Gold]
    initial_response_hours = { 1 = 4, 2 = 8, 3 = 12 }
    follow_up_hours = { 1 = 32, 2 = 72, 3 = 72 }
"""
# The data contract's example, its inline `hours` table joined onto one line (TOML 1.0,
# which tomllib reads, does not allow an inline table over several lines).
CONTRACT_EXAMPLE = """
    [source]
    timezone = "America/Denver"      # only used for naive timestamps

    [reporting]
    timezone = "America/Denver"      # weeks (ISO, Monday first) and days are cut here
    at_risk_fraction = 0.75

    [calendars.americas]
    timezone = "America/Denver"
    hours = { mon = "07:00-18:00", tue = "07:00-18:00", wed = "07:00-18:00", thu = "07:00-18:00", fri = "07:00-18:00" }
    holidays = { country = "US", add = ["2026-12-24"], remove = [] }  # country is optional

    [packages.Gold]
    initial_response_hours = { 1 = 4, 2 = 8, 3 = 12 }
    follow_up_hours = { 1 = 32, 2 = 72, 3 = 72 }
    clock = { 1 = "24x7", 2 = "business", 3 = "business" }
    authorized_contacts = 3
    service_days = 3
    training_sessions = 4
    phone_support = true
    features = ["named_advisor", "proactive_planning", "senior_advisor_cases"]
"""
# The README's terms that change over time (and docs/sla-clock.md's, with a string date).
README_TERMS_EXAMPLE = """
    [[packages.Gold.versions]]          # Gold's keys as changed from a date on
    from = 2026-07-01
    initial_response_hours = { 1 = 2 }  # tables merge key by key: only severity 1 changes

    [[overrides]]                       # an account's negotiated terms (the account must exist)
    account_id = "ACC-0002"
    from = "2026-01-01"                 # optional; without it, from the start
    follow_up_hours = { 1 = 12 }
"""
GOOD_CONFIGS = {
    "readme-example": README_EXAMPLE,
    "readme-terms-example": README_TERMS_EXAMPLE,
    "contract-example": CONTRACT_EXAMPLE,
    "bpic2014-doc-netherlands": """
        [calendars.emea]
        timezone = "Europe/Amsterdam"
        hours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-18:00" }
        holidays = { country = "NL" }

        [reporting]
        timezone = "Europe/Amsterdam"
    """,
    "bpic2013-doc-belgium": '[calendars.emea]\ntimezone = "Europe/Brussels"\nholidays = { country = "BE" }\n',
    "lunch-break": AMERICAS + 'hours = { mon = "08:00-12:00,13:00-17:00", tue = "08:00-12:00, 13:00-17:00" }\n',
    "round-the-clock": AMERICAS + 'hours = { mon = "00:00-24:00", sat = "00:00-12:00" }\n',
    "no-country": AMERICAS + 'holidays = { country = "" }\n',
    "us-california": AMERICAS + 'holidays = { country = "US", subdiv = "CA" }\n',
    "australia-nsw": '[calendars.sydney]\ntimezone = "Australia/Sydney"\nhours = { mon = "08:30-17:30" }\n'
    'holidays = { country = "AU", subdiv = "NSW", add = [2026-12-24], remove = ["2026-12-25"] }\n',
    "new-calendar-and-package": APAC + '[packages.Learning]\nrank = 7\nclock = { 1 = "apac", 2 = "24x7" }\n'
    "initial_response_hours = { 1 = 0.5, 2 = 8784 }\nauthorized_contacts = 0\nservice_days = 1.5\n",
    "importer-and-future-sections": '[importer]\nname = "bpic2013"\nseverity_map = { Major = 1 }\n'
    '[[future]]\naccount = "A1"\n[[future]]\naccount = "A2"\n',
    "top-level-empty-table": "[future]\n",
    # A year-long 24x7 target beside a one-day-a-week desk: the target never runs on that calendar.
    "weekend-desk-and-year-long-24x7-target": '[calendars.weekend]\ntimezone = "UTC"\nhours = { sat = "09:00-18:00" }\n'
    '[packages.Archive]\ninitial_response_hours = { 1 = 8784 }\nclock = { 1 = "24x7" }\n',
    "randomized-test-config": to_toml(make_config_override()),
}


@pytest.mark.parametrize("text", list(GOOD_CONFIGS.values()), ids=list(GOOD_CONFIGS))
def test_valid_config_loads_and_survives_the_store_round_trip(tmp_path, text):
    """Documented and tested configs still load, and re-reading the stored JSON gives the same specs."""
    config = load_config(write_config(tmp_path, text))
    again = config_from_json(config.to_json())
    assert (again.calendars, again.packages, again.at_risk_fraction) == (
        config.calendars,
        config.packages,
        config.at_risk_fraction,
    )
    assert (again.versions, again.overrides, again.terms) == (config.versions, config.overrides, config.terms)


def test_defaults_and_bundled_sample_load():
    """The built-in defaults and the bundled sample's config.toml pass the checks."""
    defaults = load_config(None)
    assert set(defaults.packages) >= {"Standard", "Gold", "Premier"}
    assert set(load_config(Path(__file__).parents[2] / "data" / "sample").calendars) == {"americas", "emea", "japan"}


def test_values_are_read_as_written(tmp_path):
    """A config that loads gives the typed values the engine runs with (defaults where unset)."""
    config = load_config(write_config(tmp_path, GOOD_CONFIGS["australia-nsw"] + GOOD_CONFIGS["new-calendar-and-package"]))
    sydney = config.calendars["sydney"]
    assert (sydney.holiday_country, sydney.holiday_subdivision) == ("AU", "NSW")
    assert [str(d) for d in (*sydney.holidays_add, *sydney.holidays_remove)] == ["2026-12-24", "2026-12-25"]
    learning = config.packages["Learning"]
    assert learning.initial_hours == {1: 0.5, 2: 8784.0}
    assert learning.clock == {1: "apac", 2: "24x7", 3: "business"}
    assert (learning.rank, learning.authorized_contacts, learning.service_days) == (7, 0, 1.5)
    assert (learning.phone_support, learning.features) == (False, ())


# ---------------------------------------------------------------- the stored config
@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('{"packages": {"Gold": {"initial_response_hours": {"1": Infinity}}}}', ["stored config: [packages.Gold] initial_response_hours.1", "expected"]),
        ('{"calendars": {"americas": {"hours": {}}}}', ["stored config: [calendars.americas]", "expected"]),
        ('{"reporting": {"at_risk_fraction": NaN}}', ["stored config: [reporting] at_risk_fraction", "expected"]),
        ("[1, 2]", ["stored config", "expected a TOML document"]),
        ("{not json", ["stored config: not valid JSON"]),
        ("[" * 100000 + "]" * 100000, ["stored config: not valid JSON"]),
    ],
    ids=["inf-target", "no-hours", "nan-fraction", "list", "syntax", "nested"],
)
def test_stored_config_goes_through_the_same_checks(text, fragments):
    """config_from_json (the config re-read with a store) refuses what a load would refuse."""
    with pytest.raises(LoadError) as info:
        config_from_json(text)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_parse_config_refuses_a_deep_tree():
    """parse_config on a tree from code is bounded too (copy and json would overflow the stack)."""
    tree: dict = {}
    node = tree
    for _ in range(2000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(LoadError, match="nested too deeply"):
        parse_config({"future": tree})


# ---------------------------------------------------------------- through the loader
def counts(db_path: Path) -> dict[str, object]:
    con = connect(db_path, read_only=True)
    try:
        out: dict[str, object] = {t.name: con.execute(f"select count(*) from {t.name}").fetchone() for t in TABLES}
        out["config"] = con.execute("select value from settings where key = 'config'").fetchall()
        return out
    finally:
        con.close()


@pytest.mark.parametrize(
    "bad",
    [
        '[packages.Gold]\ninitial_response_hours = { 2 = inf }\n',
        '[calendars.americas]\nholidays = { country = "US", subdiv = "ZZ" }\n',
        '[packages.Gold]\ninitial_response_hour = { 1 = 4 }\n',
    ],
    ids=["inf-target", "unknown-subdiv", "typo"],
)
def test_bad_config_fails_the_load_and_keeps_the_store(make_dataset, db_path, bad):
    """ingest refuses a bad config.toml with its sentence and the store keeps the previous load."""
    ingest(make_dataset(config__toml='[reporting]\ntimezone = "UTC"\n'), db_path)
    before = counts(db_path)
    assert before["cases"] == (2,)
    with pytest.raises(LoadError, match=r"^config\.toml: \[(packages|calendars)\."):
        ingest(make_dataset(config__toml=bad, **{"cases.csv": "case_id,account_id,opened_at,severity\nC9,A1,2026-03-06T23:00:00Z,1\n"}), db_path)
    assert counts(db_path) == before
    assert json.loads(before["config"][0][0])["reporting"]["timezone"] == "UTC"


def test_an_override_of_an_unknown_account_fails_the_load_and_keeps_the_store(make_dataset, db_path):
    """[[overrides]] naming no stored account is refused with one sentence; a known one loads."""
    ingest(make_dataset(config__toml='[[overrides]]\naccount_id = "A1"\nfollow_up_hours = { 1 = 12 }\n'), db_path)
    before = counts(db_path)
    bad = '[[overrides]]\naccount_id = "A1"\nservice_days = 5\n[[overrides]]\naccount_id = "A9"\nservice_days = 1\n'
    with pytest.raises(LoadError) as info:
        ingest(make_dataset(config__toml=bad), db_path)
    assert str(info.value) == (
        "config.toml: [[overrides]] entry 2 account_id: 'A9' is not an account of accounts.csv; "
        "expected the account_id of a stored account"
    )
    assert counts(db_path) == before
