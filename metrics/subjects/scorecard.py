"""The promise scorecard: each feature an account's package promises, kept, at risk or missed, and why.

One row per account and feature of the package in force at the period's end (the account's
last term overlapping the period): every measured row reads its numbers from the metric that
owns them (attainment from `attainment_table`, entitlements from `utilization_by_term` and
its `usage_band`, development tickets from `development_tickets`, weekly updates from
`weekly_delivery`, governance reviews from `governance_reviews` here) and judges them by the
rules below (SCORECARD_RULES); a feature the data cannot measure is listed as "not measured"
with the reason, never left out.

Statuses: kept, at risk, missed; "nothing to judge" when the period holds nothing to judge
the promise by (no response target decided, no development ticket raised); "not measured"
when the data cannot tell.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from metrics.engine.snapshot import Snapshot
from metrics.storage.config import PackageSpec
from metrics.subjects.attainment import attainment_table
from metrics.subjects.buckets import last_local_day, period_first_day, period_last_day
from metrics.subjects.filters import Filters
from metrics.subjects.governance import tickets_per_account
from metrics.subjects.registry import MetricDefinition, metric
from metrics.subjects.utilization import UNDER_FACTOR, usage_band, utilization_by_term
from metrics.subjects.weekly_delivery import weekly_delivery
from metrics.workspace import Workspace

KEPT, AT_RISK, MISSED, NOTHING, NOT_MEASURED = "kept", "at risk", "missed", "nothing to judge", "not measured"
STATUSES = (KEPT, AT_RISK, MISSED, NOTHING, NOT_MEASURED)

# Thresholds (docs/metrics.md "Promise scorecard").
DEFAULT_TARGET_ATTAINMENT = 0.95  # a package without `target_attainment` means to meet 95 % of its targets
AT_RISK_MARGIN = 0.05  # attainment less than 5 points under the target is at risk, further under missed
DEV_TICKET_AT_RISK_DAYS = 30  # an open prioritized development ticket older than this is at risk ...
DEV_TICKET_MISSED_DAYS = 90  # ... and older than this missed
REVIEWS_PER_QUARTER = 1  # governance strategy: at least one governance review a quarter
GOVERNANCE_REVIEW = "governance_review"  # the engagements' kind of a governance review
ENGAGEMENTS_SQL = "select count(*) as n from engagements"
# A dataset without a single engagement (a help desk's export) cannot tell delivered from not recorded.
NO_ENGAGEMENTS = (
    "Not measured: the data records no engagements at all, so nothing delivered cannot be told from nothing recorded."
)

SCORECARD_RULES = (
    f"Response targets: kept when attainment >= the package's target_attainment (default "
    f"{DEFAULT_TARGET_ATTAINMENT:.0%}), at risk within {AT_RISK_MARGIN * 100:.0f} points under it, missed "
    "further under; nothing to judge without a met or breached target. Service days and private training "
    "sessions: a running term is at risk when its usage band is 'under' (forecast below "
    f"{UNDER_FACTOR:.0%} of the entitlement once a quarter of the term has elapsed), else kept; an ended term "
    "is kept when delivered >= entitled, else missed. Authorized contacts: kept when the peak held in the "
    "term <= allotted, at risk when it was over but is within the allotment now, missed when over now. "
    "Phone support (packages without it): kept with no phone case in the term, at risk with any. "
    f"Governance strategy: at least {REVIEWS_PER_QUARTER} review per quarter; missed when a quarter of "
    "the period has ended without one, at risk when the running quarter has none yet, else kept. "
    f"Prioritized development tickets: kept when none raised in the period is open after "
    f"{DEV_TICKET_AT_RISK_DAYS} days, at risk when the oldest open one is older, missed past "
    f"{DEV_TICKET_MISSED_DAYS} days; nothing to judge when none was raised. Weekly updates: kept when every "
    "update owed is sent on time (by the Monday after its week), at risk when all are sent but some late or "
    "the last owed one is not sent yet, missed when an earlier one was never sent; not measured without a "
    "workspace. Named advisor: kept when the account names one, else missed. Service days, training "
    "sessions and governance reviews are not measured when the data records no engagement at all (an import "
    "from a help desk)."
)

# Features of the catalogue the data cannot measure, and why (the scorecard lists them as such).
NOT_MEASURED_WHY: dict[str, str] = {
    "knowledge_base": "self-service access is not in the case or engagement data",
    "community": "self-service access is not in the case or engagement data",
    "elearning_library": "self-service access is not in the case or engagement data",
    "certifications": "certifications are not in the data",
    "public_virtual_courses": "course attendance is not in the data",
    "senior_advisor_cases": "cases name their owner, not the owner's seniority",
    "proactive_planning": "planning is not recorded as an engagement kind of its own",
    "active_tickets": "the delivery of active-ticket reports is not recorded",
    "utilization_metrics": "the delivery of utilization reports is not recorded",
    "direct_instance_access": "access grants are not in the data",
    "dedicated_phone_line": "calls are not in the data, only cases opened by phone",
    "beta_access": "beta enrolment is not in the data",
}
UNKNOWN_WHY = "no data source for this feature is defined"

PROMISES: dict[str, str] = {  # feature -> the promise in words, in the scorecard's order
    "response_targets": "response targets",
    "weekly_updates": "weekly updates",
    "service_days": "service days",
    "private_virtual_training": "private training sessions",
    "authorized_contacts": "authorized contacts",
    "phone_support": "phone support",
    "governance_strategy": "governance strategy",
    "prioritized_development_tickets": "prioritized development tickets",
    "named_advisor": "named advisor",
}

COLUMNS = [
    "account_id", "account_name", "advisor", "package", "feature", "promise", "status", "measured", "promised",
    "evidence", "term_start", "term_end",
]
REVIEW_COLUMNS = ["account_id", "quarter", "reviews", "first_review_date", "last_review_date"]


def _definition(name: str, label: str, counts: str, numerator: str, notes: str) -> MetricDefinition:
    return MetricDefinition(name, label, counts, numerator, None, None, notes)


@metric(
    MetricDefinition(
        "governance_reviews",
        "Governance reviews held",
        f"engagements of kind {GOVERNANCE_REVIEW} (by quantity, default 1)",
        "reviews dated in each calendar quarter that overlaps the period, up to the as-of local date",
        None,
        "date",
        "Whole quarters: Aug 30..Nov 28 counts Q3's reviews from Jul 1 and Q4's up to the as-of. An open "
        "period starts with the as-of's quarter.",
    ),
    period_by="date (the quarters overlapping the period)",
)
def governance_reviews(snap: Snapshot, filters: Filters = Filters()) -> pd.DataFrame:
    """Governance reviews per account and calendar quarter overlapping the period (quarters without one absent).

    Columns: account_id, quarter ('2026-Q3'), reviews, first_review_date, last_review_date.
    The account filters apply (region, advisor, account); severity and package do not.
    """
    first, last = _review_span(snap, filters)
    where, params = dataclasses.replace(filters, packages=(), severities=(), start=None, end=None).where("a")
    if snap.accounts is not None:
        where += " and list_contains(?, a.account_id)"
        params.append(list(snap.accounts))
    sql = f"""
        select e.account_id, strftime(e.date, '%Y') || '-Q' || quarter(e.date) as quarter,
               sum(coalesce(e.quantity, 1)) as reviews, min(e.date) as first_review_date,
               max(e.date) as last_review_date
        from engagements e join accounts a using (account_id)
        where lower(trim(e.kind)) = ? and e.date between ? and ? and {where}
        group by all order by all
    """
    frame = snap.query(sql, [GOVERNANCE_REVIEW, first, last, *params]).to_pandas()
    frame["reviews"] = frame["reviews"].astype("float64")
    return frame[REVIEW_COLUMNS]


def _review_span(snap: Snapshot, filters: Filters) -> tuple[dt.date, dt.date]:
    """From the first day of the period's first quarter to its end, at most the as-of local date."""
    today = last_local_day(snap.as_of, snap.reporting_timezone)
    start = filters.start or today
    end = min(filters.end, today) if filters.end else today
    return period_first_day(_quarter(start), "quarter"), end


def _quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarters(first: dt.date, last: dt.date) -> list[str]:
    """The quarter labels from the one holding `first` to the one holding `last`."""
    labels: list[str] = []
    day = period_first_day(_quarter(first), "quarter")
    while day <= last:
        labels.append(_quarter(day))
        day = period_last_day(labels[-1], "quarter") + dt.timedelta(days=1)
    return labels


@metric(
    MetricDefinition(
        "promise_scorecard",
        "Promise scorecard",
        "accounts with a term overlapping the period, one row per feature of the package in force at the "
        "period's end (its last such term)",
        "per feature: kept, at risk, missed, nothing to judge or not measured, with the numbers as evidence",
        None,
        "per feature: the period (attainment by start_at, development tickets by opened_at, weekly updates "
        "by week, governance reviews by quarter); entitlements for the term as of the as-of",
        SCORECARD_RULES,
    ),
    _definition("scorecard_response_targets", "Scorecard: response targets", "accounts whose package has targets",
                "the account's attainment in the period under the package (attainment_table)",
                "Kept at or above the package's target_attainment (default 95 %), at risk within 5 points under, "
                "missed further under."),
    _definition("scorecard_entitlements", "Scorecard: service days and private training sessions",
                "accounts whose package entitles them", "used and entitled in the term, usage band (usage_band)",
                "A running term is at risk when its band is 'under', else kept; an ended term is kept when "
                "delivered >= entitled, else missed."),
    _definition("scorecard_authorized_contacts", "Scorecard: authorized contacts", "accounts",
                "peak contacts held in the term and those held now, against the allotment",
                "Kept when the peak <= allotted; at risk when it was over but is within now; missed when over now."),
    _definition("scorecard_phone_support", "Scorecard: phone cases without entitlement",
                "accounts whose package has no phone support", "phone cases in the term (phone_without_entitlement)",
                "Kept with none, at risk with any; a package with phone support is not measured (calls are not in "
                "the data)."),
    _definition("scorecard_governance_strategy", "Scorecard: governance reviews per quarter",
                "accounts whose package promises a governance strategy",
                f"governance reviews per quarter of the period (governance_reviews), at least {REVIEWS_PER_QUARTER}",
                "Missed when a quarter of the period ended without one, at risk while the running quarter has "
                "none, else kept."),
    _definition("scorecard_development_tickets", "Scorecard: prioritized development tickets",
                "accounts whose package promises prioritized development tickets",
                "development tickets raised in the period (development_tickets), open ones and the oldest open "
                "one's age in days at the as-of",
                f"Kept when no open one is older than {DEV_TICKET_AT_RISK_DAYS} days, at risk up to "
                f"{DEV_TICKET_MISSED_DAYS}, missed beyond."),
    _definition("scorecard_weekly_updates", "Scorecard: weekly updates sent / owed",
                "accounts whose package promises weekly updates",
                "account-weeks owed in the period and those sent, on time by the Monday after the week "
                "(weekly_delivery)",
                "Kept when all are sent on time; at risk when all are sent but some late, or only the last owed "
                "is unsent; missed when an earlier one was never sent; not measured without a workspace."),
    period_by="per feature (see promise_scorecard)",
)
def promise_scorecard(
    snap: Snapshot, filters: Filters = Filters(), workspace: Workspace | None = None
) -> pd.DataFrame:
    """One row per account in view and feature its package promises: status and evidence.

    Columns: COLUMNS (account_id, account_name, advisor, package, feature, promise, status,
    measured, promised, evidence, term_start, term_end), accounts by id, features in
    PROMISES order then the package's unmeasured features in its own order. `workspace`
    (the weekly-update workflow's store of sent updates) is passed on to `weekly_delivery`;
    without it the weekly-updates row is not measured. Severity filters apply to attainment and
    development tickets only (`with_severities`).
    """
    account_filters = dataclasses.replace(filters, severities=())
    terms = utilization_by_term(snap, account_filters)
    if terms.empty:
        return pd.DataFrame(columns=COLUMNS)
    terms = terms.sort_values(["account_id", "term_start"]).groupby("account_id", as_index=False).tail(1)
    context = _Context(snap, filters, terms, workspace)
    rows: list[dict[str, Any]] = []
    for term in terms.to_dict("records"):
        package = _terms_of(snap, term["package"], term["term_start"], term["account_id"])
        if package is None:  # a package missing from the catalogue promises nothing measurable
            continue
        for feature, judge in _measured(package):
            status, measured, promised, evidence = judge(context, term, package)
            rows.append(_row(term, feature, PROMISES[feature], status, measured, promised, evidence))
        for feature in package.features:
            if feature not in PROMISES:
                why = NOT_MEASURED_WHY.get(feature, UNKNOWN_WHY)
                promise = feature.replace("_", " ")
                rows.append(_row(term, feature, promise, NOT_MEASURED, "", "", f"Not measured: {why}."))
    return pd.DataFrame(rows, columns=COLUMNS).reset_index(drop=True)


def with_severities(snap: Snapshot, card: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """`card` (the scorecard of `filters` without severities) as `promise_scorecard(snap, filters)` gives it.

    A severity filter changes two promises only: attainment (of the obligations of those
    severities) and development tickets (of the cases at those severities). Only their rows
    are judged again, so a severity change on a page costs two small queries, not the card.
    Returns `card` itself when no severity is chosen.
    """
    if not filters.severities or card.empty:
        return card
    rows = card.index[card["feature"].isin(list(SEVERITY_JUDGES))]
    if rows.empty:
        return card
    terms = card[["account_id"]].drop_duplicates()
    context = _Context(snap, filters, terms, None)
    judged = []
    for account, package, start, feature in card.loc[rows, ["account_id", "package", "term_start", "feature"]
                                                     ].itertuples(index=False):
        spec = _terms_of(snap, package, start, account)
        assert spec is not None  # the card judged this row under it
        judged.append(SEVERITY_JUDGES[feature](context, {"account_id": account, "package": package}, spec))
    out = card.copy()
    for position, column in enumerate(("status", "measured", "promised", "evidence")):
        out.loc[rows, column] = [judgement[position] for judgement in judged]
    return out


def _terms_of(snap: Snapshot, package: str, term_start: Any, account_id: str) -> PackageSpec | None:
    """What a term promises: its package's definition in force on the term's first local date.

    For the term's account, versions and overrides included, as its entitlements are read;
    None for a package the catalogue lacks.
    """
    if package not in snap.config.packages:
        return None
    return snap.config.terms_in_force(package, pd.Timestamp(term_start).date(), account_id).spec


def _row(term: dict[str, Any], feature: str, promise: str, status: str, measured: str, promised: str,
         evidence: str) -> dict[str, Any]:
    return {
        "account_id": term["account_id"], "account_name": term["account_name"], "advisor": term["advisor"],
        "package": term["package"], "term_start": term["term_start"], "term_end": term["term_end"],
        "feature": feature, "promise": promise, "status": status, "measured": measured, "promised": promised,
        "evidence": evidence,
    }


@dataclasses.dataclass
class _Context:
    """What the judges share: the snapshot, the filters and each metric's frame, computed once for all accounts."""

    snap: Snapshot
    filters: Filters
    terms: pd.DataFrame
    workspace: Workspace | None
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def accounts_filters(self) -> Filters:
        return dataclasses.replace(self.filters, accounts=tuple(self.terms["account_id"]))

    def once(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def of_account(self, name: str, build: Callable[[], pd.DataFrame], term: dict[str, Any]) -> pd.DataFrame:
        """The rows of `term`'s account in a metric's frame, the frame built and split by account once."""
        def split() -> tuple[pd.DataFrame, dict[Any, pd.DataFrame]]:
            frame = build()
            return frame.iloc[0:0], {key: rows for key, rows in frame.groupby("account_id", sort=False)}

        empty, by_account = self.once(f"{name} by account", split)
        return by_account.get(term["account_id"], empty)

    def records_of(self, name: str, build: Callable[[], pd.DataFrame], term: dict[str, Any]) -> list[dict[str, Any]]:
        """`of_account` as plain rows: a judge that only reads a few rows per account pays no frame per call."""
        def split() -> dict[Any, list[dict[str, Any]]]:
            by_account: dict[Any, list[dict[str, Any]]] = {}
            for row in build().to_dict("records"):
                by_account.setdefault(row["account_id"], []).append(row)
            return by_account

        return list(self.once(f"{name} records by account", split).get(term["account_id"], []))

    @property
    def engagements_recorded(self) -> bool:
        """Whether the data records any engagement at all (an import from a help desk holds none)."""
        return bool(self.once("engagements", lambda: self.snap.query(ENGAGEMENTS_SQL).column("n")[0].as_py()))

    @property
    def today(self) -> dt.date:
        return last_local_day(self.snap.as_of, self.snap.reporting_timezone)


Judgement = tuple[str, str, str, str]  # status, measured, promised, evidence
Judge = Callable[[_Context, dict[str, Any], PackageSpec], Judgement]


def _measured(package: PackageSpec) -> list[tuple[str, Judge]]:
    """The measured features `package` promises, in PROMISES order."""
    features = set(package.features)
    chosen: list[tuple[str, Judge]] = []
    if package.targeted:
        chosen.append(("response_targets", _response_targets))
    if "weekly_updates" in features:
        chosen.append(("weekly_updates", _weekly_updates))
    if "service_days" in features or package.service_days > 0:
        chosen.append(("service_days", _entitlement("service_days", "service days")))
    if "private_virtual_training" in features or package.training_sessions > 0:
        chosen.append(("private_virtual_training", _entitlement("training_sessions", "training sessions")))
    chosen += [("authorized_contacts", _contacts), ("phone_support", _phone)]
    if "governance_strategy" in features:
        chosen.append(("governance_strategy", _governance))
    if "prioritized_development_tickets" in features:
        chosen.append(("prioritized_development_tickets", _development_tickets))
    if "named_advisor" in features:
        chosen.append(("named_advisor", _named_advisor))
    return chosen


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def _n(value: float) -> str:
    """A count of units: 3 -> '3', 2.5 -> '2.5'."""
    return f"{value:,.0f}" if math.isclose(value, round(value)) else f"{value:,.1f}"


def _response_targets(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    rows = ctx.records_of(
        "attainment", lambda: attainment_table(ctx.snap, ("account_id", "package"), ctx.accounts_filters), term
    )
    mine = [row for row in rows if row["package"] == term["package"]]  # one row: the metric's grouping
    target = package.target_attainment or DEFAULT_TARGET_ATTAINMENT
    promised = f"{_pct(target)} met"
    met, breached = sum(int(r["met"]) for r in mine), sum(int(r["breached"]) for r in mine)
    pending = sum(int(r["pending"]) for r in mine)
    running = f"; {pending:,} still running" if pending else ""
    if met + breached == 0:
        evidence = f"No response target under {term['package']} was met or missed in the period{running}."
        return NOTHING, "", promised, evidence
    attainment = float(mine[0]["attainment"])  # the metric's own ratio
    gap = round(attainment - target, 9)  # 0.90 - 0.95 is exactly 5 points under, not 5.000000001
    status = KEPT if gap >= 0 else AT_RISK if gap >= -AT_RISK_MARGIN else MISSED
    evidence = (f"{met:,} of {met + breached:,} response targets met ({_pct(attainment)}) against "
                f"{_pct(target)}{running}.")
    return status, _pct(attainment), promised, evidence


def _entitlement(kind: str, words: str) -> Judge:
    def judge(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
        used, entitled = float(term[f"{kind}_used"]), float(term[f"{kind}_entitled"])
        elapsed = float(term["elapsed_share"])
        measured, promised = f"{_n(used)} of {_n(entitled)}", f"{_n(entitled)} per term"
        if entitled <= 0:
            return NOTHING, measured, promised, f"The package lists the feature but entitles no {words}."
        if not ctx.engagements_recorded:
            return NOT_MEASURED, "", promised, NO_ENGAGEMENTS
        if int(term["elapsed_days"]) >= int(term["term_days"]):  # the term is over (utilization's elapsed days)
            status = KEPT if used >= entitled else MISSED
            return status, measured, promised, (
                f"{_n(used)} of {_n(entitled)} {words} delivered in the term that ended {term['term_end']}.")
        band = usage_band(used / entitled, float(term[f"{kind}_forecast"]) / entitled, elapsed)
        status = AT_RISK if band == "under" else KEPT
        evidence = (f"{_n(used)} of {_n(entitled)} {words} delivered ({_pct(used / entitled)}) with {_pct(elapsed)} "
                    f"of the term elapsed; forecast {_n(float(term[f'{kind}_forecast']))} at term end ({band}).")
        return status, measured, promised, evidence

    return judge


def _contacts(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    peak, now = int(term["authorized_contacts_peak"]), int(term["authorized_contacts"])
    allotted = int(term["authorized_contacts_allotted"])
    measured, promised = f"{now} of {allotted}", f"up to {allotted}"
    if peak <= allotted:
        evidence = f"{now} authorized now, at most {peak} at once this term, of {allotted} allotted."
        return KEPT, measured, promised, evidence
    on = term["authorized_contacts_peak_date"]
    status = MISSED if now > allotted else AT_RISK
    return status, measured, promised, f"{peak} authorized at once from {on}, {now} now, of {allotted} allotted."


def _phone(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    phone = int(term["phone_cases"])
    if package.phone_support:
        return NOT_MEASURED, f"{phone:,} by phone", "phone support", (
            f"Not measured: calls are not in the data; {phone:,} of this term's cases came by phone.")
    without = int(term["phone_without_entitlement"])
    status = KEPT if without == 0 else AT_RISK
    return status, f"{without:,} by phone", "none (no phone support)", (
        f"{without:,} of this term's cases came by phone; {term['package']} has no phone support.")


def _governance(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    if not ctx.engagements_recorded:
        return NOT_MEASURED, "", f"{REVIEWS_PER_QUARTER} per quarter", NO_ENGAGEMENTS
    mine = ctx.of_account("reviews", lambda: governance_reviews(ctx.snap, ctx.accounts_filters), term)
    mine = mine.set_index("quarter")["reviews"]
    first, last = _review_span(ctx.snap, ctx.filters)
    first, last = max(first, term["term_start"]), min(last, term["term_end"])
    quarters = _quarters(first, last) if first <= last else []
    held = {q: float(mine.get(q, 0.0)) for q in quarters}
    ended = [q for q in quarters if period_last_day(q, "quarter") <= ctx.today]
    missing = [q for q in ended if held[q] < REVIEWS_PER_QUARTER]
    running = [q for q in quarters if q not in ended]
    late = [q for q in running if held[q] < REVIEWS_PER_QUARTER]
    status = MISSED if missing else AT_RISK if late else KEPT
    listed = ", ".join(f"{q} {_n(held[q])}" + (" (running)" if q in running else "") for q in quarters)
    total = sum(held.values())
    evidence = f"{_n(total)} governance reviews in {len(quarters)} quarters: {listed}." if quarters else (
        "No quarter of the period falls in the term.")
    if missing:
        evidence += f" None in {', '.join(missing)}."
    return status, f"{_n(total)} in {len(quarters)} quarters", f"{REVIEWS_PER_QUARTER} per quarter", evidence


def _development_tickets(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    raised, still_open, oldest = ctx.once("dev by account", lambda: _tickets_by_account(ctx)).get(
        term["account_id"], (0, 0, None))
    promised = f"none open over {DEV_TICKET_AT_RISK_DAYS} days"
    if not raised:
        return NOTHING, "0 raised", promised, "No prioritized development ticket was raised in the period."
    counts = f"{raised:,} raised, {still_open:,} open"
    if oldest is None:
        return KEPT, counts, promised, f"{raised:,} raised in the period, all closed."
    case_id, opened_at = oldest
    age = (pd.Timestamp(ctx.snap.as_of) - pd.Timestamp(opened_at)).total_seconds() / 86400
    status = KEPT if age <= DEV_TICKET_AT_RISK_DAYS else AT_RISK if age <= DEV_TICKET_MISSED_DAYS else MISSED
    days = f"{age:.0f} day" + ("" if f"{age:.0f}" == "1" else "s")
    evidence = (f"{raised:,} raised in the period, {still_open:,} still open; the oldest open "
                f"({case_id}) is {days} old.")
    return status, f"{counts}, oldest {days}", promised, evidence


def _tickets_by_account(ctx: _Context) -> dict[Any, tuple[int, int, tuple[Any, Any] | None]]:
    """Per account: tickets raised, still open, and the oldest open one (case_id, opened_at) or None.

    Counted in one query for every account (`tickets_per_account`), not ticket by ticket.
    """
    counted = tickets_per_account(ctx.snap, ctx.accounts_filters)
    return {
        account: (int(raised), int(still_open), None if pd.isna(case_id) else (case_id, opened_at))
        for account, raised, still_open, case_id, opened_at in counted[
            ["account_id", "raised", "still_open", "oldest_case_id", "oldest_opened_at"]].itertuples(index=False)
    }


def _named_advisor(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    advisor = term["advisor"]
    if isinstance(advisor, str) and advisor.strip():
        return KEPT, advisor, "a named advisor", f"{advisor} is the account's named advisor."
    return MISSED, "", "a named advisor", "The account names no advisor."


def _weekly_updates(ctx: _Context, term: dict[str, Any], package: PackageSpec) -> Judgement:
    delivery = ctx.of_account("delivery", lambda: weekly_delivery(ctx.snap, ctx.accounts_filters, ctx.workspace), term)
    mine = delivery.sort_values("week_start")
    owed = len(mine)
    if owed == 0:
        return NOTHING, "0 owed", "one a week", "No weekly update was owed in the period (no week of it has ended)."
    if ctx.workspace is None:
        return NOT_MEASURED, f"{owed:,} owed", "one a week", (
            f"Not measured: {owed:,} updates owed; no workspace records which were sent.")
    sent = mine["sent_at"].notna()
    on_time = int(mine["on_time"].sum())
    unsent = [f"{w:%Y-%m-%d}" for w, s in zip(mine["week_start"], sent, strict=True) if not s]
    measured = f"{int(sent.sum()):,} of {owed:,} sent"
    evidence = f"{int(sent.sum()):,} of {owed:,} updates owed sent, {on_time:,} on time (by the Monday after)."
    if unsent:
        evidence += f" Not sent: the weeks of {', '.join(unsent[:5])}" + (" and more." if len(unsent) > 5 else ".")
    last_week = mine["week_start"].iloc[-1]
    if not unsent:
        status = KEPT if on_time == owed else AT_RISK
    elif unsent == [f"{last_week:%Y-%m-%d}"]:
        status = AT_RISK  # only the latest week is still unsent: it may go out yet
    else:
        status = MISSED
    return status, measured, "one a week", evidence


# The judges whose promise a severity filter changes (see with_severities).
SEVERITY_JUDGES: dict[str, Judge] = {
    "response_targets": _response_targets,
    "prioritized_development_tickets": _development_tickets,
}
STATUS_ORDER = {MISSED: 0, AT_RISK: 1, NOTHING: 2, KEPT: 3, NOT_MEASURED: 4}  # what needs attention first
STATUS_COLUMNS = {s: s.replace(" ", "_") for s in STATUSES}  # "at risk" -> at_risk


def scorecard_by_feature(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard of many accounts in short: per promise, how many accounts keep it, and which do not.

    Columns: feature, promise, accounts, then one count per status (kept, at_risk, missed,
    nothing_to_judge, not_measured), and at_risk_accounts / missed_accounts (account names,
    comma-separated). The measured promises first in PROMISES order, then the unmeasured
    features in the order the packages list them.
    """
    columns = ["feature", "promise", "accounts", *STATUS_COLUMNS.values(), "at_risk_accounts", "missed_accounts"]
    if scorecard.empty:
        return pd.DataFrame(columns=columns)
    # counted in Python: a card is a few hundred rows, where crosstab and groupby cost ~10 ms a page
    features_of = scorecard["feature"].tolist()
    statuses = scorecard["status"].tolist()
    seen = list(dict.fromkeys(features_of))
    order = {f: (PROMISES_ORDER.get(f, len(PROMISES)), i) for i, f in enumerate(seen)}
    features = sorted(seen, key=order.__getitem__)
    accounts = Counter(features_of)
    counts = Counter(zip(features_of, statuses, strict=True))
    promise: dict[str, Any] = {}
    for feature, text in zip(features_of, scorecard["promise"].tolist(), strict=True):
        if feature not in promise and not pd.isna(text):  # the first promise text given (groupby's first)
            promise[feature] = text
    listed: dict[tuple[str, str], list[str]] = {}
    for feature, status, name in zip(features_of, statuses, scorecard["account_name"].astype(str), strict=True):
        if status in (AT_RISK, MISSED):
            listed.setdefault((feature, status), []).append(name)
    book = pd.DataFrame({"feature": features, "promise": [promise.get(f) for f in features],
                         "accounts": np.array([accounts[f] for f in features], dtype="int64")})
    for status in STATUSES:
        book[STATUS_COLUMNS[status]] = np.array([counts[(f, status)] for f in features], dtype="int64")
    for status in (AT_RISK, MISSED):
        book[f"{STATUS_COLUMNS[status]}_accounts"] = [", ".join(listed.get((f, status), [])) for f in features]
    return book[columns]


PROMISES_ORDER = {f: i for i, f in enumerate(PROMISES)}


def promise_accounts(scorecard: pd.DataFrame, feature: str) -> pd.DataFrame:
    """The scorecard's rows of one promise, missed first, then at risk, nothing to judge, kept, not measured."""
    rows = scorecard[scorecard["feature"] == feature]
    order = rows["status"].map(STATUS_ORDER)
    return rows.assign(_order=order).sort_values(["_order", "account_id"]).drop(columns="_order").reset_index(drop=True)


def promises_not_kept(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard's missed and at-risk rows, missed first, by account: what a meeting walks through."""
    rows = scorecard[scorecard["status"].isin([MISSED, AT_RISK])]
    order = rows["status"].map(STATUS_ORDER)
    return rows.assign(_order=order).sort_values(["_order", "account_id"]).drop(columns="_order").reset_index(drop=True)
