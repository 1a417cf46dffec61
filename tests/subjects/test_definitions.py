"""The metric registry's texts: one definition per name, and docs/metrics.md generated from it."""

from __future__ import annotations

import pytest

import metrics.reports.weekly as weekly
from metrics.storage.store import PROJECT_ROOT
from metrics.subjects import registry
from metrics.subjects.registry import MetricDefinition, all_definitions, definitions_markdown, metrics_markdown

DOCS = PROJECT_ROOT / "docs" / "metrics.md"
HINT = (
    "docs/metrics.md is generated from the registry: paste the output of\n"
    "python -c 'import metrics.reports.weekly as w; from metrics.subjects import registry as r; "
    "r.register_definition(*w.DEFINITIONS); print(r.definitions_markdown()); print(r.metrics_markdown())'"
)


@pytest.fixture(scope="module", autouse=True)
def with_reports() -> None:
    """The whole registry: the subjects' metrics plus the reports' definitions (as docs generation sees it)."""
    registry.register_definition(*weekly.DEFINITIONS)  # a no-op where the report registered them itself


def test_every_metric_is_defined_once():
    """Subjects and reports together define each name once, with the expected ones present."""
    names = all_definitions()
    assert {"attainment", "active_tickets", "escalations", "utilization_forecast", "paused_share"} <= set(names)
    assert {d.name for d in weekly.DEFINITIONS} <= set(names)


def test_a_second_definition_of_a_name_is_refused():
    """Two different texts for one number raise; registering the very same definition again is harmless."""
    same = all_definitions()["attainment"]
    registry.register_definition(same)
    with pytest.raises(ValueError, match="'attainment' is defined twice"):
        registry.register_definition(MetricDefinition("attainment", "Other", "x", "y", None, None))


def test_every_subject_definition_names_its_function():
    """Each definition of a subject is computed by a registered function (the docs' 'computed by' column)."""
    computed = {d.name for m in registry.METRICS.values() for d in m.definitions}
    reported = {d.name for d in weekly.DEFINITIONS}
    assert computed | reported == set(all_definitions())
    assert not computed & reported


def test_docs_table_matches_the_registry():
    """docs/metrics.md carries the registry's current tables, so the docs cannot drift."""
    text = DOCS.read_text()
    assert definitions_markdown() in text, HINT
    assert metrics_markdown() in text, HINT


def test_docs_list_every_dimension_grain_and_the_previous_period_rule():
    """The generated docs name each dimension, each grain and the one previous-period rule."""
    text = metrics_markdown()
    for name in registry.DIMENSIONS:
        assert f"`{name}`" in text
    for grain in registry.PERIOD_GRAINS:
        assert grain in text
    assert registry.PREVIOUS_PERIOD_RULE in text
