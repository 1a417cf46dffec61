"""Utilization: entitlements used against entitled per account and subscription term.

Service days and private training sessions come from `engagements`, authorized contacts
from `contacts`, cases from `case_facts`; what each term is entitled to comes from the
package catalogue (`config.terms`: the package's definition in force on the term's first
day, versions and the account's overrides included), so a retuned package changes the
denominators without a reload. Everything is as of the snapshot: terms that start after the as-of
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
import datetime as dt
import math

import pandas as pd
import pyarrow as pa

from metrics import sqlfiles
from metrics.engine.snapshot import Snapshot, per_case_table
from metrics.storage.config import Config
from metrics.subjects.filters import Filters
from metrics.subjects.registry import MetricDefinition, metric

TERMS_SQL = sqlfiles.read(__file__, "utilization_terms.sql")
BY_TERM_SQL = sqlfiles.read(__file__, "utilization_by_term.sql")
CASE_DAYS_SQL = sqlfiles.read(__file__, "utilization_case_days.sql")
_CASE_DAY_COUNTS = (
    "cases", "cases_sev1", "cases_sev2", "cases_sev3", "channel_phone", "channel_email", "channel_web",
    "channel_chat", "channel_other", "non_authorized_cases",
)
# The cases per account and local opening date: stored at load per week of settling, added up again.
CASE_DAYS = per_case_table(
    "case_days",
    lambda snap: snap.query(CASE_DAYS_SQL),
    CASE_DAYS_SQL,
    combine=f"select account_id, day, {', '.join(f'cast(sum({c}) as bigint) as {c}' for c in _CASE_DAY_COUNTS)} "
    "from parts group by all",
)

WEEKLY_UPDATES = "weekly_updates"  # the package feature that promises a weekly update

# Usage bands of the executive ranking (see `usage_band`).
OVER_FACTOR = 1.10  # forecast at least 10 % above the entitlement ...
UNDER_FACTOR = 0.50  # ... or below half of it ...
MIN_ELAPSED = 0.25  # ... once at least a quarter of the term has elapsed (both forecasts)
EXCEEDED = "used more than entitled"  # a fact: used > entitled already
TRENDING_OVER = "trending over"  # a forecast
# The ranking's order: over-users first (the fact before the forecast), under-users last.
BANDS = (EXCEEDED, TRENDING_OVER, "on pace", "no entitlement", "under")
# Which kind's band an account takes when its two kinds differ: the most pressing first.
BAND_PRIORITY = (EXCEEDED, TRENDING_OVER, "under", "on pace")
USAGE_KINDS = ("service_days", "training_sessions")
BAND_RULE = (
    "Per entitled kind (service days, training sessions): 'used more than entitled' when used > entitled "
    "(a fact, at any elapsed share); else, before 25 % of the term has elapsed, 'on pace'; after it, "
    "'trending over' when the forecast at term end (used / elapsed share) is >= 110 % of the entitlement, "
    "'under' when it is < 50 %, else 'on pace'. The account's band is the most pressing of its entitled "
    "kinds' bands (used more than entitled, trending over, under, on pace); 'no entitlement' when the "
    "package entitles neither kind."
)

CONTACT_COLUMNS = [
    "account_id", "account_name", "package", "authorized_contacts_peak", "authorized_contacts_peak_date",
    "authorized_contacts", "allotted", "over_by",
]


def entitlement_table(config: Config) -> pa.Table:
    """The entitlements of every span of terms (`config.terms`), for joining in SQL.

    Also whether the span promises weekly updates: weekly_delivery owes them by the same rule.

    A subscription term takes the definition in force on its first local date (its
    `term_start`): a version or override from a later date changes the next term's
    entitlements, never the term under way, so a term's denominators do not move within
    it (docs/sla-clock.md). Open ends are 0001-01-01 and 9999-12-31; `account_id` is null on
    the package's own rows (the macro `terms_account` picks an overridden account's).
    """
    spans = config.terms
    return pa.table(
        {
            "package": pa.array([t.package for t in spans], pa.string()),
            "account_id": pa.array([t.account_id for t in spans], pa.string()),
            "valid_from": pa.array([t.valid_from or dt.date.min for t in spans], pa.date32()),
            "valid_to": pa.array([t.valid_to or dt.date.max for t in spans], pa.date32()),
            "service_days": pa.array([float(t.spec.service_days) for t in spans], pa.float64()),
            "training_sessions": pa.array([float(t.spec.training_sessions) for t in spans], pa.float64()),
            "authorized_contacts": pa.array([t.spec.authorized_contacts for t in spans], pa.int64()),
            "phone_support": pa.array([t.spec.phone_support for t in spans], pa.bool_()),
            "weekly_updates": pa.array([WEEKLY_UPDATES in t.spec.features for t in spans], pa.bool_()),
        }
    )


def _term_condition(snap: Snapshot, filters: Filters) -> tuple[str, list[object]]:
    """WHERE over `utilization_terms` columns: the account filters and the period.

    Severities describe cases, not terms, so they are dropped; a period keeps the terms
    that overlap it (`term_start <= end` and `term_end >= start`).
    """
    account_filters = dataclasses.replace(filters, severities=(), start=None, end=None)
    where, params = account_filters.where("t")
    parts = [f"coalesce(({where}), false)"]
    if filters.start is not None:
        parts.append("t.term_end >= ?")
        params.append(filters.start)
    if filters.end is not None:
        parts.append("t.term_start <= ?")
        params.append(filters.end)
    return " and ".join(parts), params


def _all_terms(snap: Snapshot) -> pa.Table:
    """`utilization_by_term` of every term started by as-of (of the snapshot's accounts), unfiltered.

    Every row depends on its own term only (its cases, engagements and contacts), so the
    filters may pick terms after the fact: built once per snapshot, every page's call and
    filter change then reads a few thousand rows instead of joining every case again.
    """
    parts, params = ["t.term_start <= t.as_of_date"], []
    if snap.accounts is not None:
        parts.append("list_contains(?, t.account_id)")
        params.append(list(snap.accounts))
    where = " and ".join(parts)
    snap.table(CASE_DAYS)  # registered in the cursor below
    cur = snap.cursor()
    try:
        cur.register("package_entitlements", entitlement_table(snap.config))
        cur.execute(
            f"create or replace temp table utilization_terms as select * from ({TERMS_SQL}) t where {where}",
            [snap.as_of, *params],
        )
        return cur.sql(BY_TERM_SQL).to_arrow_table()
    finally:
        cur.close()


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
    authorized_contacts (authorized on the last counted day), authorized_contacts_peak and
    authorized_contacts_peak_date (the most held on one local day of the term so far, first
    such day), authorized_contacts_allotted; cases, cases_sev1..3 (submitted
    severity), channel_phone/email/web/chat/other (channel compared case-insensitively;
    a missing channel is other), phone_cases, phone_support, phone_without_entitlement,
    non_authorized_cases; pace (percentage points, NaN when nothing is entitled).
    A package missing from the catalogue is entitled to nothing.
    """
    snap.derive("utilization_all_terms", lambda: _all_terms(snap))
    where, params = _term_condition(snap, filters)
    sql = f"select * from utilization_all_terms t where {where} order by t.account_id, t.term_start"
    return snap.query(sql, params).to_pandas()


@metric(
    MetricDefinition(
        "authorized_contacts_designated",
        "Authorized contacts held (peak)",
        "contacts of the account with authorized = true, each valid from authorized_from to authorized_to "
        "(local dates, inclusive, open-ended if empty)",
        "the most contacts authorized on any one local day from the term's start to its last day or, for the "
        "running term, to the as-of local date (with the first day that peak was held)",
        "the package's authorized_contacts allotment",
        None,
        "Over allotment when the peak > allotted in the current term, so trimming the list before the term "
        "ends does not hide months of over-allotment; over_by = peak - allotted. The contacts authorized on "
        "the last counted day are shown beside it as authorized_contacts.",
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def contacts_over_allotment(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Accounts whose current term held more authorized contacts at some point than the package allots.

    Most over first. The peak is `utilization_by_term`'s authorized_contacts_peak: the most
    contacts authorized on any one local day of the term so far (a contact replaced mid-term
    does not overlap its successor, so a replacement is not over-allotment).
    """
    terms = utilization_by_term(snap, filters)
    over = terms[terms["current"] & (terms["authorized_contacts_peak"] > terms["authorized_contacts_allotted"])]
    frame = over.rename(columns={"authorized_contacts_allotted": "allotted"}).assign(
        over_by=lambda f: f["authorized_contacts_peak"] - f["allotted"]
    )
    return frame.sort_values(["over_by", "account_id"], ascending=[False, True])[CONTACT_COLUMNS].reset_index(drop=True)


def usage_band(used_share: float, forecast_share: float, elapsed_share: float) -> str:
    """The band of one entitled kind of one term (BAND_RULE).

    'used more than entitled' when used_share > 1 (a fact); before a quarter of the term has
    elapsed anything else is 'on pace' (a slow or quick start says little); after it,
    'trending over' when the forecast is at least 110 % of the entitlement and 'under' below
    50 %; otherwise 'on pace'. NaN used_share (nothing entitled) gives 'no entitlement'.
    E.g. 1 of 3 days used 15.6 % into the term: forecast 213 %, but 'on pace'.
    """
    if math.isnan(used_share):
        return "no entitlement"
    if round(used_share, 9) > 1:
        return EXCEEDED
    if elapsed_share < MIN_ELAPSED:
        return "on pace"
    share = round(forecast_share, 9)  # 11 / 10 is exactly "10 % over", not 1.0999999...
    if share >= OVER_FACTOR:
        return TRENDING_OVER
    if share < UNDER_FACTOR:
        return "under"
    return "on pace"


def _account_band(bands: list[str]) -> tuple[str, int | None]:
    """The account's band and the index (in USAGE_KINDS) of the kind that gives it (service days first)."""
    for band in BAND_PRIORITY:
        if band in bands:
            return band, bands.index(band)
    return "no entitlement", None


@metric(
    MetricDefinition(
        "usage_band",
        "Usage band",
        "accounts' current terms",
        "per entitled kind: used and forecast use at term end",
        "the kind's entitlement",
        None,
        BAND_RULE,
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def utilization_ranking(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """The portfolio of current terms, one row per account, most over-using first, most under-using last.

    Columns of `utilization_by_term` plus, per kind in USAGE_KINDS, `<kind>_band`
    (`usage_band` of that kind, 'no entitlement' when the package entitles none), and
    `usage_band` (the account's: BAND_RULE), `usage_basis` (the kind whose band it is,
    service days first when both are in it; None without entitlement), `used_share` and
    `forecast_share` (used and forecast at term end over the entitlement, of that kind).

    Sorted by band in BANDS order (used more than entitled, trending over, on pace, no
    entitlement, under), then by forecast_share descending and account_id.
    """
    terms = utilization_by_term(snap, filters)
    frame = terms[terms["current"]].copy()
    shares = {}
    for kind in USAGE_KINDS:
        entitled = frame[f"{kind}_entitled"].where(frame[f"{kind}_entitled"] > 0)
        used = (frame[f"{kind}_used"] / entitled).astype("float64")
        forecast = (frame[f"{kind}_forecast"] / entitled).astype("float64")
        shares[kind] = (used, forecast)
        frame[f"{kind}_band"] = [
            usage_band(u, f, e) for u, f, e in zip(used, forecast, frame["elapsed_share"], strict=True)
        ]
    # plain columns zipped, not iterrows / iloc: 5,000 accounts take milliseconds, not half a second
    bands_per_kind = [frame[f"{kind}_band"] for kind in USAGE_KINDS]
    picked = [_account_band(list(bands)) for bands in zip(*bands_per_kind, strict=True)]
    frame["usage_band"] = [band for band, _ in picked]
    frame["usage_basis"] = pd.Series([USAGE_KINDS[i] if i is not None else None for _, i in picked],
                                     index=frame.index, dtype="object")
    arrays = {kind: (used.to_numpy(), forecast.to_numpy()) for kind, (used, forecast) in shares.items()}
    for column, part in (("used_share", 0), ("forecast_share", 1)):
        values = [arrays[USAGE_KINDS[i]][part][n] if i is not None else math.nan for n, (_, i) in enumerate(picked)]
        frame[column] = pd.Series(values, index=frame.index, dtype="float64")
    frame["band_order"] = frame["usage_band"].map(BANDS.index)
    frame = frame.sort_values(
        ["band_order", "forecast_share", "account_id"], ascending=[True, False, True], na_position="last"
    )
    return frame.drop(columns="band_order").reset_index(drop=True)


@metric(
    MetricDefinition(
        "usage_band_counts",
        "Accounts per usage band",
        "accounts' current terms (one per account)",
        "accounts whose usage band (BAND_RULE) is each band",
        None,
        None,
        "Tiles: 'used more than entitled' (a fact) apart from 'trending over' (a forecast) and 'under'. "
        + BAND_RULE,
    ),
    period_by="term_start / term_end (terms overlapping the period)",
)
def usage_band_counts(snap: Snapshot, filters: Filters = Filters()) -> dict[str, int]:
    """Accounts per usage band of `utilization_ranking`, every band of BANDS present (0 when none), plus 'accounts'."""
    ranking = utilization_ranking(snap, filters)
    counts = {band: int((ranking["usage_band"] == band).sum()) for band in BANDS}
    return {"accounts": len(ranking), **counts}
