"""After the process's first page, what it left alive is frozen out of the garbage collector's view."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

from metrics.storage.store import PROJECT_ROOT
from ui import state


def test_the_first_page_leaves_its_objects_frozen(app_env: Path) -> None:
    state.settle_memory.clear()  # as in a fresh process: nothing settled yet
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    assert not at.exception
    for thread in threading.enumerate():  # the settling and the Weekly update's snapshots, both after the page
        if thread.name in ("settle-memory", state.WEEKLY_THREAD):
            thread.join(timeout=120)
    assert gc.get_freeze_count() > 10_000  # the modules, plotly's validators, the stored run: far more than that
