"""Self-checks of the random case generator that feeds the engine-vs-reference comparison.

A comparison is only as good as its inputs: these tests prove the generator is
deterministic, emits only rows the loader accepts, covers every feature the clock rules
make tricky (counted over 2,000 cases), and that the reference runs on all of them with
every status present.
"""

from __future__ import annotations

import csv
import itertools
import tomllib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.random_cases import (
    AS_OF_FINAL,
    AS_OF_INSTANTS,
    DST_ZONES,
    TABLE_COLUMNS,
    dst_transitions,
    make_random_cases,
    write_dataset,
)
from tests.reference_sla import (
    BusinessCalendar,
    RefCase,
    get_calendar,
    load_default_config,
    merge_config,
    reference_obligations,
)

SEED = 20260309
N_CASES = 2000
STATUSES = {"met", "breached", "pending", "cancelled", "untargeted", "suspended"}


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], list[RefCase], dict[str, list[dict[str, Any]]]]:
    return make_random_cases(SEED, N_CASES)


@pytest.fixture(scope="module")
def config(generated: tuple[dict[str, Any], list[RefCase], dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    return merge_config(load_default_config(), generated[0])


@pytest.fixture(scope="module")
def final_rows(generated: Any, config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {case.case_id: reference_obligations(case, config, AS_OF_FINAL) for case in generated[1]}


def test_generator_is_deterministic_per_seed() -> None:
    """The same seed gives the same config, cases and rows; another seed gives other cases."""
    first, second, other = make_random_cases(7, 300), make_random_cases(7, 300), make_random_cases(8, 300)
    assert first == second
    assert first[1] != other[1]


def test_rows_are_ones_the_loader_accepts(generated: Any, config: dict[str, Any]) -> None:
    """No event before its case's opening, unique keys, known ids and names, non-overlapping terms, whole seconds."""
    _, cases, tables = generated
    accounts = {row["account_id"]: row for row in tables["accounts"]}
    opened = {row["case_id"]: row["opened_at"] for row in tables["cases"]}
    assert len(opened) == len(tables["cases"]) == len(cases)
    assert all(row["account_id"] in accounts for row in tables["cases"])
    assert all(row["region"] in config["calendars"] for row in tables["accounts"])
    response_ids = [row["response_id"] for row in tables["responses"]]
    assert len(set(response_ids)) == len(response_ids)
    for row in tables["responses"]:
        assert row["at"] >= opened[row["case_id"]]
    change_keys = [(row["case_id"], row["at"], row["field"], row["value"]) for row in tables["case_changes"]]
    assert len(set(change_keys)) == len(change_keys)
    for row in tables["case_changes"]:
        assert row["at"] >= opened[row["case_id"]]
    for row in tables["cases"]:
        assert row["closed_at"] is None or row["closed_at"] >= row["opened_at"]
    terms: dict[str, list[Any]] = {}
    for row in tables["subscriptions"]:
        assert row["package"] in config["packages"]
        terms.setdefault(row["account_id"], []).append((row["start_date"], row["end_date"]))
    for spans in terms.values():
        spans.sort()
        assert all(start <= end for start, end in spans)
        assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans))
    instants = [row["at"] for row in tables["responses"]] + [row["opened_at"] for row in tables["cases"]]
    assert all(t.microsecond == 0 and t.utcoffset() == timedelta(0) for t in instants)


def test_write_dataset_files(generated: Any, tmp_path: Path) -> None:
    """CSV headers are the contract's columns, instants end in Z, change rows keep RefCase order, TOML round-trips."""
    override, cases, tables = generated
    write_dataset(tmp_path, override, tables)
    for name, columns in TABLE_COLUMNS.items():
        with (tmp_path / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert tuple(rows[0].keys()) == columns
        assert len(rows) == len(tables[name])
    with (tmp_path / "config.toml").open("rb") as fh:
        assert tomllib.load(fh) == override
    with (tmp_path / "case_changes.csv").open(newline="", encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    assert all(row["at"].endswith("Z") and len(row["at"]) == 20 for row in written)
    by_case: dict[str, list[tuple[str, str, str]]] = {}
    for row in written:
        by_case.setdefault(row["case_id"], []).append((row["at"], row["field"], row["value"]))
    for case in cases:
        expected = [(at.strftime("%Y-%m-%dT%H:%M:%SZ"), fld, value) for at, fld, value in case.changes]
        assert by_case.get(case.case_id, []) == expected


def _local_package(case: RefCase, day: Any) -> str | None:
    return next((p for p, start, end in case.subscriptions if start <= day <= end), None)


def count_features(
    cases: list[RefCase], config: dict[str, Any], final_rows: dict[str, list[dict[str, Any]]]
) -> Counter[str]:
    """How many cases exercise each tricky feature (a case counts once per feature)."""
    counts: Counter[str] = Counter()
    transitions = {zone: [t for y in (2025, 2026) for t in dst_transitions(zone, y)] for zone in DST_ZONES}
    london = get_calendar(config, "london")
    assert isinstance(london, BusinessCalendar)
    for case in cases:
        seen: set[str] = set()
        rows = final_rows[case.case_id]
        agent_at = [at for at, author, public in case.responses if author == "agent" and public]
        ordered = sorted(case.changes, key=lambda change: change[0])
        closes = [at for at, fld, value in case.changes if fld == "status" and value == "closed"]
        closes += [case.closed_at] if case.closed_at else []

        # Severity moves, from the submitted one through the changes in time order.
        severity = case.severity
        for at, fld, value in ordered:
            if fld == "severity":
                seen.add("severity_up" if int(value) < severity else "severity_down" if int(value) > severity else "")
                severity = int(value)
                if at == case.opened_at:
                    seen.add("severity_change_at_start")
                if at in agent_at:
                    seen.add("severity_change_at_response")
        # Status: pauses, close then reopen, rows at one instant.
        statuses = [(at, value) for at, fld, value in ordered if fld == "status"]
        if any(v == "pending_customer" for _, v in statuses) and any(v == "open" for _, v in statuses):
            seen.add("pause")
        if any(at > close and v in ("open", "pending_customer") for close in closes for at, v in statuses):
            seen.add("close_and_reopen")
        change_instants = Counter(at for at, _, _ in case.changes)
        if any(n > 1 for n in change_instants.values()):
            seen.add("same_instant_changes")
        status_values_at: dict[datetime, set[str]] = {}
        for at, v in statuses:
            status_values_at.setdefault(at, set()).add(v)
        if any(len(values) > 1 for values in status_values_at.values()):
            seen.add("same_instant_conflicting_status_rows")
        if case.closed_at is not None and case.closed_at in status_values_at:
            seen.add("closed_at_ties_status_row")
        if any(n > 1 for n in Counter(agent_at).values()):
            seen.add("same_instant_agent_responses")
        if any(at in status_values_at for at in agent_at):
            seen.add("response_and_status_same_instant")
        if case.opened_at in agent_at:
            seen.add("response_at_opening")
        if [at for at, _, _ in case.changes] != sorted(at for at, _, _ in case.changes):
            seen.add("changes_out_of_time_order_in_file")
        # Messages that are not responses.
        if any(author == "agent" and not public for _, author, public in case.responses):
            seen.add("internal_note")
        if any(author == "customer" for _, author, _ in case.responses):
            seen.add("customer_message")
        # Packages: gaps, changes at a boundary, the local opening date deciding.
        zone = get_calendar(config, case.region)
        assert isinstance(zone, BusinessCalendar)
        local_day = case.opened_at.astimezone(zone.zone).date()
        package = _local_package(case, local_day)
        if (
            package is None
            and any(end < local_day for _, _, end in case.subscriptions)
            and any(start > local_day for _, start, _ in case.subscriptions)
        ):
            seen.add("gap_between_terms")
        if package != _local_package(case, case.opened_at.date()):
            seen.add("local_opening_date_decides_package")
        for day_shift in (-1, 1):
            other = _local_package(case, local_day + timedelta(days=day_shift))
            if package is not None and other is not None and other != package:
                seen.add("package_change_at_term_boundary")
        if package in ("Flex", "Partial"):
            seen.add(f"custom_package_{package}")
        # Suspensions.
        for row in rows:
            for begin, end in case.suspensions:
                if row["status"] == "suspended" and begin <= row["start_at"] and (end is None or row["start_at"] < end):
                    seen.add("suspended_open_ended" if end is None else "suspended_closed")
        if any(end == case.opened_at for _, end in case.suspensions):
            seen.add("opened_at_suspension_end")
        # Responses on the deadline and one second after it.
        for row in rows:
            if row["status"] == "met" and row["end_at"] is not None and row["end_at"] == row["deadline_at"]:
                seen.add("response_on_deadline")
            if (
                row["status"] == "breached"
                and row["deadline_at"] is not None
                and row["end_at"] == row["deadline_at"] + timedelta(seconds=1)
                and row["breached_at"] == row["deadline_at"]
            ):
                seen.add("response_one_second_late")
        # DST weeks and holidays inside an ended obligation's life (at most ten days long).
        for row in rows:
            if row["end_at"] is None or row["end_at"] - row["start_at"] > timedelta(days=10):
                continue
            if row["calendar"] == "24x7":
                continue
            calendar = get_calendar(config, row["calendar"])
            assert isinstance(calendar, BusinessCalendar)
            for t in transitions.get(calendar.zone.key, []):
                if row["start_at"] <= t <= row["end_at"]:
                    seen.add(f"dst_{calendar.zone.key}_{t.date()}")
                    if row["calendar"] == "sunday_ops":
                        seen.add("dst_on_sunday_ops_calendar")
            first_day = row["start_at"].astimezone(calendar.zone).date()
            last_day = row["end_at"].astimezone(calendar.zone).date()
            days = {first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)}
            if days & (calendar.holidays_of(first_day.year) | calendar.holidays_of(last_day.year)):
                seen.add("holiday")
            if row["calendar"] == "london" and days & london.added:
                seen.add("holiday_added")
            if row["calendar"] == "london" and days & london.removed:
                seen.add("holiday_removed")
        # As-of cuts: rows after a cut (ignored as of it) and rows exactly at it.
        instants = agent_at + [at for at, _, _ in case.changes] + ([case.closed_at] if case.closed_at else [])
        for cut in AS_OF_INSTANTS[:-1]:
            if case.opened_at <= cut and any(t > cut for t in instants):
                seen.add("as_of_cut")
            if case.opened_at <= cut and cut in instants:
                seen.add("row_exactly_at_as_of")
            if case.opened_at <= cut and (case.closed_at is None or case.closed_at > cut):
                status_rows = [v for at, v in statuses if at <= cut]
                if status_rows and status_rows[-1] == "pending_customer":
                    seen.add("pause_running_at_as_of")
        seen.discard("")
        counts.update(seen)
    return counts


def test_generator_covers_every_feature(generated: Any, config: dict[str, Any], final_rows: Any) -> None:
    """Each tricky feature of the rules appears in at least one of the 2,000 cases."""
    _, cases, _ = generated
    counts = count_features(cases, config, final_rows)
    expected = {f"dst_{zone}_{t.date()}" for zone in DST_ZONES for y in (2025, 2026) for t in dst_transitions(zone, y)}
    assert len(expected) == 12  # 3 zones x 2 years x (start, end of DST)
    expected |= {
        "dst_on_sunday_ops_calendar",
        "holiday",
        "holiday_added",
        "holiday_removed",
        "severity_up",
        "severity_down",
        "severity_change_at_start",
        "severity_change_at_response",
        "pause",
        "pause_running_at_as_of",
        "close_and_reopen",
        "same_instant_changes",
        "same_instant_conflicting_status_rows",
        "closed_at_ties_status_row",
        "same_instant_agent_responses",
        "response_and_status_same_instant",
        "response_at_opening",
        "changes_out_of_time_order_in_file",
        "internal_note",
        "customer_message",
        "gap_between_terms",
        "local_opening_date_decides_package",
        "package_change_at_term_boundary",
        "custom_package_Flex",
        "custom_package_Partial",
        "suspended_closed",
        "suspended_open_ended",
        "opened_at_suspension_end",
        "response_on_deadline",
        "response_one_second_late",
        "as_of_cut",
        "row_exactly_at_as_of",
    }
    missing = sorted(feature for feature in expected if counts[feature] == 0)
    assert not missing, f"features never generated: {missing}; counts: {dict(sorted(counts.items()))}"


def test_reference_runs_on_all_cases_with_every_status(generated: Any, config: dict[str, Any], final_rows: Any) -> None:
    """The reference evaluates all 2,000 cases at every as-of, rows well-formed, all six statuses present."""
    _, cases, _ = generated
    columns = {
        "case_id",
        "account_id",
        "package",
        "kind",
        "seq",
        "start_at",
        "severity",
        "calendar",
        "target_seconds",
        "deadline_at",
        "end_at",
        "elapsed_seconds",
        "status",
        "breached_at",
    }
    for as_of in AS_OF_INSTANTS:
        statuses: Counter[str] = Counter()
        for case in cases:
            rows = final_rows[case.case_id] if as_of == AS_OF_FINAL else reference_obligations(case, config, as_of)
            assert [row["seq"] for row in rows] == list(range(len(rows)))
            for row in rows:
                assert set(row) == columns
                assert row["elapsed_seconds"] >= 0
                assert (row["breached_at"] is not None) == (row["status"] == "breached")
                assert (row["end_at"] is None) == (row["status"] == "pending") or row["status"] in (
                    "breached",
                    "untargeted",
                    "suspended",
                )
                statuses[row["status"]] += 1
        assert set(statuses) == STATUSES, f"as of {as_of}: {statuses}"
