"""The semantic registry: every metric once, with what it means and how it may be asked for.

A **metric** is a computing function of a subject module (`attainment_table`,
`escalation_trend`, ...) registered with the `metric(...)` decorator beside its code:

- the **definitions** of the numbers it computes (`MetricDefinition`: label, what one unit
  is, numerator, denominator, the instant that dates it, notes), the texts of
  docs/metrics.md and of the pages' help;
- the **dimensions** it may be grouped by, each defined once in `DIMENSIONS` with its label
  and its SQL (every source exposes the same column names: obligations, the attainment
  cube, escalation events, case facts, follow-up lives);
- the **grains** of its trends (a subset of `PERIOD_GRAINS`), the instant its period is cut
  on (`period_by`), and which of its columns are counts that add up over a dimension.

Every metric compares with the previous period by the one rule of `Filters.previous()`
(`PREVIOUS_PERIOD_RULE`). Reports register the definitions of their own numbers with
`register_definition` (a lower layer never imports a report), so whoever renders the
whole registry (docs/metrics.md) imports `metrics.reports` first.

Importing `metrics.subjects` imports every subject module, so the registry is complete then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from metrics.subjects.filters import PERIOD_GRAINS, PREVIOUS_PERIOD_RULE

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "PERIOD_GRAINS",
    "PREVIOUS_PERIOD_RULE",
    "Dimension",
    "Metric",
    "MetricDefinition",
    "all_definitions",
    "check_dimensions",
    "check_grain",
    "definition",
    "definitions_markdown",
    "get",
    "group_columns",
    "metric",
    "metrics_markdown",
    "register_definition",
]


@dataclass(frozen=True)
class MetricDefinition:
    """What one number means: the texts of docs/metrics.md and of the pages' help."""

    name: str
    label: str
    counts: str  # what one unit is
    numerator: str
    denominator: str | None
    period_by: str | None  # the instant whose local date puts a unit in a period
    notes: str = ""


MISSING = "(none)"  # the group label of a missing package, advisor or owner


@dataclass(frozen=True)
class Dimension:
    """A key a metric may be grouped by: its label and the column every source exposes.

    Every source a metric groups (obligations `o`, the attainment cube, escalation events
    `e`, case facts `f`, follow-up lives) holds the dimension under the same column name,
    so the SQL is written here once: `sql(alias)`. `account_level` dimensions are
    attributes of the account, read from the case facts where a source joins them
    (obligations joined to case facts).
    """

    name: str
    label: str
    column: str
    missing: str | None = None  # the label a missing value is grouped under
    account_level: bool = False

    def sql(self, alias: str) -> str:
        """The SQL expression of this dimension over the relation `alias`."""
        expression = f"{alias}.{self.column}"
        return f"coalesce({expression}, '{self.missing}')" if self.missing else expression


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("kind", "Obligation kind", "kind"),
        Dimension("severity", "Severity", "severity"),
        Dimension("package", "Package", "package", MISSING),
        Dimension("account_id", "Account id", "account_id"),
        Dimension("account_name", "Account", "account_name", account_level=True),
        Dimension("advisor", "Advisor", "advisor", MISSING, account_level=True),
        Dimension("region", "Region", "region", account_level=True),
        Dimension("calendar", "Calendar", "calendar"),
        Dimension("owner", "Owner", "owner", MISSING),
    )
}


@dataclass(frozen=True)
class Metric:
    """A registered computing function: `function(snap, filters=Filters(), **options)`."""

    name: str  # the function's name, what the dashboard asks for
    function: Callable[..., Any]
    definitions: tuple[MetricDefinition, ...]
    dimensions: tuple[str, ...] = ()  # keys of DIMENSIONS its `by` accepts
    grains: tuple[str, ...] = ()  # PERIOD_GRAINS its `grain` accepts
    period_by: str | None = None  # the instant the period filter is cut on; None: the period does not apply
    additive: tuple[str, ...] = ()  # count columns whose sum over any dimension is the ungrouped total
    needs_dimension: bool = False  # `by` may not be empty

    @property
    def label(self) -> str:
        return self.definitions[0].label

    @property
    def module(self) -> str:
        return self.function.__module__.rsplit(".", 1)[-1]


METRICS: dict[str, Metric] = {}
_DEFINITIONS: dict[str, MetricDefinition] = {}

F = TypeVar("F", bound=Callable[..., Any])


def register_definition(*definitions: MetricDefinition) -> None:
    """Add the definitions of numbers computed outside the subjects (the reports call this).

    A name defined twice with different texts is a mistake (two definitions of one number),
    so it raises; registering the very same definition again changes nothing.
    """
    for d in definitions:
        known = _DEFINITIONS.get(d.name)
        if known is not None and known != d:
            raise ValueError(f"metric {d.name!r} is defined twice")
        _DEFINITIONS[d.name] = d


def metric(
    *definitions: MetricDefinition,
    dimensions: Sequence[str] = (),
    grains: Sequence[str] = (),
    period_by: str | None = None,
    additive: Sequence[str] = (),
    needs_dimension: bool = False,
) -> Callable[[F], F]:
    """Register the decorated function as a metric computing `definitions` (returned unchanged)."""
    if not definitions:
        raise ValueError("a metric needs at least one definition")
    unknown = [d for d in dimensions if d not in DIMENSIONS] + [g for g in grains if g not in PERIOD_GRAINS]
    if unknown:
        raise ValueError(f"unknown dimension or grain {unknown[0]!r}")

    def register(function: F) -> F:
        name = function.__name__
        if name in METRICS and METRICS[name].function is not function:
            raise ValueError(f"metric {name!r} is registered twice")
        register_definition(*definitions)
        METRICS[name] = Metric(
            name, function, tuple(definitions), tuple(dimensions), tuple(grains), period_by, tuple(additive),
            needs_dimension,
        )
        return function

    return register


def get(metric: str | Callable[..., Any]) -> Metric:
    """The registered metric of a name or of its function; ValueError for anything else."""
    name = metric if isinstance(metric, str) else getattr(metric, "__name__", "")
    found = METRICS.get(name)
    if found is None or (not isinstance(metric, str) and found.function is not metric):
        raise ValueError(f"{name or metric!r} is not a registered metric")
    return found


def check_dimensions(metric: str | Callable[..., Any], by: Iterable[str]) -> tuple[Dimension, ...]:
    """The dimensions `by` names, once each is known to be one `metric` accepts (else ValueError)."""
    registered = get(metric)
    keys = list(by)
    for key in keys:
        if key not in registered.dimensions:
            raise ValueError(
                f"cannot group by {key!r}: {registered.name} accepts {', '.join(registered.dimensions) or 'none'}"
            )
    if registered.needs_dimension and not keys:
        raise ValueError(f"{registered.name} needs at least one group key")
    return tuple(DIMENSIONS[k] for k in keys)


def check_grain(metric: str | Callable[..., Any], grain: str | None) -> None:
    """Raise ValueError unless `grain` is None or one of the grains `metric` supports."""
    registered = get(metric)
    if grain is not None and grain not in registered.grains:
        raise ValueError(f"period grain must be one of {registered.grains}, got {grain!r}")


def group_columns(
    metric: str | Callable[..., Any], by: Iterable[str], alias: str | Callable[[Dimension], str]
) -> list[str]:
    """`<sql> as <name>` for each of `by` over the relation `alias` (or the alias per dimension)."""
    return [
        f"{d.sql(alias if isinstance(alias, str) else alias(d))} as {d.name}"
        for d in check_dimensions(metric, by)
    ]


def all_definitions() -> dict[str, MetricDefinition]:
    """Every registered definition by name (the reports' once their module is imported)."""
    return dict(_DEFINITIONS)


def definition(name: str) -> MetricDefinition:
    return _DEFINITIONS[name]


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def definitions_markdown() -> str:
    """The registered definitions as a Markdown table (docs/metrics.md is generated from it)."""
    computed_by = {d.name: m.name for m in METRICS.values() for d in m.definitions}
    rows = [
        "| metric | counts | numerator | denominator | period by | computed by |",
        "|---|---|---|---|---|---|",
    ]
    for d in sorted(_DEFINITIONS.values(), key=lambda d: d.name):
        counts = f"{d.counts} ({d.notes})" if d.notes else d.counts
        function = f"`{computed_by[d.name]}`" if d.name in computed_by else "a report (`metrics.reports`)"
        cells = [f"**{d.label}** (`{d.name}`)", counts, d.numerator, d.denominator or "–", d.period_by or "–", function]
        rows.append(_row(cells))
    return "\n".join(rows) + "\n"


def metrics_markdown() -> str:
    """The registered functions, their dimensions, grains and period, and the previous-period rule."""
    rows = [
        "| function | metrics | dimensions (`by`) | grains | period cut on |",
        "|---|---|---|---|---|",
    ]
    for m in sorted(METRICS.values(), key=lambda m: (m.module, m.name)):
        dimensions = ", ".join(f"`{d}`" for d in m.dimensions) or "–"
        if m.needs_dimension:
            dimensions += " (at least one)"
        cells = [
            f"`{m.module}.{m.name}`",
            ", ".join(f"`{d.name}`" for d in m.definitions),
            dimensions,
            ", ".join(m.grains) or "–",
            m.period_by or "– (a moment, not a period)",
        ]
        rows.append(_row(cells))
    labels = "; ".join(f"`{d.name}` {d.label}" for d in DIMENSIONS.values())
    return (
        "\n".join(rows)
        + f"\n\nDimensions: {labels}. Missing packages, advisors and owners group as `{MISSING}`.\n\n"
        + f"**Previous period** (every delta): {PREVIOUS_PERIOD_RULE}\n"
    )
