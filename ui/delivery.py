"""The weekly updates' delivery as tiles: owed, sent, sent on time (Governance and the executive Overview)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from metrics.subjects.weekly_delivery import ON_TIME_RULE, delivery_summary
from ui import components as ui
from ui.help import definition_help


def delivery_tiles(columns: list[Any], rows: pd.DataFrame) -> pd.DataFrame:
    """Two tiles (sent of owed, sent on time) in `columns`; returns the counts per advisor for a table."""
    whole = delivery_summary(rows, None).iloc[0]
    owed, sent, on_time = int(whole["owed"]), int(whole["sent"]), int(whole["on_time"])
    columns[0].metric(
        "Weekly updates sent", ui.pct(whole["sent_share"]) if owed else "–", border=True,
        help=f"{definition_help('weekly_updates_sent')}\n\n{definition_help('weekly_updates_owed')}",
    )
    columns[0].caption(f"{sent:,} of {owed:,} account-weeks owed")
    columns[1].metric(
        "Weekly updates on time", ui.pct(whole["on_time_share"]) if owed else "–", border=True,
        help=f"{definition_help('weekly_updates_on_time')} {ON_TIME_RULE}",
    )
    columns[1].caption(f"{on_time:,} of {owed:,} by the end of the Monday after")
    return delivery_summary(rows)
