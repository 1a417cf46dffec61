"""The workspace: what people write beside the data (weekly update drafts and the updates sent).

Owns a small SQLite database beside each analytical store (`workspace_path`), never inside
it: a load replaces the store wholesale, and human input must survive every load. Imports
only the shared helpers and the standard library (its layer sits just above storage), never
Streamlit; nothing here reads the clock: every instant is passed in.
"""

from metrics.workspace.updates import (
    Draft,
    SentUpdate,
    StaleDraftError,
    Workspace,
    backup_workspace,
    workspace_path,
)

__all__ = ["Draft", "SentUpdate", "StaleDraftError", "Workspace", "backup_workspace", "workspace_path"]
