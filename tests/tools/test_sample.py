"""Tests for metrics/sample.py: the seeded generator behind the sample data and fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metrics.storage.config import load_config
from metrics.storage.contract import BY_NAME
from metrics.tools.sample import TABLES, generate_sample, slow_weeks

CASES = 3000
TIMEZONES = {"americas": "America/Denver", "emea": "Europe/London", "japan": "Asia/Tokyo"}
TIMESTAMPS = {
    "cases": ("opened_at", "closed_at"),
    "responses": ("at",),
    "case_changes": ("at",),
    "standing": ("suspended_from", "suspended_to"),
}
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample_csv")
    generate_sample(out, seed=7, cases=CASES, fmt="csv")
    return out


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample_parquet")
    generate_sample(out, seed=7, cases=CASES, fmt="parquet")
    return out


def read(folder: Path, table: str) -> pd.DataFrame:
    """One table of a generated folder, instants parsed to UTC, whatever the format."""
    csv = folder / f"{table}.csv"
    if not csv.exists():
        return pq.read_table(folder / f"{table}.parquet").to_pandas()
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    for col in TIMESTAMPS.get(table, ()):
        frame[col] = pd.to_datetime(frame[col].replace("", None), utc=True)
    return frame


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """Two runs with one seed write byte-identical files, in both formats."""
    for fmt in ("csv", "parquet"):
        first, second = tmp_path / f"a_{fmt}", tmp_path / f"b_{fmt}"
        generate_sample(first, seed=3, cases=CASES, fmt=fmt)
        generate_sample(second, seed=3, cases=CASES, fmt=fmt)
        names = sorted(p.name for p in first.iterdir())
        assert names == sorted(p.name for p in second.iterdir())
        for name in names:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    """Another seed draws another log."""
    generate_sample(tmp_path / "a", seed=1, cases=CASES)
    generate_sample(tmp_path / "b", seed=2, cases=CASES)
    assert (tmp_path / "a" / "cases.csv").read_bytes() != (tmp_path / "b" / "cases.csv").read_bytes()
    assert (tmp_path / "a" / "responses.csv").read_bytes() != (tmp_path / "b" / "responses.csv").read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_table_has_exactly_the_contract_columns(fmt: str, csv_dir: Path, parquet_dir: Path) -> None:
    """One file per contract table, with the contract's column names in its order, plus a config."""
    folder = csv_dir if fmt == "csv" else parquet_dir
    assert set(TABLES) == set(BY_NAME)
    for table in TABLES:
        path = folder / f"{table}.{fmt}"
        assert path.exists(), path
        columns = (path.read_text().splitlines()[0].replace('"', "").split(",") if fmt == "csv"
                   else pq.read_schema(path).names)
        assert tuple(columns) == BY_NAME[table].column_names, table
    assert (folder / "config.toml").exists()


def test_returned_counts_match_the_files(tmp_path: Path) -> None:
    """The returned row counts are the rows written, and every case requested is there."""
    counts = generate_sample(tmp_path, seed=5, cases=CASES)
    assert counts["cases"] == CASES
    for table in TABLES:
        assert len(read(tmp_path, table)) == counts[table], table


def test_csv_text_formats(csv_dir: Path) -> None:
    """CSV instants are `2026-03-09T14:05:00Z`, dates YYYY-MM-DD, bools true/false."""
    for table, columns in TIMESTAMPS.items():
        frame = pd.read_csv(csv_dir / f"{table}.csv", dtype=str, keep_default_na=False)
        for col in columns:
            values = frame.loc[frame[col] != "", col]
            assert values.str.match(INSTANT).all(), (table, col)
    subs = pd.read_csv(csv_dir / "subscriptions.csv", dtype=str)
    assert subs["start_date"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    cases = pd.read_csv(csv_dir / "cases.csv", dtype=str)
    assert set(cases["development_ticket"]) == {"true", "false"}


def test_parquet_types(parquet_dir: Path) -> None:
    """Parquet instants are timezone-aware UTC and dates are date32."""
    cases = pq.read_schema(parquet_dir / "cases.parquet")
    assert cases.field("opened_at").type.tz == "UTC"
    assert cases.field("closed_at").type.tz == "UTC"
    assert pq.read_schema(parquet_dir / "responses.parquet").field("at").type.tz == "UTC"
    assert pq.read_schema(parquet_dir / "subscriptions.parquet").field("start_date").type == pa.date32()
    assert pq.read_schema(parquet_dir / "engagements.parquet").field("date").type == pa.date32()


def test_csv_and_parquet_hold_the_same_data(csv_dir: Path, parquet_dir: Path) -> None:
    """The format changes the encoding only: one seed gives the same rows in both."""
    for table in ("cases", "responses", "case_changes"):
        a, b = read(csv_dir, table), read(parquet_dir, table)
        assert len(a) == len(b)
        for col in TIMESTAMPS[table]:
            pd.testing.assert_series_equal(a[col].dt.as_unit("s"), b[col].dt.as_unit("s"), check_names=False)
        assert a["case_id"].tolist() == b["case_id"].tolist()


def test_config_is_valid(csv_dir: Path) -> None:
    """config.toml loads with the project's own parser and sets the reporting choices."""
    config = load_config(csv_dir)
    assert config.reporting_timezone == "America/Denver"
    assert config.at_risk_fraction == 0.75
    assert set(TIMEZONES) <= set(config.calendars)
    assert any(d.month == 12 and d.day == 24 for d in config.calendars["americas"].holidays_add)


def test_ids_are_unique_and_consistent(csv_dir: Path) -> None:
    """Keys are unique; every case, response, change, contact and standing row points at something real."""
    accounts, cases = read(csv_dir, "accounts"), read(csv_dir, "cases")
    responses, changes, contacts = read(csv_dir, "responses"), read(csv_dir, "case_changes"), read(csv_dir, "contacts")
    assert accounts["account_id"].is_unique and cases["case_id"].is_unique
    assert responses["response_id"].is_unique and contacts["contact_id"].is_unique
    assert cases["account_id"].isin(accounts["account_id"]).all()
    assert responses["case_id"].isin(cases["case_id"]).all()
    assert changes["case_id"].isin(cases["case_id"]).all()
    for table in ("subscriptions", "contacts", "standing", "engagements"):
        assert read(csv_dir, table)["account_id"].isin(accounts["account_id"]).all(), table
    owner = contacts.set_index("contact_id")["account_id"]
    assert (cases["contact_id"].map(owner) == cases["account_id"]).all()


def test_events_follow_the_opening(csv_dir: Path) -> None:
    """Responses, changes and closes are at or after the opening; a close follows the last agent answer."""
    cases = read(csv_dir, "cases").set_index("case_id")
    responses, changes = read(csv_dir, "responses"), read(csv_dir, "case_changes")
    assert (responses["at"] >= responses["case_id"].map(cases["opened_at"])).all()
    assert (changes["at"] >= changes["case_id"].map(cases["opened_at"])).all()
    closed = cases.dropna(subset=["closed_at"])
    assert (closed["closed_at"] >= closed["opened_at"]).all()
    last_agent = responses[responses["author_type"] == "agent"].groupby("case_id")["at"].max()
    both = closed.join(last_agent.rename("last_agent"), how="inner")
    assert (both["closed_at"] >= both["last_agent"]).all()
    cut = pd.Timestamp("2026-11-28T07:00:00Z")  # end of the default `end` in America/Denver
    assert responses["at"].max() < cut and changes["at"].max() < cut and closed["closed_at"].max() < cut
    assert cases["closed_at"].isna().any()  # cases still running at the cut stay open


def test_status_sequences_make_sense(csv_dir: Path) -> None:
    """Status rows replay cleanly: pending only while open, a reopen only after a close."""
    cases = read(csv_dir, "cases").set_index("case_id")
    status = read(csv_dir, "case_changes").query("field == 'status'").sort_values(["case_id", "at"], kind="stable")
    allowed = {"open": {"pending_customer", "closed"}, "pending_customer": {"open"}, "closed": {"open"}}
    for case_id, rows in status.groupby("case_id"):
        state = "open"
        for value in rows["value"]:
            assert value in allowed[state], (case_id, state, value)
            state = value
        closed_at = cases.loc[case_id, "closed_at"]
        if pd.notna(closed_at):
            assert closed_at >= rows["at"].max()


def test_subscriptions_never_overlap(csv_dir: Path) -> None:
    """An account's yearly terms are consecutive or separated by a gap, never overlapping."""
    subs = read(csv_dir, "subscriptions")
    subs["start_date"] = pd.to_datetime(subs["start_date"])
    subs["end_date"] = pd.to_datetime(subs["end_date"])
    subs = subs.sort_values(["account_id", "start_date"])
    assert (subs["end_date"] >= subs["start_date"]).all()
    next_start = subs.groupby("account_id")["start_date"].shift(-1)
    assert (next_start.isna() | (next_start > subs["end_date"])).all()
    assert subs.groupby("account_id").size().between(1, 3).all()


def test_book_of_business(csv_dir: Path) -> None:
    """About 60 accounts over every package and region; advisors only on Gold and above."""
    accounts, subs = read(csv_dir, "accounts"), read(csv_dir, "subscriptions")
    assert 50 <= len(accounts) <= 70
    assert set(subs["package"]) == {"Standard", "Bronze", "Silver", "Gold", "Platinum", "Premier"}
    assert set(accounts["region"]) == set(TIMEZONES)
    latest = subs.sort_values("start_date").groupby("account_id")["package"].last()
    with_advisor = accounts.loc[accounts["advisor"] != "", "account_id"]
    assert set(latest[with_advisor]) <= {"Gold", "Platinum", "Premier"}
    assert (accounts.loc[accounts["advisor"] != "", "advisor"].value_counts() >= 2).all()


def test_severity_distribution(csv_dir: Path) -> None:
    """Severity 1 is rare (~3%), severity 2 about a quarter, the rest severity 3."""
    share = read(csv_dir, "cases")["severity"].astype(int).value_counts(normalize=True)
    assert 0.015 <= share[1] <= 0.05
    assert 0.21 <= share[2] <= 0.29
    assert 0.66 <= share[3] <= 0.78


def test_weekends_are_quieter(csv_dir: Path) -> None:
    """In each account's local time, a weekend day sees far fewer new cases than a weekday."""
    cases = read(csv_dir, "cases")
    region = cases["account_id"].map(read(csv_dir, "accounts").set_index("account_id")["region"])
    weekday = pd.concat(
        cases.loc[region == r, "opened_at"].dt.tz_convert(tz).dt.day_of_week for r, tz in TIMEZONES.items()
    )
    per_day = weekday.value_counts().reindex(range(7), fill_value=0)
    assert per_day[[5, 6]].mean() < 0.3 * per_day[[0, 1, 2, 3, 4]].mean()


def test_responses_look_like_conversations(csv_dir: Path) -> None:
    """About 5 messages per case, both authors, a few internal notes, every channel."""
    cases, responses = read(csv_dir, "cases"), read(csv_dir, "responses")
    assert 4.0 <= len(responses) / len(cases) <= 6.0
    assert set(responses["author_type"]) == {"agent", "customer"}
    notes = responses[responses["public"] == "false"]
    assert 0 < len(notes) < 0.1 * len(responses) and (notes["author_type"] == "agent").all()
    assert set(cases["channel"]) == {"phone", "email", "web", "chat"}
    assert cases["closed_at"].notna().mean() > 0.9


def test_obligation_features_are_present(csv_dir: Path) -> None:
    """Pauses, reopens, re-classifications both ways, escalations, suspensions, non-authorized callers."""
    cases, changes, contacts = read(csv_dir, "cases"), read(csv_dir, "case_changes"), read(csv_dir, "contacts")
    n = len(cases)
    by = changes.groupby(["field", "value"])["case_id"].nunique()
    assert 0.10 <= by[("status", "pending_customer")] / n <= 0.20
    assert 0.005 <= by[("status", "closed")] / n <= 0.04
    assert 0.03 <= changes.query("field == 'severity'")["case_id"].nunique() / n <= 0.07
    assert 0.015 <= changes.query("field == 'escalation'")["case_id"].nunique() / n <= 0.05
    assert set(changes.query("field == 'severity'")["value"]) == {"1", "2", "3"}
    authorized = contacts.set_index("contact_id")["authorized"] == "true"
    assert 0.01 <= (~cases["contact_id"].map(authorized)).mean() <= 0.06
    assert 2 <= len(read(csv_dir, "standing")) <= 4
    assert set(read(csv_dir, "engagements")["kind"]) == {"service_day", "training_session"}


def test_slow_weeks_are_slow(csv_dir: Path) -> None:
    """First answers to cases opened in the two slow ISO weeks take far longer than usual."""
    cases = read(csv_dir, "cases").set_index("case_id")
    responses = read(csv_dir, "responses")
    agents = responses[(responses["author_type"] == "agent") & (responses["public"] == "true")]
    delay = (agents.groupby("case_id")["at"].min() - cases["opened_at"]).dropna().dt.total_seconds()
    week = cases["opened_at"].dt.tz_convert("America/Denver").dt.strftime("%G-W%V")
    slow = week.isin(slow_weeks(seed=7))
    assert slow.sum() > 10
    assert delay[slow[slow].index.intersection(delay.index)].median() > 2 * delay[~slow].median()
