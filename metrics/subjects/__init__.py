"""The metrics, one module per subject, each registered once in `registry`.

Owns what each number means: its definition, its dimensions and grains, the instant that
dates it into a period and the previous-period rule (`registry`, `filters`). Reads a
snapshot of the engine; imports engine, storage and the shared helpers, never a report
or a tool. Importing this package imports every subject module, so the registry is
complete (the reports add their definitions when `metrics.reports` modules are imported).
"""

from metrics.subjects import (
    active,
    attainment,
    buckets,
    case_cube,
    escalations,
    governance,
    registry,
    scorecard,
    utilization,
    weekly_delivery,
)

__all__ = [
    "active", "attainment", "buckets", "case_cube", "escalations", "governance", "registry", "scorecard", "utilization",
    "weekly_delivery",
]
