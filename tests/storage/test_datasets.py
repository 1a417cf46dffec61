"""metrics.storage.datasets: folders load only from under the data root, and messages show no server path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.errors import LoadError
from metrics.storage.datasets import (
    DATA_ROOT_ENV,
    DEFAULT_DATA_ROOT,
    KEEP_STORES_ENV,
    OUTSIDE_ROOT,
    check_files_inside,
    data_root,
    dataset_label,
    keep_stores,
    list_datasets,
    prune_stores,
    public_message,
    resolve_dataset,
    store_name,
    upload_names,
    write_uploads,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A data root with one dataset, one nested dataset, a plain file and a link leading out of it."""
    base = tmp_path / "root"
    (base / "sample").mkdir(parents=True)
    (base / "sample" / "cases.csv").write_text("case_id\n")
    (base / "imports" / "bpic2013").mkdir(parents=True)
    (base / "imports" / "bpic2013" / "cases.parquet").write_bytes(b"")
    (base / "notes.txt").write_text("not a folder\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cases.csv").write_text("case_id\n")
    (base / "escape").symlink_to(outside, target_is_directory=True)
    return base.resolve()


def refusal(text: str, root: Path) -> str:
    with pytest.raises(LoadError) as caught:
        resolve_dataset(text, root)
    return str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "/etc",  # an absolute path outside the root that exists
        "/etc/does-not-exist",  # ... and one that does not
        "../",  # the root's parent
        "sample/../../outside",  # climbing out through a real folder
        "escape",  # a link inside the root to a folder outside it
        "missing",  # nothing there
        "notes.txt",  # a file, not a folder
        ".",  # the root itself
        "",  # nothing typed
        "sample\0",  # a NUL byte, which the file system refuses
    ],
)
def test_resolve_dataset_refuses_everything_outside_the_root_with_one_sentence(root, text):
    """Outside, missing, a file or a link out: the same sentence, so nothing tells which paths exist."""
    assert refusal(text, root) == OUTSIDE_ROOT


def test_resolve_dataset_refuses_an_absolute_path_outside_even_beside_the_root(root, tmp_path):
    """A sibling whose name starts like the root's (root2 beside root) is outside too."""
    (tmp_path / "root2").mkdir()
    assert refusal(str(tmp_path / "root2"), root) == OUTSIDE_ROOT
    assert refusal(str(tmp_path / "outside"), root) == OUTSIDE_ROOT


def test_resolve_dataset_accepts_relative_names_and_absolute_paths_under_the_root(root):
    """`sample`, `imports/bpic2013`, ` sample ` and the absolute path of a folder inside all resolve."""
    assert resolve_dataset("sample", root) == root / "sample"
    assert resolve_dataset(" imports/bpic2013 ", root) == root / "imports" / "bpic2013"
    assert resolve_dataset(str(root / "sample"), root) == root / "sample"
    assert resolve_dataset("imports/../sample", root) == root / "sample"


def test_resolve_dataset_follows_a_link_that_stays_inside(root):
    """A link from one folder of the root to another is fine: only where it leads counts."""
    (root / "latest").symlink_to(root / "sample", target_is_directory=True)
    assert resolve_dataset("latest", root) == root / "sample"


def test_check_files_inside_refuses_a_table_file_linked_out_of_the_root(root, tmp_path):
    """cases.csv -> a file outside is refused by its own name, never by its target or contents."""
    secret = tmp_path / "secret" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = root / "linked"
    folder.mkdir()
    (folder / "cases.csv").symlink_to(secret)
    with pytest.raises(LoadError) as caught:
        check_files_inside(folder, root)
    message = str(caught.value)
    assert message.startswith("cases.csv ")
    assert "passwd" not in message and "root:x" not in message and str(tmp_path) not in message


def test_check_files_inside_says_the_same_for_a_link_to_nothing(root, tmp_path):
    """A link to a missing file outside reads exactly like a link to an existing one."""
    folder = root / "dangling"
    folder.mkdir()
    (folder / "config.toml").symlink_to(tmp_path / "nowhere.toml")
    real = root / "real"
    real.mkdir()
    (real / "config.toml").symlink_to("/etc/passwd")
    messages = set()
    for one in (folder, real):
        with pytest.raises(LoadError) as caught:
            check_files_inside(one, root)
        messages.add(str(caught.value))
    assert len(messages) == 1


def test_check_files_inside_accepts_plain_files_links_inside_and_ignores_other_names(root, tmp_path):
    """Plain files, a link to a file in the root, and an unrelated link (readme.txt) all pass."""
    folder = root / "sample"
    (folder / "responses.csv").symlink_to(root / "imports" / "bpic2013" / "cases.parquet")
    (folder / "readme.txt").symlink_to(tmp_path / "outside" / "cases.csv")  # never read by a load
    check_files_inside(folder, root)


def test_list_datasets_names_folders_with_a_cases_file_relative_to_the_root(root):
    """Folders holding cases.*, a few levels deep, sorted; no link out (folder or file), no hidden or empty one."""
    (root / ".hidden").mkdir()
    (root / ".hidden" / "cases.csv").write_text("case_id\n")
    (root / "empty").mkdir()
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "cases.jsonl").write_text("{}\n")
    (root / "a" / "b" / "c" / "d").mkdir()
    (root / "a" / "b" / "c" / "d" / "cases.csv").write_text("case_id\n")  # four levels down: too deep
    (root / "linked").mkdir()
    (root / "linked" / "cases.csv").symlink_to("/etc/passwd")  # a cases file leading out: not offered
    assert list_datasets(root) == ["a/b/c", "imports/bpic2013", "sample"]


def test_dataset_label_is_relative_to_the_root_or_just_a_name(root):
    """A loaded folder under the root shows relative to it; any other (an upload's) shows its name."""
    assert dataset_label(str(root / "imports" / "bpic2013"), root) == "imports/bpic2013"
    assert dataset_label("/tmp/support-upload-x1y2/upload", root) == "upload"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{root}/sample: not a folder", "sample: not a folder"),
        ("found in {root}/imports/bpic2013/cases.csv, line 3", "found in imports/bpic2013/cases.csv, line 3"),
        ("/etc/passwd: missing column 'case_id'", "passwd: missing column 'case_id'"),
        ("could not open '/var/lib/x/store.duckdb.wal'.", "could not open 'store.duckdb.wal'."),
        ("read ~/secret/cases.csv.", "read cases.csv."),
        ("1/2 of the rows, 3 / 4 of the files", "1/2 of the rows, 3 / 4 of the files"),
        ("and/or cases.csv", "and/or cases.csv"),
    ],
)
def test_public_message_strips_absolute_paths(root, text, expected):
    """Paths under the root become relative, other absolute paths their last name; ratios stay."""
    shown = public_message(text.format(root=root), root)
    assert shown == expected
    assert str(root) not in shown


def test_upload_names_keep_base_names_of_dataset_files_only():
    """Directories are dropped from uploaded names; anything but a table file or config.toml is refused."""
    assert upload_names(["../../cases.csv", "C:\\exports\\responses.parquet", "config.toml"]) == [
        "cases.csv", "responses.parquet", "config.toml",
    ]
    for bad in (["notes.txt"], ["cases.csv.sh"], ["cases.xlsx"], [".bashrc"], ["cases.csv", "x/cases.csv"]):
        with pytest.raises(LoadError):
            upload_names(bad)
    with pytest.raises(LoadError, match=r"^Only these files can be uploaded: accounts, .*engagements, each "):
        upload_names(["evil.py"])


def test_write_uploads_writes_nothing_when_one_name_is_refused(tmp_path):
    """A refused name stops the whole upload before any file is written."""
    with pytest.raises(LoadError):
        write_uploads(tmp_path, [("cases.csv", b"case_id\n"), ("evil.sh", b"rm -rf /\n")])
    assert list(tmp_path.iterdir()) == []
    assert write_uploads(tmp_path, [("dir/cases.csv", b"case_id\n")]) == ["cases.csv"]
    assert (tmp_path / "cases.csv").read_bytes() == b"case_id\n"


def test_store_name_is_safe_and_stamped_to_the_microsecond():
    """The folder name keeps only [A-Za-z0-9_-] (40 at most); the moment is UTC with microseconds."""
    at = dt.datetime(2026, 12, 5, 11, 15, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert store_name("BPIC 2013", at) == "BPIC_2013-20261205T101500123456Z.duckdb"
    assert store_name("../../etc", at) == "etc-20261205T101500123456Z.duckdb"
    assert store_name("ü", at) == "dataset-20261205T101500123456Z.duckdb"
    assert len(store_name("x" * 100, at).split("-")[0]) == 40


def test_prune_stores_keeps_the_newest_and_the_protected(tmp_path):
    """Of seven stores the second oldest goes (with .wal and .lock); a protected old one stays; others untouched."""
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    names = [store_name("sample", start + dt.timedelta(minutes=i)) for i in range(7)]
    for name in names:
        for suffix in ("", ".wal", ".lock"):
            (tmp_path / f"{name}{suffix}").write_bytes(b"")
    (tmp_path / "notes.duckdb").write_bytes(b"")  # not named by store_name: not ours to delete
    deleted = prune_stores(tmp_path, keep=5, protect={tmp_path / names[0]})
    assert deleted == [tmp_path / names[1]]
    remaining = sorted(p.name for p in tmp_path.iterdir())
    kept = [*names[:1], *names[2:]]
    assert remaining == sorted([*kept, *(f"{n}.wal" for n in kept), *(f"{n}.lock" for n in kept), "notes.duckdb"])
    assert prune_stores(tmp_path, keep=1, protect={tmp_path / names[0]}) == [tmp_path / n for n in names[5:1:-1]]
    assert sorted(p.name for p in tmp_path.glob("*.duckdb")) == sorted([names[0], names[6], "notes.duckdb"])


def test_prune_stores_never_deletes_the_store_just_made_even_when_it_sorts_oldest(tmp_path):
    """A clock set back must not delete the store a load just made."""
    late, early = (store_name("x", dt.datetime(2026, 12, d, tzinfo=dt.UTC)) for d in (5, 1))
    for name in (late, early):
        (tmp_path / name).write_bytes(b"")
    assert prune_stores(tmp_path, keep=1, protect={tmp_path / early}) == []


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    """The data root and the number of stores kept are read from the environment, with defaults."""
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)
    monkeypatch.delenv(KEEP_STORES_ENV, raising=False)
    assert data_root() == DEFAULT_DATA_ROOT.resolve()
    assert keep_stores() == 5
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    monkeypatch.setenv(KEEP_STORES_ENV, "2")
    assert data_root() == tmp_path.resolve()
    assert keep_stores() == 2
    monkeypatch.setenv(KEEP_STORES_ENV, "many")
    assert keep_stores() == 5
