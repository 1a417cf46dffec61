"""The weekly update written out: JSON, Markdown (to paste into a mail) and self-contained HTML.

weekly.py computes a `WeeklyUpdate`; this module only lays it out. Names, ids and subjects
come from the dataset's files: the Markdown and the HTML escape each of them
(`metrics.safe_text`), so a subject cannot add a link, an image or markup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from metrics.engine.explain import fmt_duration
from metrics.engine.snapshot import Snapshot
from metrics.reports import weekly
from metrics.reports.html import page
from metrics.reports.weekly import WeekCounts, WeeklyUpdate, to_json
from metrics.safe_text import h, md
from metrics.workspace import Workspace

FORMATS = ("json", "md", "html")
MAX_LISTED = 50  # rows of a case list in the text before "... and N more"


def weekly_markdown(
    con: duckdb.DuckDBPyConnection,
    account_ids: tuple[str, ...],
    week: str,
    snapshots: Callable[[dt.datetime], Snapshot] | None = None,
) -> list[tuple[str, str, str]]:
    """(account_id, file stem, Markdown) of each account's update for ISO `week`, as of the week's end.

    The dashboard's Weekly update page calls it through `ui.state.report` (cached per store
    version and arguments), with its snapshots of the whole book (`weekly_updates`).
    `weekly.weekly_updates` is looked up at call time, so the bench's timer around it sees
    each computation.
    """
    updates = weekly.weekly_updates(con, list(account_ids), week, workspace=store_workspace(con),
                                    snapshots=snapshots)
    return [(u.account_id, file_name(u, "md").removesuffix(".md"), to_markdown(u)) for u in updates]


def store_workspace(con: duckdb.DuckDBPyConnection) -> Workspace | None:
    """The workspace beside the store `con` reads, when one has been written (else None: nothing recorded)."""
    cur = con.cursor()
    try:
        rows = cur.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    finally:
        cur.close()
    if not rows or not rows[0][0]:
        return None  # an in-memory store has no workspace
    workspace = Workspace.beside(rows[0][0])
    return workspace if workspace.path.exists() else None


class _Data(str):
    """A value read from the dataset (a name, an id, a subject): escaped as data wherever it is written.

    The sections hold plain text; the update's own words are str and the data values _Data, so
    Markdown escapes each the way it needs (`md` for data) and HTML escapes both.
    """


_Line = tuple[str, ...]  # one line in pieces: ("Package ", _Data("Gold"), ", term ...")


@dataclass
class _Section:
    """One part of the text, rendered alike as Markdown and as HTML."""

    title: str
    text: Sequence[str | _Line] = field(default_factory=list)
    headers: tuple[str, ...] = ()
    rows: Sequence[tuple[str, ...]] = field(default_factory=list)
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    note: str = ""


def _local(moment: object, tz: str) -> str:
    """An instant as local wall time in the reporting timezone: 'Tue 2026-03-10 09:00 MDT'."""
    if moment is None or moment is pd.NaT or (isinstance(moment, float) and pd.isna(moment)):
        return "-"
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return str(stamp.tz_convert(tz).strftime("%a %Y-%m-%d %H:%M %Z"))


def _signed(delta: int) -> str:
    return f"+{delta}" if delta > 0 else ("0" if delta == 0 else f"−{-delta}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _number(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.0f}" if number.is_integer() else f"{number:.1f}"


def _text(value: object, missing: str = "-") -> str:
    """A cell's text; None, NaN and NA (pandas' empty cells) read as `missing`."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return missing
    return str(value)


def _minutes(seconds: object) -> str:
    """A duration to the minute (an email needs no seconds): '2d 4h 05m', '-13h 10m'."""
    if seconds is None or pd.isna(seconds):
        return "-"
    value = float(seconds)  # type: ignore[arg-type]
    return fmt_duration(60 * int(value / 60))


def _obligation_name(kind: str, seq: int) -> str:
    return "initial response" if kind == "initial" else f"follow-up #{seq}"


def _title(u: WeeklyUpdate) -> _Line:
    return "Weekly update: ", _Data(u.account_name), " (", _Data(u.account_id), f"), {u.week}"


def _meta(u: WeeklyUpdate) -> _Line:
    monday = u.week_start.astimezone(ZoneInfo(u.timezone))
    sunday = monday + dt.timedelta(days=6)
    parts: list[str] = [
        f"{monday:%a %Y-%m-%d} to {sunday:%a %Y-%m-%d} (", _Data(u.timezone), ")",
        f" · as of {_local(u.week_end, u.timezone)}",
    ]  # fmt: skip
    if u.package:
        parts += [" · package ", _Data(u.package)]
    if u.advisor:
        parts += [" · advisor ", _Data(u.advisor)]
    return tuple(parts)


def _summary_lines(c: WeekCounts) -> list[tuple[str, int]]:
    return [
        ("Cases opened", c.opened),
        ("Cases closed", c.closed),
        ("Cases reopened", c.reopened),
        ("Active at week end", c.active_at_end),
        ("Initial responses met", c.initial_met),
        ("Initial responses missed", c.initial_breached),
        ("Follow-ups met", c.follow_up_met),
        ("Follow-ups missed", c.follow_up_breached),
        ("Still running at week end", c.running_at_end),
        ("Cases with a missed target", len(c.breached_case_ids)),
        ("Escalations (policy + recorded)", c.escalations),
    ]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _verdict_sentences(c: WeekCounts) -> list[str]:
    """What the week's verdicts leave open: targets still running, misses on cases opened earlier.

    2 running: "2 obligations are still running at week end; their verdict comes later."
    1 of 2 misses on an older case: "1 of the 2 breaches this week are on cases opened before the week."
    """
    out = []
    if c.running_at_end:
        verb = "is" if c.running_at_end == 1 else "are"
        out.append(f"{_plural(c.running_at_end, 'obligation', 'obligations')} {verb} still running at week end; "
                   "their verdict comes later.")  # fmt: skip
    if c.breached:
        verb = "is" if c.breached_on_earlier_cases == 1 else "are"
        out.append(f"{c.breached_on_earlier_cases} of the {_plural(c.breached, 'breach', 'breaches')} this week "
                   f"{verb} on cases opened before the week.")  # fmt: skip
    return out


def _summary(u: WeeklyUpdate) -> _Section:
    """The week's numbers beside the previous week's and the change (the week alone without details)."""
    text = [
        "Each response target counts once, in the week its verdict became final: met by a response "
        "inside the week, missed when its deadline passed inside the week (also a policy escalation "
        "at that moment); targets without a verdict at the week's end are counted as still running. "
        "Reopened: cases closed before the week and open again in it, so opened − closed + reopened "
        "is the change in active tickets.",
        *_verdict_sentences(u.counts),
    ]
    label = "SLA attainment (met of met + missed)"
    now = _summary_lines(u.counts)
    at = [name for name, _ in now].index("Cases with a missed target")  # attainment goes before it
    rows: list[tuple[str, ...]]
    if u.previous is None:
        rows = [(name, str(a)) for name, a in now]
        rows.insert(at, (label, _percent(u.counts.attainment)))
        return _Section("Summary", text, ("", u.week), rows, frozenset({1}))
    before = _summary_lines(u.previous)
    rows = [(name, str(a), str(b), _signed(a - b)) for (name, a), (_, b) in zip(now, before, strict=True)]
    change = "-"
    if u.counts.attainment is not None and u.previous.attainment is not None:
        change = f"{_signed(round(100 * (u.counts.attainment - u.previous.attainment)))} pts"
    rows.insert(at, (label, _percent(u.counts.attainment), _percent(u.previous.attainment), change))
    headers = ("", u.week, f"previous week ({u.previous_week})", "change")
    return _Section("Summary", text, headers, rows, frozenset({1, 2, 3}))


def _misses(u: WeeklyUpdate) -> _Section:
    frame = u.misses
    if frame.empty:
        return _Section("SLA misses", ["No response target was missed this week."])
    rows = [
        (
            _Data(r["case_id"]),
            _obligation_name(r["kind"], int(r["seq"])),
            str(r["severity"]),
            _local(r["breached_at"], u.timezone),
            _text(r["why"]),  # the engine's sentence (severities and instants); its own text
        )
        for r in frame.to_dict("records")
    ]
    return _Section(
        f"SLA misses ({len(rows)})",
        [
            f"Targets missed this week, on {len(u.counts.breached_case_ids)} case(s). Severity: "
            + (
                "the one in force when the deadline passed."
                if u.breach_severity == "at_breach"
                else "the last one before the target ended (or at the week's end)."
            )
        ],
        ("case", "response", "severity", "missed at", "why"),
        rows,
    )


def _escalations(u: WeeklyUpdate) -> _Section:
    c = u.counts
    text = [f"{c.escalations} this week: {c.policy_escalations} policy (one per missed target, listed above), "
            f"{c.recorded_escalations} recorded."]  # fmt: skip
    frame = u.recorded_escalations
    rows = [
        (_Data(r["case_id"]), _local(r["escalated_at"], u.timezone), _Data(_text(r["level"])), str(r["severity"]))
        for r in frame.to_dict("records")
    ]
    return _Section(f"Escalations ({c.escalations})", text, ("case", "recorded at", "level", "severity"), rows)


def _cases(u: WeeklyUpdate) -> _Section:
    frame = u.cases
    if frame.empty:
        reopened = (
            f" {u.counts.reopened} reopened (closed before the week, open again in it)." if u.counts.reopened else ""
        )
        return _Section("Cases opened or closed this week", [f"No case was opened or closed this week.{reopened}"])
    missed = set(u.counts.breached_case_ids)
    rows = []
    for r in frame.head(MAX_LISTED).to_dict("records"):
        what = " and ".join(w for w, flag in (("opened", r["opened_in_week"]), ("closed", r["closed_in_week"])) if flag)
        rows.append(
            (
                _Data(r["case_id"]),
                what,
                _local(r["opened_at"], u.timezone),
                str(r["severity"]),
                _text(r["status"]).replace("_", " "),
                "missed" if r["case_id"] in missed else "-",
                _Data(_text(r["subject"], "")),
            )
        )
    more = len(frame) - len(rows)
    return _Section(
        f"Cases opened or closed this week ({len(frame)})",
        [
            f"{u.counts.opened} opened, {u.counts.closed} closed (and still closed at the week's end), "
            f"{u.counts.reopened} reopened (closed before the week, open again in it)."
        ],
        ("case", "this week", "opened", "severity", "status at week end", "target this week", "subject"),
        rows,
        note=f"... and {more} more." if more > 0 else "",
    )


def _active(u: WeeklyUpdate) -> _Section:
    title = f"Active tickets at week end ({u.counts.active_at_end})"
    if u.active is None:
        return _Section(title, [f"{u.counts.active_at_end} case(s) open at the week's end. The list: not available."])
    if u.active.empty:
        return _Section(title, ["No case was open at the week's end."])
    rows = []
    for r in u.active.head(MAX_LISTED).to_dict("records"):
        rows.append(
            (
                _Data(_text(r.get("case_id"))),
                _number(r.get("severity")),
                _text(r.get("status")).replace("_", " "),
                _text(r.get("waiting_on")),
                _minutes(r.get("age_seconds")),
                _text(r.get("clock_state")).replace("_", " "),
                _minutes(r.get("remaining_seconds")),
                _Data(_text(r.get("owner"))),
            )
        )
    more = len(u.active) - len(rows)
    return _Section(
        title,
        [],
        ("case", "severity", "status", "waiting on", "age", "SLA clock", "clock time left", "owner"),
        rows,
        frozenset({1, 4, 6}),
        f"... and {more} more." if more > 0 else "",
    )


def _utilization_section(u: WeeklyUpdate) -> _Section:
    title = "Utilization to date"
    if u.utilization is None:
        return _Section(title, ["Not available."])
    terms = u.utilization
    current = terms[terms["current"].astype(bool)] if "current" in terms.columns else terms.iloc[0:0]
    if current.empty:
        return _Section(title, ["No subscription term is in force at the week's end."])
    t = current.iloc[-1]
    text = [("Package ", _Data(t["package"]), f", term {t['term_start']} to {t['term_end']}, as of the week's end.")]
    rows = [
        ("Service days", _number(t["service_days_used"]), _number(t["service_days_entitled"])),
        ("Private training sessions", _number(t["training_sessions_used"]), _number(t["training_sessions_entitled"])),
        ("Authorized contacts", _number(t["authorized_contacts"]), _number(t["authorized_contacts_allotted"])),
        ("Cases this term", _number(t["cases"]), "-"),
    ]
    return _Section(title, text, ("entitlement", "used", "entitled"), rows, frozenset({1, 2}))


def _promises(u: WeeklyUpdate) -> _Section:
    """The promise scorecard of the term to the week's end: each promise kept, at risk or missed, and why."""
    title = "Promises of the package"
    card = u.scorecard
    if card is None or card.empty:
        return _Section(title, ["No subscription term is in force at the week's end: no promise to judge."])
    first = card.iloc[0]
    text = [("Package ", _Data(first["package"]), f", from the term's start {first['term_start']} to the week's end. "
             "Kept, at risk or missed by the rules of docs/metrics.md (promise scorecard); a feature the data "
             "cannot measure is listed as not measured.")]
    # the scorecard's own sentences, holding a few data values (a package, a case id): written with the
    # update's words' escaping, which leaves no link, tag or table cell to a value
    rows = [tuple(_text(r[c], "") for c in ("promise", "status", "measured", "promised", "evidence"))
            for r in card.to_dict("records")]
    return _Section(title, text, ("promise", "status", "measured", "promised", "evidence"), rows)


def _sections(u: WeeklyUpdate) -> list[_Section]:
    return [_summary(u), _misses(u), _escalations(u), _cases(u), _active(u), _utilization_section(u), _promises(u)]


MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")  # what would turn the update's own words into markup or break a table


def _md(text: str) -> str:
    r"""The update's own words as literal Markdown: `a_b <c>` -> `a\_b \<c\>`, newlines as spaces."""
    return MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _write(line: str | _Line, data: Callable[[str], str], own: Callable[[str], str]) -> str:
    """A line's pieces escaped for one format: `data` for _Data values, `own` for the update's words."""
    pieces = (line,) if isinstance(line, str) else line
    return "".join(data(p) if isinstance(p, _Data) else own(p) for p in pieces)


def to_markdown(update: WeeklyUpdate) -> str:
    """The update as Markdown (GitHub tables), ready to paste into a mail or a ticket.

    Data values are escaped with `metrics.safe_text.md`: a subject `[x](https://...)` or a
    package `<img ...>` stays text in any Markdown renderer.
    """

    def w(line: str | _Line) -> str:
        return _write(line, md, _md)

    lines = [f"# {w(_title(update))}", "", w(_meta(update)), ""]
    for s in _sections(update):
        lines += [f"## {w(s.title)}", ""]
        for paragraph in s.text:
            lines += [w(paragraph), ""]
        if s.rows:
            lines.append("| " + " | ".join(w(c) for c in s.headers) + " |")
            lines.append("|" + "|".join("---:" if i in s.numeric else "---" for i in range(len(s.headers))) + "|")
            lines += ["| " + " | ".join(w(c) for c in row) + " |" for row in s.rows]
            lines.append("")
        if s.note:
            lines += [w(s.note), ""]
    return "\n".join(lines).rstrip() + "\n"


def to_html(update: WeeklyUpdate) -> str:
    """The update as one self-contained HTML page (the shared shell of `html.page`); all text escaped."""

    def e(line: str | _Line) -> str:
        return _write(line, h, h)

    body = [f"<h1>{e(_title(update))}</h1>", f'<p class="meta">{e(_meta(update))}</p>']
    for s in _sections(update):
        body.append(f"<h2>{e(s.title)}</h2>")
        body += [f"<p>{e(p)}</p>" for p in s.text]
        if s.rows:

            def cls(i: int, s: _Section = s) -> str:
                return ' class="num"' if i in s.numeric else ""

            head = "".join(f"<th{cls(i)}>{e(name)}</th>" for i, name in enumerate(s.headers))
            rows = "".join(
                "<tr>" + "".join(f"<td{cls(i)}>{e(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in s.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        if s.note:
            body.append(f'<p class="note">{e(s.note)}</p>')
    return page("".join(_title(update)), "\n".join(body))


def render(update: WeeklyUpdate, fmt: str) -> str:
    """The update in `fmt` ('json', 'md' or 'html') as text."""
    if fmt == "json":
        return json.dumps(to_json(update), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(update)
    if fmt == "html":
        return to_html(update)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def file_name(update: WeeklyUpdate, fmt: str) -> str:
    """'2026-W11-ACC-0002.md': week first so a folder sorts by week; unsafe characters become '_'."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", update.account_id)
    return f"{update.week}-{safe}.{fmt}"
