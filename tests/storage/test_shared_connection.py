"""The dashboard shares one DuckDB connection between sessions: storage reads on it must take a cursor.

A connection busy with one thread's call refuses another thread's (ResourceInUseException);
the load benchmark's 25 sessions met it in `stored_config`, asked by every new snapshot and
by the Data page. Many threads reading the configuration at once must all get it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect, stored_config


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_store(tmp_path_factory.mktemp("shared") / "sample.duckdb")


def test_many_threads_read_the_configuration_on_one_connection(sample: Path) -> None:
    con = connect(sample, read_only=True)
    try:
        expected = stored_config(con)
        with ThreadPoolExecutor(max_workers=16) as pool:
            configs = list(pool.map(lambda _: stored_config(con), range(800)))
    finally:
        con.close()
    assert all(config == expected for config in configs)
