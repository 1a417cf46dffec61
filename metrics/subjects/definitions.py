"""Kept for imports written before the registry: `MetricDefinition` now lives in `registry`.

Import `metrics.subjects.registry` instead (`MetricDefinition`, `register_definition`,
`all_definitions`, `definitions_markdown`).
"""

from __future__ import annotations

from metrics.subjects.registry import MetricDefinition

__all__ = ["MetricDefinition"]
