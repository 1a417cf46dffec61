"""App fixtures: a store built from the bundled sample once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.storage.ingest import ensure_store
from metrics.storage.store import DB_ENV


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_store(tmp_path_factory.mktemp("app") / "sample.duckdb")


@pytest.fixture
def app_env(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the dashboard at the session's sample store."""
    monkeypatch.setenv(DB_ENV, str(sample_db))
    yield sample_db
