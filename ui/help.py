"""Help texts shown beside widgets and figures: the product's definitions in a user's words.

Metric, dimension and previous-period texts come from the registry (`metrics.subjects.registry`),
the same texts docs/metrics.md is generated from.
"""

from __future__ import annotations

from metrics.subjects import registry

SEVERITY_HELP = """\
**Severity 1**: critical production problem affecting all users (system down, data
integrity), no workaround. Runs around the clock.

**Severity 2**: major functionality affected or performance significantly degraded,
many users, no reasonable workaround; includes urgent requests such as feature
activation or data import. Runs in business hours.

**Severity 3**: a problem affecting some users, or a routine question; a reasonable
workaround exists. Runs in business hours.
"""

CLOCK_HELP = """\
The initial clock runs from a case's opening to the first agent response; each agent
response starts a follow-up clock that runs to the next one. Severity 1 counts every
second; severities 2 and 3 count the account's business hours (local time, holidays
excluded). Waiting on the customer pauses follow-ups. A response exactly at the
deadline is met; a breach is final even if the severity is lowered later.
"""


PREVIOUS_PERIOD_HELP = f"The delta compares with the previous period. {registry.PREVIOUS_PERIOD_RULE}"


def dimension_label(name: str) -> str:
    """The registry's label of a dimension ('account_name' -> 'Account')."""
    return registry.DIMENSIONS[name].label


def definition_help(name: str) -> str:
    """'Counts X; numerator / denominator' for a definition of the registry."""
    d = registry.definition(name)
    ratio = f"{d.numerator} / {d.denominator}" if d.denominator else d.numerator
    text = f"**{d.label}**: {ratio}. Counts {d.counts}."
    if d.period_by:
        text += f" In a period by `{d.period_by}`."
    return text + (f" {d.notes}" if d.notes else "")
