"""Every metric the product shows, defined once: name, what is counted, numerator, denominator.

Pages use these texts as help, exports as column descriptions, and the tests as the
contract each computing function must meet. The functions live beside their subject
(attainment.py, utilization.py, ...); this module only describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    label: str
    counts: str  # what one unit is
    numerator: str
    denominator: str | None
    period_by: str | None  # the instant whose local date puts a unit in a period
    notes: str = ""


DEFINITIONS: dict[str, MetricDefinition] = {
    d.name: d
    for d in (
        MetricDefinition(
            "attainment",
            "SLA attainment",
            "response obligations (initial and follow-up)",
            "met obligations",
            "met + breached obligations",
            "start_at",
            "Pending, cancelled, untargeted and suspended obligations are shown beside it, never counted.",
        ),
        MetricDefinition(
            "within_half_target",
            "Answered within half the target",
            "met or breached obligations with a target",
            "obligations whose elapsed clock time is at most 50 % of the target",
            "met + breached obligations with a target",
            "start_at",
        ),
        MetricDefinition(
            "policy_escalations",
            "Policy escalations",
            "breached obligations",
            "breached obligations",
            None,
            "breached_at",
            "Each breach escalates the case to support management (sla-rules.md section 5).",
        ),
        MetricDefinition(
            "recorded_escalations",
            "Recorded escalations",
            "case_changes rows with field = escalation",
            "escalation rows",
            None,
            "at",
        ),
        MetricDefinition(
            "escalation_rate",
            "Escalations per 100 cases",
            "escalations (policy + recorded) against cases opened",
            "100 x escalations in the period",
            "cases opened in the period",
            "breached_at / at / opened_at",
        ),
        MetricDefinition(
            "active_tickets",
            "Active tickets",
            "cases opened by as-of and open (open or pending_customer) at as-of",
            "cases",
            None,
            None,
        ),
        MetricDefinition(
            "at_risk",
            "At risk",
            "running obligations of active tickets",
            "running obligations whose consumed share (elapsed / target) reached at_risk_fraction, not yet breached",
            None,
            None,
        ),
        MetricDefinition(
            "utilization",
            "Entitlement utilization",
            "service days, private training sessions, authorized contacts per account and term",
            "used in the term so far",
            "entitled for the term",
            "date",
            "Pace compares the used share with the elapsed share of the term; the forecast extrapolates the pace.",
        ),
        MetricDefinition(
            "non_authorized_requests",
            "Cases from non-authorized contacts",
            "cases whose contact_id is not an authorized contact of the account on the local opening date",
            "such cases",
            "cases with a contact_id",
            "opened_at",
        ),
    )
}


SUBJECT_MODULES = ("attainment", "escalations", "utilization", "active", "governance", "weekly")


@cache
def all_definitions() -> dict[str, MetricDefinition]:
    """The registry: the shared definitions above plus each subject module's own `DEFINITIONS`.

    A name defined twice is a mistake (two definitions of one number), so it raises.
    """
    import importlib

    merged = dict(DEFINITIONS)
    for module in SUBJECT_MODULES:
        path = "metrics.reports.weekly" if module == "weekly" else f"metrics.subjects.{module}"
        for definition in importlib.import_module(path).DEFINITIONS:
            if definition.name in merged:
                raise ValueError(f"metric {definition.name!r} is defined twice (metrics.{module})")
            merged[definition.name] = definition
    return merged


def definitions_markdown() -> str:
    """The registry as a Markdown table (docs/metrics.md is generated from it)."""
    rows = ["| metric | counts | numerator | denominator | period by |", "|---|---|---|---|---|"]
    for d in sorted(all_definitions().values(), key=lambda d: d.name):
        cells = [f"**{d.label}** (`{d.name}`)", d.counts, d.numerator, d.denominator or "–", d.period_by or "–"]
        if d.notes:
            cells[1] += f" ({d.notes})"
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
