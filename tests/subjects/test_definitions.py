"""The metric registry: one definition per name, and docs/metrics.md generated from it."""

from __future__ import annotations

from metrics.storage.store import PROJECT_ROOT
from metrics.subjects.definitions import all_definitions, definitions_markdown


def test_every_metric_is_defined_once():
    """Merging the subject modules' definitions finds no name twice (it would raise)."""
    names = all_definitions()
    assert {"attainment", "active_tickets", "escalations", "utilization_forecast", "paused_share"} <= set(names)


def test_docs_table_matches_the_registry():
    """docs/metrics.md carries the registry's current table, so the docs cannot drift."""
    assert definitions_markdown() in (PROJECT_ROOT / "docs" / "metrics.md").read_text()
