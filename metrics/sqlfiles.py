"""SQL kept in `.sql` files beside the code that runs it, and how values reach it.

Every layer keeps its statements in a `sql/` folder next to its modules and reads them
with `read`. Values are bound as parameters (`bind` keeps only the named ones a
statement uses, since DuckDB refuses the others; `named` turns a filter's `?` markers
into names); `literal` quotes the few values DuckDB cannot take as parameters (file
paths in COPY, ATTACH and read_*, fixed texts inside generated SQL).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def read(module_file: str, name: str) -> str:
    """The text of `sql/<name>` beside the module whose `__file__` is `module_file`, without a final `;`."""
    return (Path(module_file).with_name("sql") / name).read_text().strip().rstrip(";")


def statements(text: str) -> list[str]:
    """The statements of a multi-statement SQL text (split at a `;` that ends a line)."""
    return [part.strip() for part in text.split(";\n") if part.strip()]


def bind(sql: str, values: Mapping[str, object]) -> dict[str, object]:
    """Only the named parameters (`$name`) that `sql` uses, with their values."""
    return {k: v for k, v in values.items() if f"${k}" in sql}


def named(condition: str, params: list[object], prefix: str) -> tuple[str, dict[str, object]]:
    """Turn a `Filters.where` fragment's `?` markers into named ones (`$f0`, `$f1`, ...).

    The .sql files bind their values by name, and DuckDB does not mix `?` with `$name`.
    Filter fragments hold no literal `?` (values are always bound), so splitting is safe.
    """
    pieces = condition.split("?")
    if len(pieces) - 1 != len(params):
        raise ValueError("filter condition and parameters disagree")
    out = pieces[0]
    values: dict[str, object] = {}
    for i, (value, rest) in enumerate(zip(params, pieces[1:], strict=True)):
        out += f"${prefix}{i}{rest}"
        values[f"{prefix}{i}"] = value
    return out, values


def literal(text: str) -> str:
    """`text` as a SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"
