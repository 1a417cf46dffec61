"""Importer for the BPI Challenge 2013 Volvo IT incident log (VINST), in IBM's CSV export.

Each source row is one status change of one service request (`SR Number`): no messages,
no author direction, only `Status`/`Sub Status`, the support team and line involved, and
the staff member who made the change. The mapping (documented in docs/imports/bpic2013.md):

- a case per `SR Number`, opened at its first event, severity from `SR Latest Impact`
  (the only severity the log has; `Major=1,High=1,Medium=2,Low=3` by default);
- status changes: `Completed/*` -> closed, `Accepted/Wait - User` and `Wait - Customer`
  -> pending_customer, everything else (queued, in progress, the vendor's own waits) -> open;
- an agent response per `Accepted/In Progress` row by a person (not the Siebel system),
  except a repeat by the same owner right after their own `In Progress` row, and at the
  first event of a case whose log starts in a person's hands rather than in a queue;
- a recorded escalation each time the support line rises (L1 -> L2 -> L3), valued by the level;
- `Unmatched` rows skipped, mojibake owner names (Latin-1 read as Mac Roman) repaired.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import numpy as np
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import ALWAYS, load_config
from metrics.tools.imports.common import ImportReport, iso_utc, next_steps, write_dataset

SR = "SR Number"
WHEN = "Change Date+Time"
STATUS = "Status"
SUB = "Sub Status"
TEAM = "Involved ST"
IMPACT = "SR Latest Impact"
PRODUCT = "Product"
COUNTRY = "Country"
FIRST_NAME = "Owner First Name"
RESOURCE = "Resource"  # IBM's `Country-First Name`; rebuilt from the originals when absent
ORG_LINE = "Involved Org line 3"
REQUIRED = (SR, WHEN, STATUS, SUB, TEAM, IMPACT, PRODUCT, COUNTRY, FIRST_NAME)

DEFAULT_SEVERITY_MAP: dict[str, int] = {"Major": 1, "High": 1, "Medium": 2, "Low": 3}
DEFAULT_ACCOUNT_COLUMN = PRODUCT
DEFAULT_REGION = "emea"
DEFAULT_PACKAGE = "Gold"

# Sub-statuses of `Accepted` that wait on the person who reported the incident: the
# follow-up clock stops. `Wait`, `Wait - Implementation` and `Wait - Vendor` are the
# vendor's own waits (a change window, a supplier) and keep the case `open`.
PAUSE_SUB_STATUSES = ("Wait - User", "Wait - Customer")
OPEN_SUB_STATUSES = ("In Progress", "Assigned", "Wait", "Wait - Implementation", "Wait - Vendor")
CLOSED_SUB_STATUSES = ("Resolved", "Closed", "In Call", "Cancelled")
# The CRM itself (auto-close after a resolution, re-queueing on a user's mail): never an agent.
SYSTEM_OWNERS = ("Siebel",)

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


def import_bpic2013(
    file: Path,
    out: Path,
    *,
    source_timezone: str | None = None,
    package: str = DEFAULT_PACKAGE,
    region: str = DEFAULT_REGION,
    account_column: str = DEFAULT_ACCOUNT_COLUMN,
    severity_map: Mapping[str, int] | None = None,
) -> ImportReport:
    """Turn the VINST incident CSV at `file` into a dataset folder `out`; return what was done.

    Args:
        file: the CSV (optionally gzipped; a UTF-8 BOM is fine).
        out: the dataset folder to write (created; its tables are replaced).
        source_timezone: IANA zone for timestamps without an offset. The file's own carry
            `+01:00`, which always wins; without this option a naive timestamp is fatal.
        package: the package every account holds for the whole span of its cases.
        region: the calendar every account is served on (business hours of severities 2-3).
        account_column: the source column whose value (on a case's first event) is its account.
        severity_map: `SR Latest Impact` value -> severity 1-3; cases with another impact are skipped.

    Raises:
        LoadError: unreadable file, missing column, naive timestamp without a timezone,
            or an option the configuration cannot honour.

    """
    file = Path(file)
    severities = dict(DEFAULT_SEVERITY_MAP if severity_map is None else severity_map)
    calendar_tz = _check_options(source_timezone, package, region, severities)
    events = read_events(file)
    if account_column not in events.columns:
        raise LoadError(
            f"{file.name}: no column {account_column!r} for --account-column; "
            f"columns are {', '.join(c for c in events.columns if c != 'line')}"
        )
    report = ImportReport(source=file.name, rows_read=len(events))
    events = _keep_mappable(events, file, source_timezone, severities, account_column, report.skipped)
    tables = build_tables(events, severities, account_column, package, region, calendar_tz)
    config = _config(file, source_timezone, package, region, account_column, severities, calendar_tz)
    write_dataset(Path(out), tables, config, report)
    return report


def read_events(file: Path) -> pd.DataFrame:
    """The CSV as text columns (BOM stripped, empty cells as ''), plus its file `line` numbers."""
    if not file.is_file():
        raise LoadError(f"{file}: no such file (expected the VINST incidents CSV, e.g. VINST_incidents_ibm.csv.gz)")
    try:
        with file.open("rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"  # by content, not by name
        events = pd.read_csv(
            file,
            encoding="utf-8-sig",
            dtype=str,
            keep_default_na=False,
            compression="gzip" if gzipped else None,
            on_bad_lines="error",
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError, zlib.error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LoadError(f"{file.name}: not a readable UTF-8 CSV export ({reason})") from None
    events.columns = [str(c).strip() for c in events.columns]
    missing = [c for c in REQUIRED if c not in events.columns]
    if missing:
        raise LoadError(
            f"{file.name}: missing column {missing[0]!r} (expected the BPIC 2013 VINST incidents export "
            f"with columns {', '.join(REQUIRED)})"
        )
    events = events.fillna("")
    events["line"] = np.arange(2, len(events) + 2)  # header is line 1; the file has no quoted newlines
    return events


def _check_options(source_timezone: str | None, package: str, region: str, severities: dict[str, int]) -> str:
    """Validate the options against the built-in configuration; return the region's timezone."""
    if source_timezone is not None:
        try:
            ZoneInfo(source_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise LoadError(f"--timezone {source_timezone!r}: not an IANA timezone such as Europe/Brussels") from None
    config = load_config()
    calendars = [name for name in config.calendars if name != ALWAYS]
    if region not in calendars:
        raise LoadError(f"--region {region!r}: not a calendar; expected one of {', '.join(calendars)}")
    if package not in config.packages:
        raise LoadError(f"--package {package!r}: not a package; expected one of {', '.join(config.packages)}")
    bad = {k: v for k, v in severities.items() if v not in (1, 2, 3)}
    if bad or not severities:
        raise LoadError(f"--severity-map: every impact needs a severity 1, 2 or 3, got {bad or severities}")
    return config.calendars[region].timezone


def _keep_mappable(
    events: pd.DataFrame,
    file: Path,
    source_timezone: str | None,
    severities: dict[str, int],
    account_column: str,
    skipped: Counter[str],
) -> pd.DataFrame:
    """Drop (and count, by reason) the rows no case, change or response can be made from."""
    events = events.assign(**{c: events[c].str.strip() for c in (SR, WHEN, STATUS, SUB, IMPACT, account_column)})

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal events
        if mask.any():
            skipped[reason] += int(mask.sum())
            events = events[~mask]

    drop(events[SR] == "", "no SR Number")
    drop(events[STATUS] == "Unmatched", "Status Unmatched (a log-matching artefact, no status to map)")
    known = _status_of(events).notna()
    for (status, sub), n in events.loc[~known, [STATUS, SUB]].value_counts().items():
        skipped[f"unknown Status/Sub Status {status}/{sub}"] += int(n)
    events = events[known]

    events = events.assign(at=parse_instants(events[WHEN], events["line"], file, source_timezone))
    drop(events["at"].isna(), "unparseable Change Date+Time")

    # Both are per case: the impact is the case's latest (one value per case in the file)
    # and the account is read on the case's first event.
    last_impact = events.groupby(SR)[IMPACT].transform("last")
    for impact, n in events.loc[~last_impact.isin(list(severities)), IMPACT].value_counts().items():
        skipped[f"SR Latest Impact {impact or '(empty)'!r} not in --severity-map"] += int(n)
    events = events[last_impact.isin(list(severities))]
    first_account = events.groupby(SR)[account_column].transform("first")
    drop(first_account == "", f"empty {account_column} (the account column)")
    return events


def parse_instants(text: pd.Series, lines: pd.Series, file: Path, source_timezone: str | None) -> pd.Series:
    """ISO 8601 text -> aware UTC timestamps; naive ones in `source_timezone`; NaT if unparseable."""
    has_offset = text.str.contains(_OFFSET)
    naive = ~has_offset & (text != "")
    if naive.any() and source_timezone is None:
        row = int(lines[naive].iloc[0])
        raise LoadError(
            f"{file.name}, column {WHEN}, row {row}: {text[naive].iloc[0]!r} has no UTC offset; "
            "pass --timezone (e.g. Europe/Brussels) to say where it was recorded"
        )
    parts = [pd.Series(pd.NaT, index=text.index[text == ""], dtype="datetime64[ns, UTC]")]
    if has_offset.any():
        parts.append(pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce"))
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        parts.append(
            local.dt.tz_localize(
                source_timezone, ambiguous=np.ones(len(local), dtype=bool), nonexistent="shift_forward"
            ).dt.tz_convert("UTC")
        )
    out = pd.concat([p for p in parts if len(p)]).reindex(text.index) if len(text) else parts[0]
    return out.dt.floor("s")


def _status_of(events: pd.DataFrame) -> pd.Series:
    """The contract status of each row (`open`, `pending_customer`, `closed`), NA if unknown."""
    status, sub = events[STATUS], events[SUB]
    out = pd.Series(pd.NA, index=events.index, dtype="string")
    out[(status == "Queued") & (sub == "Awaiting Assignment")] = "open"
    out[(status == "Accepted") & sub.isin(OPEN_SUB_STATUSES)] = "open"
    out[(status == "Accepted") & sub.isin(PAUSE_SUB_STATUSES)] = "pending_customer"
    out[(status == "Completed") & sub.isin(CLOSED_SUB_STATUSES)] = "closed"
    return out


def support_line(team: pd.Series) -> pd.Series:
    """Support line from the team name: `2nd` -> 2, `3rd` alone -> 3, no suffix -> 1.

    IBM's `ST Level` says the same (`V13 2nd 3rd` is its L2/L3, taken as 2: the lowest line it serves).
    """
    second = team.str.contains(r"\b2nd\b")
    third = team.str.contains(r"\b3rd\b")
    return pd.Series(np.select([second, third], [2, 3], 1), index=team.index)


def fix_mojibake(text: str) -> str:
    """Undo Latin-1 text that was opened as Mac Roman (`Bjˆrn` -> `Björn`); leave sound text alone.

    The repair runs only when the text looks garbled (a non-letter where a letter should be,
    or an accented capital inside a word) and the repaired text does not, so correct names
    and already repaired files pass through unchanged.
    """
    if text.isascii():
        return text
    try:
        fixed = text.encode("mac_roman").decode("cp1252")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
    return fixed if _looks_garbled(text) and not _looks_garbled(fixed) else text


def _looks_garbled(text: str) -> bool:
    for i, ch in enumerate(text):
        if ch.isascii():
            continue
        category = unicodedata.category(ch)
        if category not in ("Lu", "Ll"):
            return True  # `ˆ`, `≈`, `‰`, `·`, `¸`: symbols where a letter belongs
        if category == "Lu" and i > 0 and text[i - 1].islower():
            return True  # `StÈphane`, `KÂre`: a capital in the middle of a word
    return False


def owner_labels(events: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's owner as IBM's `Resource` (`country-First name`, repaired) and whether it is the system."""
    names = events[FIRST_NAME].str.strip()
    resource = events[RESOURCE] if RESOURCE in events.columns else events[COUNTRY] + "-" + names
    repaired = {v: fix_mojibake(v) for v in pd.unique(resource)}
    return resource.map(repaired), names.isin(SYSTEM_OWNERS)


def _merge_case_variants(values: pd.Series) -> pd.Series:
    """Spellings that differ only in case become the most frequent one (`SE` -> `se`)."""
    counts = values.value_counts()
    folded = counts.index.to_series().str.casefold()
    best = counts.groupby(folded.to_numpy()).idxmax()  # value_counts is sorted: the first is the commonest
    return values.str.casefold().map(best)


def build_tables(
    events: pd.DataFrame,
    severities: dict[str, int],
    account_column: str,
    package: str,
    region: str,
    calendar_tz: str,
) -> dict[str, pd.DataFrame]:
    """The contract tables from the kept events (all vectorised: one groupby pass per table)."""
    ev = events.sort_values([SR, "at", "line"], kind="stable").reset_index(drop=True)
    ev["status"] = _status_of(ev)
    ev["level"] = support_line(ev[TEAM])
    ev["owner"], ev["system"] = owner_labels(ev)
    ev["account_id"] = _merge_case_variants(ev.groupby(SR)[account_column].transform("first"))
    ev["activity"] = ev[STATUS] + "/" + ev[SUB]
    by_case = ev.groupby(SR, sort=False)
    same_case_as_prev = ev[SR].eq(ev[SR].shift())

    # Status: at one instant the last row wins; keep only real changes (a case starts `open`).
    per_instant = ev.drop_duplicates([SR, "at"], keep="last")
    previous = per_instant.groupby(SR)["status"].shift().fillna("open")
    status_changes = per_instant[per_instant["status"] != previous]
    status_rows = pd.DataFrame(
        {
            "case_id": status_changes[SR],
            "at": status_changes["at"],
            "field": "status",
            "value": status_changes["status"],
            "source_activity": status_changes["activity"],
            "support_team": status_changes[TEAM],
        }
    )

    # Escalation: the support line rises above the previous event's (ping-pong repeats count again).
    rises = ev[same_case_as_prev & (ev["level"] > ev["level"].shift())]
    escalation_rows = pd.DataFrame(
        {
            "case_id": rises[SR],
            "at": rises["at"],
            "field": "escalation",
            "value": rises["level"].astype(str),
            "source_activity": rises["activity"],
            "support_team": rises[TEAM],
        }
    ).drop_duplicates(["case_id", "at", "value"])
    changes = pd.concat([status_rows, escalation_rows]).sort_values(["case_id", "at"], kind="stable")

    # Agent responses: a person starts or resumes work (`Accepted/In Progress`); a repeat by
    # the same owner straight after their own In Progress row is the same piece of work.
    # A case whose log starts already in a person's hands (any first event but a queue:
    # a wait, an assignment, even a completion) had its first answer then.
    in_progress = (ev[STATUS] == "Accepted") & (ev[SUB] == "In Progress")
    repeat = same_case_as_prev & in_progress.shift(fill_value=False) & ev["owner"].eq(ev["owner"].shift())
    starts_in_hand = ~same_case_as_prev & (ev[STATUS] != "Queued")
    answered = ev[((in_progress & ~repeat) | starts_in_hand) & ~ev["system"]].drop_duplicates([SR, "at"])
    responses = pd.DataFrame(
        {
            "case_id": answered[SR],
            "at": iso_utc(answered["at"]),
            "author_type": "agent",
            "response_id": answered[SR] + ":" + answered["line"].astype(str),  # source file line
            "author": answered["owner"],
            "public": True,
            "support_team": answered[TEAM],
            "support_line": answered["level"],
        }
    )

    # Cases: closed_at is the start of the final closed spell (empty if the case ends open).
    final_status = by_case["status"].last()
    last_close = status_rows[status_rows["value"] == "closed"].groupby("case_id")["at"].last()
    people = ev[~ev["system"]].groupby(SR)
    cases = pd.DataFrame(
        {
            "account_id": by_case["account_id"].first(),
            "opened_at": by_case["at"].first(),
            "severity": by_case[IMPACT].last().map(severities),
            "product_area": by_case[PRODUCT].first(),
            "owner": people["owner"].last(),
            "impact": by_case[IMPACT].last(),
            "country": by_case[COUNTRY].first(),
            "support_team": by_case[TEAM].last(),
            "support_line_max": by_case["level"].max(),
            "final_activity": by_case["activity"].last(),
            "events": by_case.size(),
        }
    )
    cases["closed_at"] = last_close.reindex(cases.index).where(final_status.reindex(cases.index) == "closed")
    if ORG_LINE in ev.columns:
        cases["org_line"] = by_case[ORG_LINE].last()
    cases = cases.rename_axis("case_id").reset_index()
    cases["owner"] = cases["owner"].fillna("")
    local_date = cases["opened_at"].dt.tz_convert(calendar_tz).dt.date

    changes["at"] = iso_utc(changes["at"])
    terms = local_date.groupby(cases["account_id"]).agg(["min", "max"])
    accounts = pd.DataFrame(
        {
            "account_id": terms.index,
            "name": terms.index,
            "region": region,
            "advisor": "",
            "source_column": account_column,
        }
    )
    subscriptions = pd.DataFrame(
        {
            "account_id": terms.index,
            "package": package,
            "start_date": [d.isoformat() for d in terms["min"]],
            "end_date": [d.isoformat() for d in terms["max"]],
        }
    )
    cases["opened_at"] = iso_utc(cases["opened_at"])
    cases["closed_at"] = iso_utc(cases["closed_at"])
    return {
        "accounts": accounts,
        "subscriptions": subscriptions,
        "cases": cases,
        "responses": responses,
        "case_changes": changes,
    }


def _config(
    file: Path,
    source_timezone: str | None,
    package: str,
    region: str,
    account_column: str,
    severities: dict[str, int],
    calendar_tz: str,
) -> dict[str, Any]:
    """config.toml: the reporting timezone of the region, and every choice made here (`[importer]`)."""
    config: dict[str, Any] = {}
    if source_timezone is not None:
        config["source"] = {"timezone": source_timezone}
    config["reporting"] = {"timezone": calendar_tz}
    config["importer"] = {
        "name": "bpic2013",
        "source_file": file.name,
        "source_timezone": source_timezone or "none: every Change Date+Time carries its offset (+01:00)",
        "account_column": account_column,
        "package": package,
        "region": region,
        "severity_map": severities,
        "pause_sub_statuses": list(PAUSE_SUB_STATUSES),
        "closed_statuses": [f"Completed/{s}" for s in CLOSED_SUB_STATUSES],
        "agent_response": (
            "Accepted/In Progress by a person, not a repeat by the same owner; "
            "and a case's first event by a person unless it is Queued"
        ),
        "escalation": "each rise of the support line (L1=1, L2=2, L3=3, L2/L3=2)",
        "system_owners": list(SYSTEM_OWNERS),
        "citation": (
            "Steeman, W. (2013). BPI Challenge 2013, incidents. 4TU.ResearchData "
            "(Eindhoven University of Technology). "
            "https://doi.org/10.4121/uuid:500573e6-accc-4b0c-9576-aa5468b10cee"
        ),
    }
    return config


def parse_severity_map(text: str) -> dict[str, int]:
    """`Major=1,High=1,Medium=2,Low=3` -> {'Major': 1, ...}."""
    out: dict[str, int] = {}
    for part in text.split(","):
        impact, sep, value = part.partition("=")
        if not sep or not impact.strip() or value.strip() not in ("1", "2", "3"):
            raise click.BadParameter(f"expected IMPACT=1|2|3 pairs separated by commas, got {part.strip()!r}")
        out[impact.strip()] = int(value)
    return out


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Dataset folder to write.")
@click.option("--package", default=DEFAULT_PACKAGE, show_default=True, help="Package every account holds.")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Calendar every account is served on.")
@click.option(
    "--account-column",
    default=DEFAULT_ACCOUNT_COLUMN,
    show_default=True,
    help="Source column that names a case's account (e.g. Product or Country).",
)
@click.option(
    "--timezone",
    "source_timezone",
    default=None,
    help="IANA timezone for timestamps without an offset (the file's carry +01:00, which wins).",
)
@click.option(
    "--severity-map",
    default=",".join(f"{k}={v}" for k, v in DEFAULT_SEVERITY_MAP.items()),
    show_default=True,
    help="SR Latest Impact -> severity 1-3.",
    callback=lambda _ctx, _param, value: parse_severity_map(value),
)
def command(
    file: Path,
    out: Path,
    package: str,
    region: str,
    account_column: str,
    source_timezone: str | None,
    severity_map: dict[str, int],
) -> None:
    """Import the BPI Challenge 2013 Volvo IT incident log FILE (VINST CSV, .gz ok) into --out.

    Status/Sub Status events become status changes (`Wait - User`/`Wait - Customer` pause
    the follow-up clock, `Completed/*` closes), `Accepted/In Progress` rows become agent
    responses, rises of the support line become recorded escalations and `SR Latest Impact`
    the severity. See docs/imports/bpic2013.md. Then run `python -m metrics ingest OUT`.
    """
    report = import_bpic2013(
        file,
        out,
        source_timezone=source_timezone,
        package=package,
        region=region,
        account_column=account_column,
        severity_map=severity_map,
    )
    click.echo(report.summary())
    click.echo(next_steps(out))
