"""Which dataset folders a shared server may load, and what of the server a user may see.

Every folder a user names is resolved under one data root and refused with one and the
same sentence otherwise, so the answer never tells which paths exist; messages shown to
a user carry no absolute path; stores made by loads are named safely and pruned.
Nothing here reads the clock: the moment a store is named for is passed in.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from metrics.errors import LoadError
from metrics.storage.contract import FORMATS, TABLES
from metrics.storage.store import PROJECT_ROOT, connect_published, remove_store

DATA_ROOT_ENV = "SUPPORT_ANALYTICS_DATA_ROOT"  # the only folder tree the Data page loads from
KEEP_STORES_ENV = "SUPPORT_ANALYTICS_KEEP_STORES"  # how many stores made by the Data page are kept
DEFAULT_DATA_ROOT = PROJECT_ROOT / "data"
DEFAULT_KEEP_STORES = 5

# One sentence for a folder outside the root, missing, or not a folder: none of them says which.
OUTSIDE_ROOT = "Choose a dataset folder under the data root, e.g. sample."
UPLOAD_NAME = "upload"  # what an upload's folder is called, in the loads table and store names
DEFAULT_DATASET = "sample"  # the name of the store the server serves by default (the address leaves it out)

# The file names a dataset may hold: one per table in any format, plus its config.
DATASET_FILES = frozenset({f"{t.name}{ext}" for t in TABLES for ext in FORMATS} | {"config.toml"})
ACCEPTED_FILES = (  # "accounts, ..., engagements, each .csv, .parquet or .jsonl, plus config.toml"
    f"{', '.join(t.name for t in TABLES)}, each {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, plus config.toml"
)

_STORE_NAME = re.compile(r"^[A-Za-z0-9_-]+-(\d{8}T\d{12})Z\.duckdb$")  # e.g. sample-20261205T101500123456Z.duckdb
# An absolute path inside a message: a "/" (or "~/") not glued to a word, then path characters,
# e.g. "found in /srv/data/acme/cases.csv, line 3" -> the path is "/srv/data/acme/cases.csv".
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~/\\-])~?/[^\s'\"`,;:()\[\]{}<>|]+")
_MAX_DEPTH = 3  # how deep under the root list_datasets looks, e.g. imports/bpic2013/incidents
_MAX_LISTED = 200  # a root holding a whole disk should not make the page crawl it


def data_root() -> Path:
    """The folder tree datasets load from: $SUPPORT_ANALYTICS_DATA_ROOT, else the project's data/."""
    return Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).expanduser().resolve()


def keep_stores() -> int:
    """How many Data-page stores to keep: $SUPPORT_ANALYTICS_KEEP_STORES (at least 1), else 5."""
    try:
        return max(1, int(os.environ.get(KEEP_STORES_ENV) or DEFAULT_KEEP_STORES))
    except ValueError:
        return DEFAULT_KEEP_STORES


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def resolve_dataset(text: str, root: Path) -> Path:
    """The dataset folder a user typed, resolved (symlinks too) and checked to lie under `root`.

    `text` is relative to the root (``sample``, ``imports/bpic2013``); an absolute path is
    accepted only when it lies under the root. A path outside the root, a missing path and
    a file all raise LoadError with the same sentence, so the answer reveals nothing.
    """
    roots = {root, root.resolve()}
    text = text.strip()
    if not text or "\0" in text:
        raise LoadError(OUTSIDE_ROOT)
    typed = Path(text)
    candidate = typed if typed.is_absolute() else root / typed
    # Lexically first, so "/etc" or "../../x" is refused without touching the file system.
    lexical = Path(os.path.normpath(candidate))
    if not any(_inside(lexical, r) and lexical != r for r in roots):
        raise LoadError(OUTSIDE_ROOT)
    try:
        folder = candidate.resolve(strict=False)  # then the symlinks: a link may point anywhere
        is_folder = folder.is_dir()
    except (OSError, RuntimeError, ValueError):  # a link loop, a name too long
        raise LoadError(OUTSIDE_ROOT) from None
    if not is_folder or not any(_inside(folder, r) and folder != r for r in roots):
        raise LoadError(OUTSIDE_ROOT)
    return folder


def check_files_inside(folder: Path, root: Path) -> None:
    """Refuse a dataset whose table files or config.toml are links that lead out of `root`.

    The message names the file only, never where its link points (nor whether that exists).
    """
    roots = {root, root.resolve()}
    for path in sorted(folder.iterdir()):
        if path.name not in DATASET_FILES:
            continue
        try:
            target = path.resolve(strict=False)
        except (OSError, RuntimeError):
            target = None
        if target is None or not any(_inside(target, r) for r in roots):
            raise LoadError(
                f"{path.name} links to a file outside the data root; copy the file into the dataset folder."
            )


def list_datasets(root: Path, max_depth: int = _MAX_DEPTH) -> list[str]:
    """Folders under `root` holding a cases file, as sorted relative names (``sample``, ``imports/x``).

    Looks at most `max_depth` levels down, skips hidden folders and folders or cases files
    whose links lead out of the root, and stops after a couple of hundred folders.
    """
    base = root.resolve()
    found: list[str] = []
    seen: set[Path] = {base}
    level = [(base, PurePosixPath())]
    for _ in range(max_depth):
        following: list[tuple[Path, PurePosixPath]] = []
        for folder, name in level:
            try:
                children = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
            except OSError:
                continue
            for child in children:
                try:
                    if not child.is_dir():
                        continue
                    real = child.resolve()
                except (OSError, RuntimeError):
                    continue
                if real in seen or not real.is_relative_to(base):
                    continue
                seen.add(real)
                relative = name / child.name
                if any(_holds_cases(real / f"cases{ext}", base) for ext in FORMATS):
                    found.append(str(relative))
                following.append((child, relative))
                if len(seen) > _MAX_LISTED:
                    return sorted(found)
        level = following
    return sorted(found)


def _holds_cases(path: Path, root: Path) -> bool:
    """A cases file that is a file and, links followed, still inside the root."""
    try:
        return path.is_file() and path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def dataset_label(dataset: str, root: Path) -> str:
    """How a loaded folder is shown: relative to the root (``imports/bpic2013``), else its name (``upload``)."""
    path = Path(dataset)
    if not path.is_absolute():
        return dataset
    for r in (root, root.resolve()):
        if path.is_relative_to(r) and path != r:
            return str(path.relative_to(r))
    return path.name


def public_message(text: str, root: Path) -> str:
    """A message with every absolute path cut to what the user may see.

    A path under the root becomes relative to it, any other absolute path its last
    name, e.g. ``/srv/data/acme/cases.csv: ...`` -> ``acme/cases.csv: ...`` when the
    root is ``/srv/data``, and ``/etc/passwd`` -> ``passwd``.
    """

    def shorten(match: re.Match[str]) -> str:
        raw = match.group(0)
        trailing = ""
        while raw and raw[-1] in ".!?":  # sentence punctuation after a path is not part of it
            trailing = raw[-1] + trailing
            raw = raw[:-1]
        path = Path(os.path.normpath(raw.lstrip("~") or "/"))
        for r in (root, root.resolve()):
            if path.is_relative_to(r) and path != r:
                return str(path.relative_to(r)) + trailing
        return (path.name or "") + trailing

    text = _ABSOLUTE_PATH.sub(shorten, text)
    for r in sorted({str(root), str(root.resolve())} - {"/"}, key=len, reverse=True):
        text = text.replace(r, "")  # the root glued to other text, which the pattern leaves alone
    return text


def upload_names(names: Iterable[str]) -> list[str]:
    r"""Uploaded file names cut to their base name; LoadError unless each is a dataset file, once.

    E.g. ``C:\exports\cases.csv`` -> ``cases.csv``; ``notes.txt`` or ``../cases.csv.sh`` is refused.
    """
    accepted: list[str] = []
    for name in names:
        base = PurePosixPath(name.replace("\\", "/")).name
        if base not in DATASET_FILES:
            raise LoadError(f"Only these files can be uploaded: {ACCEPTED_FILES}.")
        if base in accepted:
            raise LoadError(f"{base} was uploaded twice; upload one file per table.")
        accepted.append(base)
    return accepted


def write_uploads(folder: Path, files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Write uploaded files into `folder` under their checked base names (nothing is written if one is refused)."""
    items = list(files)
    names = upload_names(name for name, _ in items)
    for name, (_, content) in zip(names, items, strict=True):
        (folder / name).write_bytes(content)
    return names


def store_name(dataset: str, at: dt.datetime) -> str:
    """A store's file name: the dataset's name cut to [A-Za-z0-9_-] (40 at most) and the UTC moment.

    E.g. ``store_name("BPIC 2013", at)`` -> ``BPIC_2013-20261205T101500123456Z.duckdb``.
    """
    return f"{safe_store_stem(dataset)}-{at.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}Z.duckdb"


def safe_store_stem(dataset: str) -> str:
    """A dataset's name as the start of a store file name: [A-Za-z0-9_-], 40 characters at most."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", dataset).strip("_-")[:40] or "dataset"


def _stamp(path: Path) -> str:
    match = _STORE_NAME.match(path.name)
    return match.group(1) if match else ""


def prune_stores(folder: Path, keep: int, protect: set[Path]) -> list[Path]:
    """Delete all but the newest `keep` stores in `folder` (with their .wal and .lock files); return what went.

    Only files named by `store_name` are considered, newest by the moment in their name;
    a store in `protect` (the one just made, the one a session shows) is never deleted.
    """
    stamped = list(loaded_stores(folder).values())
    kept = {p.resolve() for p in protect}
    deleted: list[Path] = []
    for path in stamped[max(keep, 0):]:
        if path.resolve() in kept:
            continue
        remove_store(path)
        deleted.append(path)
    return deleted


def stores_folder(default_db: Path) -> Path:
    """Where the Data page's loads put their stores: `stores/` beside the default store."""
    return default_db.parent / "stores"


def loaded_stores(folder: Path) -> dict[str, Path]:
    """The stores the Data page's loads made (and pruning left), by name (their file stem), newest first."""
    if not folder.is_dir():
        return {}
    stamped = sorted(
        (p for p in folder.iterdir() if _STORE_NAME.match(p.name) and p.is_file()),
        key=lambda p: (_stamp(p), p.name),
        reverse=True,
    )
    return {p.name.removesuffix(".duckdb"): p for p in stamped}


def find_dataset(name: str, default_db: Path) -> Path | None:
    """The store a dataset name stands for: the default for DEFAULT_DATASET, else a kept store; None otherwise.

    The name (from an address, so anything: ``../../etc/passwd``, ``/tmp/x``) is only
    looked up among the names the server lists, never joined into a path.
    """
    if name == DEFAULT_DATASET:
        return default_db
    return loaded_stores(stores_folder(default_db)).get(name)


def dataset_name(store: Path, default_db: Path) -> str:
    """What the address calls a store: DEFAULT_DATASET for the default one, else its file stem."""
    return DEFAULT_DATASET if store == default_db else store.name.removesuffix(".duckdb")


@dataclass(frozen=True)
class StoredDataset:
    """A dataset the server holds, as a user may see it: its name, what was loaded into it, and when."""

    name: str  # what the address carries: DEFAULT_DATASET or a kept store's stem
    label: str  # the folder last loaded as its loads table names it (``bpic2013``, ``upload``), never a path
    loaded_at: dt.datetime | None  # UTC; None for a store without loads


def describe_store(name: str, store: Path, root: Path) -> StoredDataset | None:
    """The dataset label and time of a store's latest load, read from its loads table (no path survives).

    None for a store that cannot be read (pruned by another session's load since it was listed).
    """
    try:
        con = connect_published(store)
    except (OSError, duckdb.Error):
        return None
    try:
        rows = con.execute("select dataset, loaded_at from loads order by loaded_at desc limit 1").fetchall()
    finally:
        con.close()
    if not rows:
        return StoredDataset(name, name, None)
    dataset, loaded_at = rows[0]
    return StoredDataset(name, dataset_label(str(dataset), root), loaded_at.astimezone(dt.UTC))
