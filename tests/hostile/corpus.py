"""A corpus of hostile datasets, each with the outcome the data contract promises for it.

Every case is a small dataset folder: the base dataset below with some files replaced,
added or removed (and, where the hostility is in the file system, symlinks or
directories in place of files). Its expected outcome comes from the spec
(data-contract.md, "Bad input: what happens" and the config.toml section), never from
what the loader happens to do today:

- ``fatal``: the load raises LoadError with one sentence naming the file or config key
  and what was expected (``detail`` holds fragments of that sentence), and nothing
  stored changes;
- ``quarantine``: the load succeeds and the row at ``file``/``line`` is quarantined
  under the rule code ``detail``; the good rows load;
- ``loads``: the load succeeds with nothing quarantined.

A dataset that loads must then render every page and serve every CLI command.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

Outcome = Literal["fatal", "quarantine", "loads"]

# ---------------------------------------------------------------- the base dataset
# Three accounts on the three built-in calendars and three targeted packages, three cases
# in ISO week 2026-W11 (one breached, one paused, one escalated), and every optional table.
BASE_ROWS: dict[str, list[str]] = {
    "accounts.csv": [
        "account_id,name,region,advisor",
        "A1,Acme,americas,Ann",
        "A2,Beta,japan,Bo",
        "A3,Gamma,emea,Ann",
    ],
    "subscriptions.csv": [
        "account_id,package,start_date,end_date",
        "A1,Gold,2026-01-01,2026-12-31",
        "A2,Silver,2026-01-01,2026-12-31",
        "A3,Platinum,2026-01-01,2026-12-31",
    ],
    "cases.csv": [
        "case_id,account_id,opened_at,severity,contact_id,channel,subject,owner,closed_at,development_ticket",
        "C1,A1,2026-03-06T23:00:00Z,2,K1,email,Login fails,Ola,,false",
        "C2,A2,2026-03-10T01:00:00Z,3,K2,web,Slow report,Ola,2026-03-11T00:00:00Z,false",
        "C3,A3,2026-03-10T15:00:00Z,1,K3,phone,Outage,Per,2026-03-12T00:00:00Z,true",
    ],
    "responses.csv": [
        "case_id,at,author_type,public",
        "C1,2026-03-09T18:30:00Z,agent,true",
        "C2,2026-03-10T02:00:00Z,agent,",
        "C3,2026-03-10T18:00:00Z,agent,true",  # Platinum S1 is 2 h: breached at 17:00Z
        "C3,2026-03-10T19:00:00Z,customer,true",
    ],
    "case_changes.csv": [
        "case_id,at,field,value",
        "C3,2026-03-10T16:00:00Z,escalation,1",
        "C1,2026-03-10T12:00:00Z,status,pending_customer",
        "C1,2026-03-11T12:00:00Z,status,open",
    ],
    "contacts.csv": [
        "contact_id,account_id,name,email,authorized,authorized_from,authorized_to",
        "K1,A1,Kim,kim@example.com,true,2026-01-01,",
        "K2,A2,Kei,kei@example.com,true,,",
        "K3,A3,Kit,kit@example.com,false,,",
    ],
    "standing.csv": [
        "account_id,suspended_from,suspended_to",
        "A2,2026-06-01T00:00:00Z,2026-06-15T00:00:00Z",
    ],
    "engagements.csv": [
        "account_id,date,kind,quantity,note",
        "A1,2026-03-12,service_day,1,Kickoff",
        "A3,2026-03-13,training_session,2,",
    ],
}
BASE: dict[str, str] = {name: "\n".join(rows) + "\n" for name, rows in BASE_ROWS.items()}
# The file line (header = 1) a row appended to a base file lands on.
NEXT_LINE = {name: len(rows) + 1 for name, rows in BASE_ROWS.items()}
BASE_COUNTS = {name.removesuffix(".csv"): len(rows) - 1 for name, rows in BASE_ROWS.items()}
EXPORT_COLUMNS = (  # data-contract.md, "The obligations export"
    "case_id", "account_id", "package", "kind", "seq", "start_at", "severity", "calendar",
    "target_seconds", "deadline_at", "end_at", "elapsed_seconds", "status", "breached_at",
)  # fmt: skip
WEEKLY_KEYS = (  # sla-rules.md section 7
    "account_id", "week", "opened", "closed", "active_at_end", "initial_met", "follow_up_met",
    "initial_breached", "follow_up_breached", "initial_running_at_end", "follow_up_running_at_end",
    "breached_case_ids", "escalations",
)  # fmt: skip


def plus(name: str, *rows: str, newline: bool = True) -> str:
    """A base file with rows appended: plus("cases.csv", "C9,...") puts C9 on NEXT_LINE["cases.csv"]."""
    return "\n".join(BASE_ROWS[name] + list(rows)) + ("\n" if newline else "")


def replace(name: str, old: str, new: str) -> str:
    """A base file with one value replaced (exactly once, so a typo in a case fails loudly)."""
    assert BASE[name].count(old) == 1, (name, old)
    return BASE[name].replace(old, new)


def epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def jsonl(*rows: dict[str, object] | str) -> str:
    """JSON Lines; a str row is written as it is (a broken line)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def parquet(columns: dict[str, pa.Array]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def cases_parquet(tz: str | None, opened: list[dt.datetime], severities: list[int] | None = None) -> bytes:
    """The base cases as Parquet with timestamps of the given zone (None: naive)."""
    ts = pa.timestamp("us", tz=tz)
    closed = [None, opened[1] + dt.timedelta(hours=23), opened[2] + dt.timedelta(days=1, hours=9)]
    return parquet({
        "case_id": pa.array(["C1", "C2", "C3"]),
        "account_id": pa.array(["A1", "A2", "A3"]),
        "opened_at": pa.array(opened, ts),
        "severity": pa.array(severities or [2, 3, 1], pa.int64()),
        "subject": pa.array(["Login fails", "Slow report", "Outage"]),
        "closed_at": pa.array(closed, ts),
        "development_ticket": pa.array([False, False, True]),
    })


# The base cases' instants in UTC, and the same instants as naive Denver wall time
# (MST before 2026-03-08, MDT after): a dataset with [source] timezone = "America/Denver".
UTC_OPENED = [dt.datetime(2026, 3, 6, 23), dt.datetime(2026, 3, 10, 1), dt.datetime(2026, 3, 10, 15)]
DENVER_OPENED = [dt.datetime(2026, 3, 6, 16), dt.datetime(2026, 3, 9, 19), dt.datetime(2026, 3, 10, 9)]
SOURCE_DENVER = '[source]\ntimezone = "America/Denver"\n'


@dataclass(frozen=True)
class Case:
    """One hostile dataset and what the spec says a load of it does."""

    name: str
    files: dict[str, bytes | str | None]  # over BASE; None removes the file
    expect: Outcome
    detail: str | tuple[str, ...]  # fatal: fragments of the message; quarantine: the rule code
    file: str = ""  # quarantine: the file of the quarantined row
    line: int = 0  # quarantine: its line (CSV: header = 1; JSONL: line; Parquet: row from 1)
    symlinks: dict[str, str] = field(default_factory=dict)  # name in the folder -> link target
    dirs: tuple[str, ...] = ()  # directories created where a file is expected
    folder_link: bool = False  # the dataset path handed over is a symlink to the folder
    store: bytes | None = None  # bytes written at the store path before the load (no base load)
    forbidden: tuple[str, ...] = ()  # fatal: what the message must not reveal
    stored: dict[str, int] = field(default_factory=dict)  # table -> rows stored after the load
    checks: tuple[tuple[str, object], ...] = ()  # (SQL on the store, expected single value)
    markup: tuple[str, ...] = ()  # values that must never reach rendered Markdown or HTML raw
    account: str = "A1"  # for `weekly --account`
    case_id: str = "C1"  # for `explain --case` (a nonexistent id is fine)

    @property
    def fragments(self) -> tuple[str, ...]:
        return (self.detail,) if isinstance(self.detail, str) else self.detail


def fatal(name: str, files: dict[str, bytes | str | None], *fragments: str, **kw: object) -> Case:
    return Case(name, files, "fatal", fragments, **kw)  # type: ignore[arg-type]


def quarantined(name: str, files: dict[str, bytes | str | None], rule: str, file: str, line: int, **kw: object) -> Case:
    return Case(name, files, "quarantine", rule, file=file, line=line, **kw)  # type: ignore[arg-type]


def loads(name: str, files: dict[str, bytes | str | None], **kw: object) -> Case:
    return Case(name, files, "loads", "", **kw)  # type: ignore[arg-type]


def config(text: str) -> dict[str, bytes | str | None]:
    return {"config.toml": text}


# ---------------------------------------------------------------- generated content
CASES_HEADER = BASE_ROWS["cases.csv"][0]
EXTRA_COLUMNS = [f"x{i:05d}" for i in range(10_000)]


def wide_cases(drop: str | None = None) -> str:
    """cases.csv with 10,000 extra columns after the contract's (and `drop` left out)."""
    keep = [i for i, c in enumerate(CASES_HEADER.split(",")) if c != drop]
    rows = [CASES_HEADER.split(",")] + [r.split(",") for r in BASE_ROWS["cases.csv"][1:]]
    out = []
    for n, row in enumerate(rows):
        extra = EXTRA_COLUMNS if n == 0 else [str(i % 97) for i in range(len(EXTRA_COLUMNS))]
        out.append(",".join([row[i] for i in keep] + extra))
    return "\n".join(out) + "\n"


HUGE_SUBJECT = ("Lorem ipsum dolor sit amet " * 40_000)[:1_000_000]
QUOTED_SUBJECT = 'Crash, then reboot\nsecond line, "quoted", and more'
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](https://evil.example)"
PASSWD_LINE = "root:x:"
DEEP_ARRAYS = "[importer]\na = " + "[" * 50_000 + "]" * 50_000 + "\n"
# tomllib reads dotted keys in quadratic time (50,000 levels take ~50 s): 5,000 show the same refusal.
DEEP_DOTTED = "[importer]\n" + ".".join(["a"] * 5_000) + " = 1\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(range(256)) * 8
NOT_UTF8 = bytes(range(0x80, 0x100)) * 64  # no NUL, no BOM, no newline: invalid UTF-8 throughout


def gold_target(value: str) -> dict[str, bytes | str | None]:
    return config(f"[packages.Gold]\ninitial_response_hours = {{ 1 = {value}, 2 = 8, 3 = 12 }}\n")


VALID_CONFIG = """
[source]
timezone = "America/Denver"

[reporting]
timezone = "Europe/London"
at_risk_fraction = 1

[calendars.apac]                 # a new calendar: split ranges, a weekend day to 24:00
timezone = "Australia/Sydney"
hours = { mon = "08:00-12:00,13:00-17:00", sat = "10:00-24:00" }
holidays = { country = "AU", subdiv = "NSW", add = [2026-03-11], remove = [] }

[calendars.japan]                # keeps Japan's national holidays, adds one
holidays = { add = [2026-03-12] }

[calendars.americas]             # no country rules at all
holidays = { country = "" }

[packages.Gold]                  # a target of exactly one year, and a clock on another calendar
initial_response_hours = { 1 = 0.5, 2 = 8784, 3 = 12 }
clock = { 1 = "24x7", 2 = "apac", 3 = "business" }

[packages.Diamond]               # a new top tier
rank = 9
initial_response_hours = { 1 = 1, 2 = 4, 3 = 8 }
follow_up_hours = { 1 = 12, 2 = 48, 3 = 48 }
authorized_contacts = 20
service_days = 12.5
features = []
"""

CRLF = {name: text.replace("\n", "\r\n") for name, text in BASE.items()}
BOM = {name: "\ufeff" + text for name, text in BASE.items()}

# ---------------------------------------------------------------- the corpus
CASES: list[Case] = [
    # ------------------------------------------------------------ loads, clean
    loads("base", {}, stored=BASE_COUNTS),
    loads(
        "required_tables_and_columns_only",
        {
            "cases.csv": "case_id,account_id,opened_at,severity\nC1,A1,2026-03-06T23:00:00Z,2\n",
            "responses.csv": "case_id,at,author_type\nC1,2026-03-09T18:30:00Z,agent\n",
            "accounts.csv": "account_id,name,region\nA1,Acme,americas\n",
            "subscriptions.csv": "account_id,package,start_date,end_date\nA1,Gold,2026-01-01,2026-12-31\n",
            "case_changes.csv": None, "contacts.csv": None, "standing.csv": None, "engagements.csv": None,
        },
        stored={"cases": 1, "responses": 1, "accounts": 1},
    ),
    loads(
        "optional_tables_header_only",
        {name: BASE_ROWS[name][0] + "\n" for name in ("case_changes.csv", "contacts.csv", "standing.csv",
                                                      "engagements.csv")},
        stored={"cases": 3, "case_changes": 0, "contacts": 0, "standing": 0, "engagements": 0},
    ),
    # A UTF-8 byte order mark before the header must not rename the first column.
    loads("utf8_bom_on_every_csv", BOM, stored=BASE_COUNTS,
          checks=(("select count(*) from accounts where account_id = 'A1'", 1),)),
    loads("crlf_line_endings", CRLF, stored=BASE_COUNTS,
          checks=(("select count(*) from cases where closed_at is not null", 2),
                  ("select count(*) from engagements where note like '%\r%'", 0))),
    loads(
        "trailing_spaces_in_values",
        {
            "cases.csv": BASE["cases.csv"].replace(",2,", ",2  ,").replace("T23:00:00Z,", "T23:00:00Z   ,"),
            "responses.csv": BASE["responses.csv"].replace("agent,true", "agent  ,true   "),
        },
        stored=BASE_COUNTS,
        checks=(("select severity from cases where case_id = 'C1'", 2),
                ("select epoch(opened_at) from cases where case_id = 'C1'", epoch("2026-03-06T23:00:00+00:00"))),
    ),
    loads(  # a tab is whitespace too (spreadsheets leave them behind)
        "trailing_tabs_in_values",
        {
            "cases.csv": BASE["cases.csv"].replace(",2,", ",2\t,").replace("T23:00:00Z,", "T23:00:00Z \t,"),
            "responses.csv": BASE["responses.csv"].replace("agent,true", "agent\t,true\t"),
        },
        stored=BASE_COUNTS,
        checks=(("select severity from cases where case_id = 'C1'", 2),
                ("select epoch(opened_at) from cases where case_id = 'C1'", epoch("2026-03-06T23:00:00+00:00"))),
    ),
    loads(
        "quoted_fields_with_commas_and_newlines",
        {"cases.csv": replace("cases.csv", "Login fails", '"' + QUOTED_SUBJECT.replace('"', '""') + '"')},
        stored={"cases": 3},
        checks=(("select subject from cases where case_id = 'C1'", QUOTED_SUBJECT),),
    ),
    loads(
        "huge_field_1mb_subject",
        {"cases.csv": replace("cases.csv", "Login fails", HUGE_SUBJECT)},
        stored={"cases": 3},
        checks=(("select length(subject) from cases where case_id = 'C1'", 1_000_000),),
    ),
    loads("ten_thousand_extra_columns", {"cases.csv": wide_cases()}, stored={"cases": 3}),
    loads(
        "odd_extra_column_names",
        {"accounts.csv": BASE["accounts.csv"].replace("advisor\n", 'advisor,Note (free text),ключ,"a,b",x.y-z\n', 1)
         .replace("Ann\n", "Ann,n,к,ab,xy\n").replace("Bo\n", "Bo,,,,\n")},
        stored={"accounts": 3},
    ),
    loads("dataset_folder_is_a_symlink", {}, folder_link=True, stored=BASE_COUNTS, case_id="NO-SUCH-CASE"),
    loads(
        "timestamps_at_the_lower_bound_1970",
        {
            "subscriptions.csv": plus("subscriptions.csv", "A1,Bronze,1970-01-01,1970-12-31"),
            "cases.csv": plus("cases.csv", "C9,A1,1970-01-01T00:00:00Z,3,,,First second,,,"),
        },
        stored={"cases": 4, "subscriptions": 4},
        case_id="C9",
    ),
    loads(
        "timestamps_at_the_upper_bound_2100",
        {
            "subscriptions.csv": plus("subscriptions.csv", "A1,Bronze,2100-01-01,2100-12-31"),
            "cases.csv": plus("cases.csv", "C9,A1,2100-12-31T23:59:59Z,3,,,Last second,,,"),
        },
        stored={"cases": 4, "subscriptions": 4},
        case_id="C9",
    ),
    loads(
        "offsets_at_the_limits",
        {"cases.csv": BASE["cases.csv"].replace("2026-03-10T01:00:00Z", "2026-03-09T11:00:00-14:00")
         .replace("2026-03-10T15:00:00Z", "2026-03-11T05:00:00+14:00")
         .replace("2026-03-06T23:00:00Z", "2026-03-07T04:45:00+05:45")},
        stored={"cases": 3},
        checks=(("select epoch(opened_at) from cases where case_id = 'C2'", epoch("2026-03-10T01:00:00+00:00")),
                ("select epoch(opened_at) from cases where case_id = 'C3'", epoch("2026-03-10T15:00:00+00:00")),
                ("select epoch(opened_at) from cases where case_id = 'C1'", epoch("2026-03-06T23:00:00+00:00"))),
    ),
    loads(
        "naive_timestamps_with_source_timezone",
        {
            "config.toml": SOURCE_DENVER,
            "cases.csv": "\n".join(
                [CASES_HEADER]
                + [r.replace(u.strftime("%Y-%m-%dT%H:%M:%SZ"), d.strftime("%Y-%m-%dT%H:%M:%S"))
                   for r, u, d in zip(BASE_ROWS["cases.csv"][1:], UTC_OPENED, DENVER_OPENED, strict=True)]
            ) + "\n",
        },
        stored=BASE_COUNTS,
        checks=(("select epoch(opened_at) from cases where case_id = 'C2'", epoch("2026-03-10T01:00:00+00:00")),),
    ),
    loads(
        "parquet_with_tz_aware_timestamps",
        {"cases.csv": None, "cases.parquet": cases_parquet("UTC", UTC_OPENED)},
        stored=BASE_COUNTS,
        checks=(("select epoch(opened_at) from cases where case_id = 'C3'", epoch("2026-03-10T15:00:00+00:00")),),
    ),
    loads(
        "parquet_naive_with_source_timezone",
        {"config.toml": SOURCE_DENVER, "cases.csv": None, "cases.parquet": cases_parquet(None, DENVER_OPENED)},
        stored=BASE_COUNTS,
        checks=(("select epoch(opened_at) from cases where case_id = 'C2'", epoch("2026-03-10T01:00:00+00:00")),),
    ),
    loads(
        "jsonl_tables",
        {
            "responses.csv": None,
            "responses.jsonl": jsonl(
                {"case_id": "C1", "at": "2026-03-09T18:30:00Z", "author_type": "agent", "public": True},
                {"case_id": "C2", "at": "2026-03-10T02:00:00Z", "author_type": "agent"},
                {"case_id": "C3", "at": "2026-03-10T18:00:00Z", "author_type": "agent", "public": True},
                {"case_id": "C3", "at": "2026-03-10T19:00:00Z", "author_type": "customer", "public": None},
            ),
            "engagements.csv": None,
            "engagements.jsonl": jsonl(
                {"account_id": "A1", "date": "2026-03-12", "kind": "service_day", "quantity": 1.5},
                {"account_id": "A3", "date": "2026-03-13", "kind": "training_session"},
            ),
        },
        stored={"responses": 4, "engagements": 2},
    ),
    loads(
        "jsonl_nested_objects_in_extra_fields",
        {
            "responses.csv": None,
            "responses.jsonl": jsonl(
                {"case_id": "C1", "at": "2026-03-09T18:30:00Z", "author_type": "agent",
                 "meta": {"via": {"app": "mail", "tags": [1, [2, {"x": None}]]}}},
                {"case_id": "C2", "at": "2026-03-10T02:00:00Z", "author_type": "agent", "meta": []},
                {"case_id": "C3", "at": "2026-03-10T18:00:00Z", "author_type": "agent", "meta": "plain"},
            ),
        },
        stored={"responses": 3},
    ),
    loads(
        "markup_and_formula_injection_in_names_and_subjects",
        {
            "accounts.csv": "account_id,name,region,advisor\n"
            f"A1,{IMG},americas,{LINK}\nA2,=1+2,japan,@SUM(1)\nA3,{LINK},emea,{IMG}\n",
            "cases.csv": BASE["cases.csv"].replace("Login fails", IMG).replace("Slow report", "=1+2")
            .replace("Outage", "@SUM(1)").replace(",Ola,", f",{LINK},"),
            "contacts.csv": BASE["contacts.csv"].replace("Kim", IMG).replace("Kei", "=1+2"),
            "engagements.csv": BASE["engagements.csv"].replace("Kickoff", LINK),
        },
        stored=BASE_COUNTS,
        markup=(IMG, LINK),
    ),
    loads(
        "sql_quotes_in_ids",
        {
            "cases.csv": BASE["cases.csv"].replace("C1,", "X'); drop table cases;--,"),
            "responses.csv": BASE["responses.csv"].replace("C1,", "X'); drop table cases;--,"),
            "case_changes.csv": BASE["case_changes.csv"].replace("C1,", "X'); drop table cases;--,"),
            "accounts.csv": BASE["accounts.csv"].replace("Acme", '"O\'Brien ""Ltd""; --"'),
        },
        stored=BASE_COUNTS,
        case_id="X'); drop table cases;--",
    ),
    loads(
        "unicode_everywhere",
        {
            "accounts.csv": "account_id,name,region,advisor\n"
            "A1,株式会社テスト 🚀,americas,Zoë 🙂\nA2,\u202eevil\u202c,japan,\u200bBo\nA3,Ωmega\u0301,emea,Zoë 🙂\n",
            "cases.csv": BASE["cases.csv"].replace("Login fails", "ログインできません 🔒")
            .replace("Slow report", "تقرير بطيء").replace(",Ola,", ",Ölå,"),
        },
        stored=BASE_COUNTS,
    ),
    loads(
        "valid_config_overrides",
        {
            "config.toml": VALID_CONFIG,
            "accounts.csv": plus("accounts.csv", "A4,Delta,apac,Ann"),
            "subscriptions.csv": plus("subscriptions.csv", "A4,Diamond,2026-01-01,2026-12-31"),
            "cases.csv": plus("cases.csv", "C9,A4,2026-03-09T10:00:00,2,,,Naive in Denver,,,"),
        },
        stored={"accounts": 4, "cases": 4},
        account="A4",
        case_id="C9",
    ),
    # ------------------------------------------------------------ quarantined rows
    quarantined("year_0001", {"cases.csv": plus("cases.csv", "C9,A1,0001-01-01T00:00:00Z,2,,,,,,")},
                "out_of_range", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("year_9999", {"cases.csv": plus("cases.csv", "C9,A1,9999-12-31T23:59:59Z,2,,,,,,")},
                "out_of_range", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("one_second_before_1970", {"cases.csv": plus("cases.csv", "C9,A1,1969-12-31T23:59:59Z,2,,,,,,")},
                "out_of_range", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("response_in_2101",
                {"responses.csv": plus("responses.csv", "C1,2101-01-01T00:00:00Z,agent,true")},
                "out_of_range", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("engagement_date_in_2101",
                {"engagements.csv": plus("engagements.csv", "A1,2101-01-01,service_day,1,Far future")},
                "out_of_range", "engagements.csv", NEXT_LINE["engagements.csv"], stored={"engagements": 2}),
    quarantined("offset_plus_99_99", {"cases.csv": plus("cases.csv", "C9,A1,2026-03-10T10:00:00+99:99,2,,,,,,")},
                "bad_offset", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("offset_plus_14_30",
                {"responses.csv": plus("responses.csv", "C1,2026-03-11T10:00:00+14:30,agent,true")},
                "bad_offset", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("severity_0", {"cases.csv": plus("cases.csv", "C9,A1,2026-03-10T10:00:00Z,0,,,,,,")},
                "bad_value", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("severity_4", {"cases.csv": plus("cases.csv", "C9,A1,2026-03-10T10:00:00Z,4,,,,,,")},
                "bad_value", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("severity_high", {"cases.csv": plus("cases.csv", "C9,A1,2026-03-10T10:00:00Z,high,,,,,,")},
                "bad_value", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("author_type_robot", {"responses.csv": plus("responses.csv", "C1,2026-03-11T10:00:00Z,robot,true")},
                "bad_value", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("public_maybe", {"responses.csv": plus("responses.csv", "C1,2026-03-11T10:00:00Z,agent,maybe")},
                "bad_value", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("february_30th",
                {"subscriptions.csv": plus("subscriptions.csv", "A1,Gold,2027-02-30,2027-12-31")},
                "bad_value", "subscriptions.csv", NEXT_LINE["subscriptions.csv"], stored={"subscriptions": 3}),
    quarantined("status_reopened",
                {"case_changes.csv": plus("case_changes.csv", "C1,2026-03-12T10:00:00Z,status,reopened")},
                "bad_value", "case_changes.csv", NEXT_LINE["case_changes.csv"], stored={"case_changes": 3}),
    quarantined("authorized_sometimes",
                {"contacts.csv": plus("contacts.csv", "K4,A1,Kai,kai@example.com,sometimes,,")},
                "bad_value", "contacts.csv", NEXT_LINE["contacts.csv"], stored={"contacts": 3}),
    quarantined("missing_opened_at", {"cases.csv": plus("cases.csv", "C9,A1,,2,,,,,,")},
                "missing_value", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("response_before_opening",
                {"responses.csv": plus("responses.csv", "C1,2026-03-06T22:59:59Z,agent,true")},
                "before_opened", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("change_before_opening",
                {"case_changes.csv": plus("case_changes.csv", "C2,2026-03-09T00:00:00Z,severity,1")},
                "before_opened", "case_changes.csv", NEXT_LINE["case_changes.csv"], stored={"case_changes": 3}),
    quarantined("response_for_unknown_case",
                {"responses.csv": plus("responses.csv", "C404,2026-03-11T10:00:00Z,agent,true")},
                "unknown_case", "responses.csv", NEXT_LINE["responses.csv"], stored={"responses": 4}),
    quarantined("case_for_unknown_account", {"cases.csv": plus("cases.csv", "C9,A404,2026-03-10T10:00:00Z,2,,,,,,")},
                "unknown_account", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    quarantined("duplicate_case_id",
                {"cases.csv": plus("cases.csv", "C2,A1,2026-03-12T10:00:00Z,1,,,Second C2,,,")},
                "duplicate_key", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3},
                checks=(("select subject from cases where case_id = 'C2'", "Slow report"),)),
    quarantined(
        "duplicate_response_id",
        {"responses.csv": "case_id,at,author_type,public,response_id\n"
         "C1,2026-03-09T18:30:00Z,agent,true,R1\nC2,2026-03-10T02:00:00Z,agent,,R2\n"
         "C3,2026-03-10T18:00:00Z,agent,true,R3\nC3,2026-03-10T19:00:00Z,customer,true,R1\n"},
        "duplicate_key", "responses.csv", 5, stored={"responses": 3},
    ),
    quarantined("overlapping_terms",
                {"subscriptions.csv": plus("subscriptions.csv", "A1,Platinum,2026-06-01,2027-05-31")},
                "overlapping_term", "subscriptions.csv", NEXT_LINE["subscriptions.csv"], stored={"subscriptions": 3}),
    quarantined("term_ends_before_it_starts",
                {"subscriptions.csv": plus("subscriptions.csv", "A1,Gold,2027-12-31,2027-01-01")},
                "bad_range", "subscriptions.csv", NEXT_LINE["subscriptions.csv"], stored={"subscriptions": 3}),
    quarantined("suspension_ends_before_it_starts",
                {"standing.csv": plus("standing.csv", "A1,2026-08-01T00:00:00Z,2026-07-01T00:00:00Z")},
                "bad_range", "standing.csv", NEXT_LINE["standing.csv"], stored={"standing": 1}),
    quarantined("csv_row_with_too_many_fields",
                {"cases.csv": plus("cases.csv", "C9,A1,2026-03-10T10:00:00Z,2,,,subject,,,,EXTRA,MORE")},
                "malformed_row", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3}),
    # A quote left open on the last line is that line's fault: the quoted comma on line 2 still reads as one field.
    quarantined("unterminated_quote_on_the_last_line",
                {"cases.csv": plus("cases.csv", 'C9,A1,2026-03-10T10:00:00Z,2,K1,web,"never closed,Ola,,false',
                                   newline=False).replace("Login fails", '"Login fails, again"')},
                "malformed_row", "cases.csv", NEXT_LINE["cases.csv"], stored={"cases": 3},
                checks=(("select subject from cases where case_id = 'C1'", "Login fails, again"),)),
    # A JSONL line that is not JSON makes the file unreadable (the contract's fatal case), named by its line.
    fatal(
        "jsonl_broken_line",
        {"responses.csv": None, "responses.jsonl": jsonl(
            {"case_id": "C1", "at": "2026-03-09T18:30:00Z", "author_type": "agent"},
            {"case_id": "C2", "at": "2026-03-10T02:00:00Z", "author_type": "agent"},
            '{"case_id": "C3", "at": "2026-03-10T18:00:00Z", "author_type": "agent"',
            {"case_id": "C3", "at": "2026-03-10T19:00:00Z", "author_type": "customer"},
        )},
        "responses.jsonl", "could not be read as JSONL", "Malformed JSON",
    ),
    quarantined(
        "jsonl_nested_object_as_a_typed_value",
        {"responses.csv": None, "responses.jsonl": jsonl(
            {"case_id": "C1", "at": "2026-03-09T18:30:00Z", "author_type": "agent"},
            {"case_id": "C2", "at": "2026-03-10T02:00:00Z", "author_type": {"kind": "agent"}},
            {"case_id": "C3", "at": "2026-03-10T18:00:00Z", "author_type": "agent"},
        )},
        "bad_value", "responses.jsonl", 2, stored={"responses": 2},
    ),
    quarantined(
        "parquet_row_with_severity_7",
        {"cases.csv": None, "cases.parquet": cases_parquet("UTC", UTC_OPENED, severities=[2, 3, 7])},
        "bad_value", "cases.parquet", 3, stored={"cases": 2},
    ),
    # Every case is bad: the store holds accounts and terms but no case; every page still renders.
    quarantined(
        "every_case_quarantined",
        {"cases.csv": CASES_HEADER + "\n" + "\n".join(
            r.replace(f",{s},", ",x,", 1) for r, s in zip(BASE_ROWS["cases.csv"][1:], (2, 3, 1), strict=True)
        ) + "\n"},
        "bad_value", "cases.csv", 2, stored={"cases": 0, "responses": 0, "case_changes": 0, "accounts": 3},
    ),
    # ------------------------------------------------------------ fatal: tables, columns, files
    fatal("missing_table_responses", {"responses.csv": None}, "responses"),
    fatal("missing_table_accounts", {"accounts.csv": None}, "accounts"),
    fatal("missing_column_severity",
          {"cases.csv": "case_id,account_id,opened_at\nC1,A1,2026-03-06T23:00:00Z\n"}, "cases.csv", "severity"),
    fatal("ten_thousand_columns_without_opened_at", {"cases.csv": wide_cases(drop="opened_at")},
          "cases.csv", "opened_at"),
    fatal("naive_timestamp_without_source_timezone",
          {"cases.csv": replace("cases.csv", "2026-03-10T01:00:00Z", "2026-03-10T01:00:00")},
          "cases.csv", "opened_at", "timezone"),
    fatal("parquet_naive_without_source_timezone",
          {"cases.csv": None, "cases.parquet": cases_parquet(None, DENVER_OPENED)},
          "cases.parquet", "opened_at", "timezone"),
    fatal("region_not_in_config", {"accounts.csv": plus("accounts.csv", "A4,Delta,mars,Ann")},
          "accounts.csv", "region", "mars"),
    fatal("package_not_in_config", {"subscriptions.csv": plus("subscriptions.csv", "A1,Diamond,2027-01-01,2027-12-31")},
          "subscriptions.csv", "package", "Diamond"),
    fatal("utf16_csv", {"cases.csv": BASE["cases.csv"].encode("utf-16")}, "cases.csv", "UTF-16"),
    fatal("nul_bytes_in_csv", {"cases.csv": BASE["cases.csv"].replace("Outage", "Out\0age").encode()},
          "cases.csv", "NUL"),
    fatal("empty_csv", {"cases.csv": b""}, "cases.csv", "empty"),
    fatal("header_names_a_column_twice",
          {"cases.csv": "case_id,account_id,opened_at,severity,severity\nC1,A1,2026-03-06T23:00:00Z,2,1\n"},
          "cases.csv", "severity", "twice"),
    fatal("binary_png_named_cases_csv", {"cases.csv": PNG}, "cases.csv", "UTF-8", forbidden=("IHDR", "PNG")),
    fatal("binary_invalid_utf8_named_cases_csv", {"cases.csv": NOT_UTF8}, "cases.csv", "UTF-8", forbidden=("\ufffd",)),
    fatal("parquet_that_is_not_parquet",
          {"cases.csv": None, "cases.parquet": "case_id,account_id\nthis is not parquet at all\n"},
          "cases.parquet", forbidden=("this is not parquet",)),
    fatal("cases_csv_links_to_etc_passwd", {"cases.csv": None}, "cases.csv",
          symlinks={"cases.csv": "/etc/passwd"}, forbidden=(PASSWD_LINE, "/bin/")),
    fatal("cases_csv_is_a_directory", {"cases.csv": None}, "cases.csv", dirs=("cases.csv",)),
    fatal("cases_csv_is_a_dangling_symlink", {"cases.csv": None}, "cases", symlinks={"cases.csv": "gone.csv"}),
    fatal("store_is_not_a_duckdb_file", {}, "store.duckdb", "DuckDB",
          store=b"SQLite format 3\x00 this is some other database, not DuckDB" * 20),
    # ------------------------------------------------------------ fatal: config.toml
    fatal("target_inf", gold_target("inf"), "initial_response_hours", "Gold"),
    fatal("target_nan", gold_target("nan"), "initial_response_hours", "Gold"),
    fatal("target_1e308", gold_target("1e308"), "initial_response_hours", "Gold"),
    fatal("target_huge_integer", gold_target("99999999999999999"), "initial_response_hours", "Gold"),
    fatal("target_5e6_hours", gold_target("5e6"), "initial_response_hours", "Gold"),
    fatal("target_zero", gold_target("0"), "initial_response_hours", "Gold"),
    fatal("target_negative", gold_target("-1"), "initial_response_hours", "Gold"),
    fatal("target_text", gold_target('"x"'), "initial_response_hours", "Gold"),
    fatal("follow_up_inf", config("[packages.Silver]\nfollow_up_hours = { 2 = -inf }\n"), "follow_up_hours", "Silver"),
    fatal("rank_text", config('[packages.Gold]\nrank = "abc"\n'), "rank", "Gold"),
    fatal("features_not_a_list", config("[packages.Gold]\nfeatures = 5\n"), "features", "Gold"),
    fatal("clock_of_a_list", config('[packages.Gold]\nclock = {1 = ["x"]}\n'), "clock", "Gold"),
    fatal("authorized_contacts_inf", config("[packages.Gold]\nauthorized_contacts = inf\n"),
          "authorized_contacts", "Gold"),
    fatal("at_risk_fraction_zero", config("[reporting]\nat_risk_fraction = 0\n"), "at_risk_fraction"),
    fatal("at_risk_fraction_1_5", config("[reporting]\nat_risk_fraction = 1.5\n"), "at_risk_fraction"),
    fatal("calendar_hours_empty_table", config("[calendars.americas]\nhours = {}\n"), "americas", "hours"),
    fatal("calendar_without_a_working_minute",
          config('[calendars.americas]\nhours = { mon = "", sat = "" }\n'), "americas", "hours"),
    fatal("holiday_subdivision_zz", config('[calendars.americas]\nholidays = { country = "US", subdiv = "ZZ" }\n'),
          "subdiv", "ZZ"),
    fatal("holiday_country_a_list", config('[calendars.americas]\nholidays = { country = ["US"] }\n'), "country"),
    fatal("calendar_timezone_unknown", config('[calendars.emea]\ntimezone = "Mars/Olympus_Mons"\n'),
          "emea", "timezone"),
    fatal("source_timezone_unknown", config('[source]\ntimezone = "Nowhere/Land"\n'), "source", "timezone"),
    fatal("unknown_key_in_package", config("[packages.Gold]\ninitial_respons_hours = { 1 = 4 }\n"),
          "initial_respons_hours"),
    fatal("unknown_key_in_calendar", config('[calendars.japan]\ntime_zone = "Asia/Tokyo"\n'), "time_zone"),
    fatal("unknown_key_in_reporting", config('[reporting]\nweekstart = "sun"\n'), "weekstart"),
    fatal("toml_50000_levels_of_arrays", config(DEEP_ARRAYS), "config.toml"),
    fatal("toml_5000_levels_of_dotted_keys", config(DEEP_DOTTED), "config.toml"),
    fatal("config_not_utf8", {"config.toml": '[reporting]\ntimezone = "Europe/Zürich"\n'.encode("latin-1")},
          "config.toml", "UTF-8"),
    fatal("config_not_toml", config("[reporting\nat_risk_fraction = 0.5\n"), "config.toml", "TOML"),
    # ------------------------------------------------------------ terms that change over time
    fatal("override_of_an_unknown_account",
          config(f'[[overrides]]\naccount_id = "{LINK}"\nservice_days = 1\n'),
          "config.toml: [[overrides]] entry 1 account_id", "is not an account of accounts.csv"),
    fatal("version_of_an_unknown_package", config("[[packages.Diamond.versions]]\nfrom = 2026-03-10\nservice_days = 1\n"),
          "[[packages.Diamond.versions]]", "'Diamond' is not a package"),
    loads(
        "terms_that_change_over_time",
        config(
            "[[packages.Gold.versions]]\nfrom = 2026-03-10\ninitial_response_hours = { 1 = 1 }\n"
            f'features = ["{IMG}", "{LINK}"]\n'
            '[[overrides]]\naccount_id = "A1"\nfollow_up_hours = { 1 = 0.5 }\nclock = { 2 = "24x7" }\n'
        ),
        stored=BASE_COUNTS,
        markup=(IMG, LINK),
    ),
]

BY_NAME = {case.name: case for case in CASES}


def build(case: Case, root: Path) -> Path:
    """Write `case` under `root` and return the path a load is given (the folder, or a link to it).

    The folder is always named `dataset`, so a message naming it cannot pass for naming the problem.
    """
    folder = root / ("dataset.real" if case.folder_link else "dataset")
    folder.mkdir(parents=True)
    for name, content in {**BASE, **case.files}.items():
        if content is None:
            continue
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    for name in case.dirs:
        (folder / name).mkdir()
    for name, target in case.symlinks.items():
        (folder / name).symlink_to(target)
    if not case.folder_link:
        return folder
    link = root / "dataset"
    link.symlink_to(folder, target_is_directory=True)
    return link
