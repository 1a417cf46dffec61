"""The at-risk digest: clocks breached or at risk and weekly updates owed, per advisor, worked out by hand.

As of 2026-11-17T12:00:00Z (Tue 05:00 MST in Denver, the reporting timezone). The last
complete ISO week is 2026-W46 (Mon 11-09 .. Sun 11-15); its updates were on time until
Mon 11-16 23:59:59 MST, i.e. late from Tue 11-17 00:00 MST = 11-17T07:00:00Z, before as-of.

Severity 1 runs 24x7; at risk from 75 % of the target consumed.
    C1 A1 Acme (Ann), Gold sev 1, opened 06:00Z, no reply: initial 4 h -> deadline 10:00Z,
       breached at 10:00Z; remaining 4 h - 6 h = -7200 s.
    C2 A2 hostile (Bob), Gold sev 1, opened 09:00Z: 3 h of 4 h = 0.75 -> at risk,
       deadline 13:00Z, remaining 3600 s.
    C3 A1 Acme (Ann), Gold sev 1, opened 11:00Z: 1 h of 4 h = 0.25 -> on track, not listed.
    C4 A3 Beta (no advisor), Silver sev 1, opened 00:00Z: initial 6 h -> breached at 06:00Z,
       remaining 6 h - 12 h = -21600 s.
    C5 A1, closed: not active.
Weekly updates for W46: A1 (Gold) sent in the workspace -> not owed; A2 (Gold) not sent ->
owed, for Bob; A3 is Silver (no weekly_updates) -> nothing owed.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from metrics.engine.snapshot import open_snapshot
from metrics.reports.digest import build_digest, render, to_html, to_json, to_markdown
from metrics.storage.ingest import ingest
from metrics.storage.store import PROJECT_ROOT
from metrics.workspace import Workspace

AS_OF = "2026-11-17T12:00:00Z"
HOSTILE = '<script>alert(1)</script> [x](javascript:y) **Co** & "quotes"'


@pytest.fixture
def store(make_dataset, tmp_path: Path) -> Path:
    folder = make_dataset(
        accounts__csv=f"""
            account_id,name,region,advisor
            A1,Acme,americas,Ann
            A2,"{HOSTILE.replace('"', '""')}",americas,Bob
            A3,Beta,japan,
        """,
        subscriptions__csv="""
            account_id,package,start_date,end_date
            A1,Gold,2026-01-01,2026-12-31
            A2,Gold,2026-01-01,2026-12-31
            A3,Silver,2026-01-01,2026-12-31
        """,
        cases__csv="""
            case_id,account_id,opened_at,severity,closed_at
            C1,A1,2026-11-17T06:00:00Z,1,
            C2,A2,2026-11-17T09:00:00Z,1,
            C3,A1,2026-11-17T11:00:00Z,1,
            C4,A3,2026-11-17T00:00:00Z,1,
            C5,A1,2026-11-10T00:00:00Z,1,2026-11-10T02:00:00Z
        """,
        responses__csv="""
            case_id,at,author_type,public
            C5,2026-11-10T01:00:00Z,agent,true
        """,
    )
    db = tmp_path / "digest.duckdb"
    ingest(folder, db)
    Workspace.beside(db).mark_sent("A1", dt.date(2026, 11, 9), "W46 for Acme", "ann@vendor.example",
                                   dt.datetime(2026, 11, 16, 20, 0, tzinfo=dt.UTC))
    return db


EXPECTED = {
    "as_of": "2026-11-17T12:00:00Z",
    "week": "2026-W46",
    "week_start": "2026-11-09",
    "updates_due_at": "2026-11-17T07:00:00Z",
    "advisors": [
        {"advisor": "Ann", "clocks": [
            {"case_id": "C1", "account_id": "A1", "account_name": "Acme", "severity": 1, "kind": "initial",
             "clock_state": "breached", "deadline_at": "2026-11-17T10:00:00Z", "breached_at": "2026-11-17T10:00:00Z",
             "remaining_seconds": -7200.0}],
         "updates_owed": []},
        {"advisor": "Bob", "clocks": [
            {"case_id": "C2", "account_id": "A2", "account_name": HOSTILE, "severity": 1, "kind": "initial",
             "clock_state": "at_risk", "deadline_at": "2026-11-17T13:00:00Z", "breached_at": None,
             "remaining_seconds": 3600.0}],
         "updates_owed": [{"account_id": "A2", "account_name": HOSTILE}]},
        {"advisor": None, "clocks": [
            {"case_id": "C4", "account_id": "A3", "account_name": "Beta", "severity": 1, "kind": "initial",
             "clock_state": "breached", "deadline_at": "2026-11-17T06:00:00Z", "breached_at": "2026-11-17T06:00:00Z",
             "remaining_seconds": -21600.0}],
         "updates_owed": []},
    ],
}


def test_json_lists_each_advisors_clocks_and_owed_updates(store):
    """Ann: C1 breached; Bob: C2 at risk and A2's W46 update owed; no advisor: C4 breached. C3 on track is left out."""
    digest = build_digest(open_snapshot(store, AS_OF), Workspace.beside(store))
    assert json.loads(to_json(digest)) == EXPECTED


def test_one_advisor_and_no_workspace(store):
    """--advisor Bob keeps Bob's entry only; without a workspace, A1's sent update is owed again (for Ann)."""
    snap = open_snapshot(store, AS_OF)
    bob = json.loads(to_json(build_digest(snap, Workspace.beside(store), advisor="Bob")))
    assert bob["advisors"] == [EXPECTED["advisors"][1]]
    bare = json.loads(to_json(build_digest(snap, None)))
    assert bare["advisors"][0]["updates_owed"] == [{"account_id": "A1", "account_name": "Acme"}]


def test_markdown_and_html_escape_the_hostile_name(store):
    """No raw tag, link or emphasis reaches the Markdown; the HTML holds the name as text."""
    digest = build_digest(open_snapshot(store, AS_OF), Workspace.beside(store))
    text = to_markdown(digest)
    assert "<script>" not in text and "](javascript" not in text and "**Co**" not in text
    assert r"\<script\>alert\(1\)\</script\> \[x\]\(javascript\:y\) \*\*Co\*\*" in text
    assert "## Ann" in text and "## Bob" in text and r"## \(no advisor\)" in text
    assert "- ` C1 ` Acme: severity 1 initial response, breached at 2026-11-17 10\\:00 UTC" in text
    assert "late since Tue 17 Nov 2026 00\\:00 MST" in text
    page = to_html(digest)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:y) **Co** &amp; &quot;quotes&quot;" in page
    assert render(digest, "md") == text
    with pytest.raises(ValueError, match="format must be one of"):
        render(digest, "pdf")


def test_the_command_line(store, make_dataset):
    """`digest DATASET --db STORE --as-of T --advisor Bob --format json` prints Bob's entry; an unknown advisor is one error line."""
    folder = make_dataset()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "metrics", "digest", str(folder), "--db", str(store), *args],
                              capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)

    done = run("--as-of", AS_OF, "--advisor", "Bob", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["advisors"] == [EXPECTED["advisors"][1]]
    refused = run("--as-of", AS_OF, "--advisor", "Nobody")
    assert refused.returncode == 2 and refused.stderr.strip().endswith("error: no account has advisor 'Nobody'")
