"""A consistent copy of a store and of the workspace beside it, while the dashboard serves.

The store is never written in place (a load publishes a new file by rename), so the file
opened at the start of the copy is one whole version to its end. The workspace is live
(people save drafts), so it is copied with SQLite's online backup, never byte by byte.
Each copy is written beside its target and renamed into place: an interrupted backup
leaves the previous copy whole.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from metrics.errors import LoadError
from metrics.storage.store import check_store_path
from metrics.workspace import backup_workspace, workspace_path


def backup_store(store: Path, out: Path) -> list[Path]:
    """Copy `store` and its workspace (when one exists) into the folder `out`; the paths written."""
    check_store_path(store)
    if not store.is_file():
        raise LoadError(f"{store.name}: no such store to back up")
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() == store.parent.resolve():
        raise LoadError("--out must be another folder than the store's own")
    written = []
    target = out / store.name
    partial = target.with_name(target.name + ".partial")
    with store.open("rb") as source, partial.open("wb") as copy:  # this version, even if a load publishes now
        shutil.copyfileobj(source, copy, 1 << 20)
        copy.flush()
        os.fsync(copy.fileno())
    os.replace(partial, target)
    written.append(target)
    workspace = workspace_path(store)
    workspace_target = out / workspace.name
    partial = workspace_target.with_name(workspace_target.name + ".partial")
    partial.unlink(missing_ok=True)
    if backup_workspace(workspace, partial):
        os.replace(partial, workspace_target)
        written.append(workspace_target)
    return written
