"""Metrics a page starts together (`state.start`) give what `state.metric` gives, checked and scoped the same way.

A started metric runs on a worker thread; its arguments are checked against the registry and
scoped to the viewer in the script's thread, before anything runs.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest


def test_a_started_metric_equals_the_metric_and_runs_on_a_worker(app_env: Path) -> None:
    def script() -> None:
        import threading

        import streamlit as st

        from metrics.subjects.attainment import attainment_summary, attainment_table
        from metrics.subjects.filters import Filters
        from ui import state

        threads: list[str] = []
        original = state._run_within

        def noted(*args: object) -> object:
            threads.append(threading.current_thread().name)
            return original(*args)  # type: ignore[arg-type]

        state._run_within = noted  # type: ignore[assignment]
        try:
            every = Filters()
            severe = Filters(severities=(1,))
            started = [state.start(attainment_table, filters=every, by=["kind", "severity"]),
                       state.start(attainment_summary, filters=severe)]
            table, summary = (job.result(timeout=120) for job in started)
        finally:
            state._run_within = original  # type: ignore[assignment]
        same_table = table.equals(state.metric(attainment_table, filters=every, by=["kind", "severity"]))
        st.write(f"table same: {same_table}")
        st.write(f"summary same: {summary == state.metric(attainment_summary, filters=severe)}")
        st.write(f"severity 1 only: {summary['obligations'] < table['obligations'].sum()}")
        st.write(f"workers: {sorted(set(t.split('_')[0] for t in threads))}")

    at = AppTest.from_function(script, default_timeout=120).run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert [m.value for m in at.markdown] == [
        "table same: True", "summary same: True", "severity 1 only: True", "workers: ['metrics']"]


def test_a_started_metric_is_checked_before_it_runs(app_env: Path) -> None:
    """A dimension the registry does not list for the metric is refused in the script, as by `metric`."""

    def script() -> None:
        import streamlit as st

        from metrics.subjects.attainment import attainment_table
        from ui import state

        for ask in (state.metric, state.start):
            try:
                ask(attainment_table, by=["password"])
            except ValueError as refused:
                st.write(f"{ask.__name__} refused: {'password' in str(refused)}")

    at = AppTest.from_function(script, default_timeout=120).run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert [m.value for m in at.markdown] == ["metric refused: True", "start refused: True"]
