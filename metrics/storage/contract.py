"""The data contract: which tables a dataset holds, their columns, types and keys.

One declaration drives the loader's parsing and validation, the store's schema and the
documentation, so a column added here is read, checked and stored everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds and the DuckDB type each is stored as.
STORED_TYPE = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "bool": "BOOLEAN",
    "severity": "TINYINT",
    "number": "DOUBLE",
    "author_type": "VARCHAR",
    "field": "VARCHAR",
}

EXPECTED = {
    "text": "text",
    "timestamp": "an ISO 8601 timestamp with an offset, e.g. 2026-03-09T14:05:00Z",
    "date": "a date YYYY-MM-DD",
    "bool": "true or false",
    "severity": "a severity 1, 2 or 3",
    "number": "a number >= 0",
    "author_type": "'agent' or 'customer'",
    "field": "'severity', 'status' or 'escalation'",
}

FORMATS = (".csv", ".parquet", ".jsonl")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    default: str | None = None  # SQL literal stored when the value is empty


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # re-loading a row with the same key replaces it
    # Tables whose rows carry their file line, because file order decides ties.
    keep_line: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _cols(spec: str) -> tuple[Column, ...]:
    """'case_id* text, public bool = true' -> Columns (* marks a required column, = a default)."""
    out = []
    for part in spec.split(","):
        name, kind, *default = part.split("=")[0].split() + part.split("=")[1:]
        out.append(
            Column(name.rstrip("*"), kind, required=name.endswith("*"), default=default[0].strip() if default else None)
        )
    return tuple(out)


TABLES: tuple[Table, ...] = (
    Table("accounts", True, _cols("account_id* text, name* text, region* text, advisor text"), ("account_id",)),
    Table(
        "subscriptions",
        True,
        _cols("account_id* text, package* text, start_date* date, end_date* date"),
        ("account_id", "start_date"),
    ),
    Table(
        "cases",
        True,
        _cols(
            "case_id* text, account_id* text, opened_at* timestamp, severity* severity, contact_id text,"
            " channel text, subject text, product_area text, owner text, closed_at timestamp,"
            " development_ticket bool"
        ),
        ("case_id",),
    ),
    Table(
        "responses",
        True,
        _cols(
            "case_id* text, at* timestamp, author_type* author_type, response_id text, author text,"
            " channel text, public bool = true"
        ),
        # response_id when given, else (case_id, at, author_type); see ingest.py
        ("case_id", "at", "author_type"),
    ),
    Table(
        "case_changes",
        False,
        _cols("case_id* text, at* timestamp, field* field, value* text"),
        ("case_id", "at", "field", "value"),
        keep_line=True,
    ),
    Table(
        "contacts",
        False,
        _cols(
            "contact_id* text, account_id* text, name text, email text, authorized* bool,"
            " authorized_from date, authorized_to date"
        ),
        ("contact_id",),
    ),
    Table(
        "standing",
        False,
        _cols("account_id* text, suspended_from* timestamp, suspended_to timestamp"),
        ("account_id", "suspended_from"),
    ),
    Table(
        "engagements",
        False,
        _cols("account_id* text, date* date, kind* text, quantity number = 1, note text"),
        ("account_id", "date", "kind", "note"),
    ),
)

BY_NAME = {t.name: t for t in TABLES}
STATUSES = ("open", "pending_customer", "closed")
