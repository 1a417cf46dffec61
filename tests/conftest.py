"""Shared fixtures: datasets written from inline text, and fresh DuckDB stores."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# A minimal valid dataset; tests override one file at a time to show one rule.
BASE_FILES = {
    "accounts.csv": """
        account_id,name,region,advisor
        A1,Acme,americas,Ann
        A2,Beta,japan,
    """,
    "subscriptions.csv": """
        account_id,package,start_date,end_date
        A1,Gold,2026-01-01,2026-12-31
        A2,Silver,2026-01-01,2026-12-31
    """,
    "cases.csv": """
        case_id,account_id,opened_at,severity,closed_at
        C1,A1,2026-03-06T23:00:00Z,2,
        C2,A2,2026-03-10T01:00:00Z,3,2026-03-11T00:00:00Z
    """,
    "responses.csv": """
        case_id,at,author_type,public
        C1,2026-03-09T18:30:00Z,agent,true
        C2,2026-03-10T02:00:00Z,agent,
    """,
}


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """Write BASE_FILES overridden by keyword (file name -> text, or None to omit) into a folder."""
    counter = iter(range(1000))

    def make(files: dict[str, str | None] | None = None, **named: str | None) -> Path:
        folder = tmp_path / f"dataset{next(counter)}"
        folder.mkdir()
        merged: dict[str, str | None] = {**BASE_FILES, **(files or {}), **{k.replace("__", "."): v for k, v in named.items()}}
        for name, text in merged.items():
            if text is not None:
                (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
        return folder

    return make


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
