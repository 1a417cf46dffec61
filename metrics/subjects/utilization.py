"""Utilization: entitlements used against entitled per account and subscription term.

Service days and private training sessions come from `engagements`, authorized contacts
from `contacts`, cases from `case_facts`; what each term is entitled to comes from the
package catalogue (`config.packages`), so a retuned package changes the denominators
without a reload. Everything is as of the snapshot: terms that start after the as-of
local date are left out, usage counts engagements dated up to that date and cases
opened by as-of. Dates are local to the account's region calendar, as for the package
in force on a case (docs/sla-clock.md).

Pace and forecast compare use with time: `elapsed_share` is the part of the term up to
and including the as-of local date, `pace` the used share minus that in percentage
points, and the forecast extrapolates today's rate to the term's end
(`used / elapsed_share`).
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot
from metrics.storage.config import Config
from metrics.subjects.filters import Filters
from metrics.subjects.registry import MetricDefinition, metric

TERMS_SQL = sqlfiles.read(__file__, "utilization_terms.sql")
BY_TERM_SQL = sqlfiles.read(__file__, "utilization_by_term.sql")

# Usage bands of the executive ranking (see `usage_band`).
OVER_FACTOR = 1.10  # forecast at least 10 % above the entitlement
UNDER_FACTOR = 0.50  # forecast below half the entitlement ...
UNDER_MIN_ELAPSED = 0.25  # ... once at least a quarter of the term has elapsed
BANDS = ("over", "on pace", "no entitlement", "under")  # the ranking's order: over-users first, under-users last

CONTACT_COLUMNS = ["account_id", "account_name", "package", "authorized_contacts", "allotted", "over_by"]


def entitlement_table(config: Config) -> pa.Table:
    """The package catalogue's entitlements, one row per package, for joining in SQL."""
    packages = list(config.packages.values())
    return pa.table(
        {
            "package": pa.array([p.name for p in packages], pa.string()),
            "service_days": pa.array([float(p.service_days) for p in packages], pa.float64()),
            "training_sessions": pa.array([float(p.training_sessions) for p in packages], pa.float64()),
            "authorized_contacts": pa.array([p.authorized_contacts for p in packages], pa.int64()),
            "phone_support": pa.array([p.phone_support for p in packages], pa.bool_()),
        }
    )


def _term_condition(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """WHERE over `utilization_terms` columns: started by as-of, the account filters, the period.

    Severities describe cases, not terms, so they are dropped; a period keeps the terms
    that overlap it (`term_start <= end` and `term_end >= start`).
    """
    account_filters = dataclasses.replace(filters, severities=(), start=None, end=None)
    where, params = account_filters.where("t")
    parts = ["t.term_start <= t.as_of_date", f"coalesce(({where}), false)"]
    if filters.start is not None:
        parts.append("t.term_end >= ?")
        params.append(filters.start)
    if filters.end is not None:
        parts.append("t.term_start <= ?")
        params.append(filters.end)
    if snap.accounts is not None:
        parts.append("list_contains(?, t.account_id)")
        params.append(list(snap.accounts))
    return " and ".join(parts), params


@metric(
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
        "service_days_utilization",
        "Service days used",
        "service days delivered (engagements of kind service_day, by quantity)",
        "service days dated from the term's start to the as-of local date (or the term's end)",
        "service days the term's package entitles",
        "date",
        "Local dates in the account's region timezone; NaN when the package entitles none.",
    ),
    MetricDefinition(
        "training_sessions_utilization",
        "Private training sessions used",
        "private training sessions delivered (engagements of kind training_session, by quantity)",
        "training sessions dated from the term's start to the as-of local date (or the term's end)",
        "training sessions the term's package entitles",
        "date",
        "NaN when the package entitles none.",
    ),
    MetricDefinition(
        "elapsed_share",
        "Elapsed share of the term",
        "local days of a subscription term",
        "days from the term's start to the as-of local date, both included (at most the term's length)",
        "days in the term (start and end included)",
        None,
        "The as-of date counts as elapsed because its engagements count as used.",
    ),
    MetricDefinition(
        "utilization_pace",
        "Pace vs elapsed term",
        "subscription terms",
        "used share minus elapsed share, in percentage points",
        None,
        "date",
        "Service days; training sessions where the package has no service days; NaN when it has neither.",
    ),
    MetricDefinition(
        "utilization_forecast",
        "Forecast use at term end",
        "service days or training sessions",
        "used so far",
        "elapsed share of the term",
        "date",
        "Today's rate carried to the term's end; NaN when no time has elapsed.",
    ),
    MetricDefinition(
        "term_cases",
        "Cases in the term",
        "cases opened by as-of",
        "cases whose local opening date (account's region timezone) falls in the term, by submitted severity "
        "and by channel",
        None,
        "opened_at",
    ),
    MetricDefinition(
        "phone_without_entitlement",
        "Phone cases without phone support",
        "cases opened through the phone channel",
        "phone cases in terms whose package has phone_support = false",
        None,
        "opened_at",
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def utilization_by_term(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per (account, term) started by as-of: used vs entitled, contacts, cases, pace.

    Columns: account_id, account_name, advisor, region, package, term_start, term_end,
    term_days, elapsed_days, elapsed_share, current; for service_days_* and
    training_sessions_*: used, entitled, share (NaN when nothing is entitled), forecast
    (NaN when no time elapsed); other_engagements (quantity of other kinds);
    authorized_contacts, authorized_contacts_allotted; cases, cases_sev1..3 (submitted
    severity), channel_phone/email/web/chat/other (channel compared case-insensitively;
    a missing channel is other), phone_cases, phone_support, phone_without_entitlement,
    non_authorized_cases; pace (percentage points, NaN when nothing is entitled).
    A package missing from the catalogue is entitled to nothing.
    """
    where, params = _term_condition(snap, filters)
    cur = snap.cursor()
    try:
        cur.register("package_entitlements", entitlement_table(snap.config))
        cur.execute(
            f"create or replace temp table utilization_terms as select * from ({TERMS_SQL}) t where {where}",
            [snap.as_of, *params],
        )
        return cur.sql(BY_TERM_SQL).to_arrow_table().to_pandas()
    finally:
        cur.close()


@metric(
    MetricDefinition(
        "authorized_contacts_designated",
        "Authorized contacts designated",
        "contacts of the account with authorized = true",
        "contacts authorized on the term's last day or, for the running term, on the as-of local date",
        "the package's authorized_contacts allotment",
        None,
        "Over allotment when designated > allotted in the current term.",
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def contacts_over_allotment(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Accounts whose current term designates more authorized contacts than the package allots.

    Most over first. Designated contacts are those counted by `utilization_by_term`: the
    contacts authorized on the as-of local date (a replaced contact no longer counts).
    """
    terms = utilization_by_term(snap, filters)
    over = terms[terms["current"] & (terms["authorized_contacts"] > terms["authorized_contacts_allotted"])]
    frame = over.rename(columns={"authorized_contacts_allotted": "allotted"}).assign(
        over_by=lambda f: f["authorized_contacts"] - f["allotted"]
    )
    return frame.sort_values(["over_by", "account_id"], ascending=[False, True])[CONTACT_COLUMNS].reset_index(drop=True)


def usage_band(forecast_share: float, elapsed_share: float) -> str:
    """The executive band of one term from its forecast use as a share of the entitlement.

    'over' when the forecast is at least 110 % of the entitlement; 'under' when it is below
    50 % and at least a quarter of the term has elapsed (earlier, a slow start is still
    'on pace'); otherwise 'on pace'. NaN (nothing entitled) gives 'no entitlement'.
    """
    if math.isnan(forecast_share):
        return "no entitlement"
    share = round(forecast_share, 9)  # 11 / 10 is exactly "10 % over", not 1.0999999...
    if share >= OVER_FACTOR:
        return "over"
    if share < UNDER_FACTOR and elapsed_share >= UNDER_MIN_ELAPSED:
        return "under"
    return "on pace"


@metric(
    MetricDefinition(
        "usage_band",
        "Usage band",
        "accounts' current terms",
        "forecast use at term end on the usage basis (service days, else training sessions)",
        "entitlement on that basis",
        None,
        "over: >= 110 %; under: < 50 % once a quarter of the term elapsed; else on pace; "
        "no entitlement when neither service days nor training sessions are entitled.",
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def utilization_ranking(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """The portfolio of current terms, one row per account, most over-using first, most under-using last.

    Columns of `utilization_by_term` plus `usage_basis` ('service_days', or
    'training_sessions' when the package has no service days; None when it has neither),
    `forecast_share` (forecast use at term end / entitlement on that basis) and
    `usage_band`:

    - 'over': forecast_share >= 1.10 (the forecast exceeds the entitlement by 10 % or more);
    - 'under': forecast_share < 0.50 after at least 25 % of the term has elapsed;
    - 'on pace': anything else with an entitlement;
    - 'no entitlement': neither service days nor training sessions entitled.

    Sorted by band in that order (over, on pace, no entitlement, under), then by
    forecast_share descending and account_id.
    """
    terms = utilization_by_term(snap, filters)
    frame = terms[terms["current"]].copy()
    on_service = frame["service_days_entitled"] > 0
    on_training = ~on_service & (frame["training_sessions_entitled"] > 0)
    frame["usage_basis"] = pd.Series(None, index=frame.index, dtype="object")
    frame.loc[on_service, "usage_basis"] = "service_days"
    frame.loc[on_training, "usage_basis"] = "training_sessions"
    service = frame["service_days_forecast"] / frame["service_days_entitled"].where(on_service)
    training = frame["training_sessions_forecast"] / frame["training_sessions_entitled"].where(on_training)
    frame["forecast_share"] = service.where(on_service, training).astype("float64")
    frame["usage_band"] = [
        usage_band(share, elapsed)
        for share, elapsed in zip(frame["forecast_share"], frame["elapsed_share"], strict=True)
    ]
    frame["band_order"] = frame["usage_band"].map(BANDS.index)
    frame = frame.sort_values(
        ["band_order", "forecast_share", "account_id"], ascending=[True, False, True], na_position="last"
    )
    return frame.drop(columns="band_order").reset_index(drop=True)
