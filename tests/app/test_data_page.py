"""The Data page on a shared server: it loads only from the data root and shows no server path or file."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.datasets import DATA_ROOT_ENV, KEEP_STORES_ENV, OUTSIDE_ROOT
from metrics.storage.store import DB_ENV, PROJECT_ROOT
from tests.conftest import BASE_FILES

FORBIDDEN = ("/etc", "root:x:", "passwd")  # what a load of the server's files would let slip


@pytest.fixture
def site(app_env: Path, make_dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A data root with a valid dataset, one whose cases.csv links to /etc/passwd, and a link to /etc.

    The served store is a copy of the sample store in its own folder, so the stores the
    page makes land in a `stores` folder that only this test sees.
    """
    root = tmp_path / "root"
    root.mkdir()
    shutil.move(make_dataset(), root / "valid")
    shutil.move(make_dataset(), root / "linked")
    (root / "linked" / "cases.csv").unlink()
    (root / "linked" / "cases.csv").symlink_to("/etc/passwd")
    (root / "etc").symlink_to("/etc", target_is_directory=True)
    served = tmp_path / "served" / "support.duckdb"
    served.parent.mkdir()
    shutil.copyfile(app_env, served)
    monkeypatch.setenv(DATA_ROOT_ENV, str(root))
    monkeypatch.setenv(DB_ENV, str(served))
    monkeypatch.delenv(KEEP_STORES_ENV, raising=False)
    return {"root": root, "stores": served.parent / "stores", "tmp": tmp_path}


@pytest.fixture
def uploads_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Temporary folders made during the test go here, so the test can see they were removed."""
    folder = tmp_path / "tempdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def open_data_page() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page("views/data.py")
    return at.run()


def walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def shown_text(at: AppTest) -> str:
    """Everything the page sends to the browser: every element's message, tables as CSV."""
    parts = []
    for node in walk(at._tree):
        if node.type in ("dataframe", "arrow_data_frame"):
            parts.append(node.value.to_csv())
        elif hasattr(node, "proto"):
            parts.append(str(node.proto))
    return "\n".join(parts)


def load_folder(at: AppTest, text: str) -> AppTest:
    at.text_input(key="data_folder").set_value(text).run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def assert_private(at: AppTest, tmp: Path) -> None:
    text = shown_text(at)
    for secret in (*FORBIDDEN, str(tmp), str(tmp.resolve()), str(PROJECT_ROOT)):
        assert secret not in text, secret


def metric_value(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("text", ["/etc", "../", "etc", "linked", "{tmp}", "{tmp}/root/../served", "nowhere"])
def test_a_folder_outside_the_root_is_refused_without_a_trace(site, text):
    """/etc, ../, a link to /etc, a dataset linking /etc/passwd, tmp paths, a missing folder: one neutral error."""
    at = load_folder(open_data_page(), text.format(tmp=site["tmp"]))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("The load failed and nothing changed")
    assert "store_path" not in at.session_state
    assert metric_value(at, "Cases") == "20,000"
    assert not site["stores"].exists() or not list(site["stores"].iterdir())
    at.text_input(key="data_folder").set_value("").run()  # the user's own typing aside, nothing of the server shows
    assert_private(at, site["tmp"])


def test_every_refusal_reads_the_same(site):
    """Outside, missing and linked-out folders give the same sentence, so none tells what exists."""
    messages = set()
    for text in ("/etc", "../", "etc", "nowhere", str(site["tmp"] / "served")):
        at = load_folder(open_data_page(), text)
        messages.add(at.error[0].value)
    assert len(messages) == 1
    assert "data root" in messages.pop()


def test_a_dataset_linking_out_is_refused_by_file_name(site):
    """The dataset whose cases.csv links to /etc/passwd is refused naming cases.csv, not its target."""
    at = load_folder(open_data_page(), "linked")
    assert "cases" in at.error[0].value and OUTSIDE_ROOT not in at.error[0].value


def test_the_page_offers_the_datasets_of_the_root_and_shows_no_server_path(site):
    """The selectbox lists the root's datasets by relative name; placeholder, caption and loads table are relative."""
    at = open_data_page()
    assert at.selectbox(key="data_dataset").options == ["valid"]
    assert at.text_input(key="data_folder").placeholder == "sample"
    assert at.caption[0].value == "Store: support.duckdb"
    assert list(at.dataframe[-1].value["dataset"]) == ["sample"]  # the loads table of the bundled sample
    assert_private(at, site["tmp"])


def test_a_chosen_dataset_loads_and_only_the_newest_stores_stay(site):
    """Choosing `valid` loads it (2 cases); after seven loads five stores remain, the session's among them."""
    at = open_data_page()
    for _ in range(7):
        at.selectbox(key="data_dataset").select("valid").run()
        at.button(key="data_load_folder").click().run()
        assert not at.exception, at.exception[0].value if at.exception else ""
        assert not at.error
        assert metric_value(at, "Cases") == "2"
        assert at.code[0].value.split("\n")[0].split(" (")[0] == "Loaded valid"
        assert_private(at, site["tmp"])
    stores = sorted(site["stores"].glob("*.duckdb"))
    assert len(stores) == 5
    assert Path(at.session_state["store_path"]) in stores
    assert all(p.name.startswith("valid-") for p in stores)
    assert list(at.dataframe[-1].value["dataset"]) == ["valid"]
    leftovers = {p.name.partition(".duckdb")[0] for p in site["stores"].iterdir()}
    assert leftovers == {p.name.partition(".duckdb")[0] for p in stores}  # no lock or log of a pruned store lingers


def test_keep_stores_follows_the_environment(site, monkeypatch):
    """SUPPORT_ANALYTICS_KEEP_STORES=2 keeps two stores."""
    monkeypatch.setenv(KEEP_STORES_ENV, "2")
    at = open_data_page()
    for _ in range(3):
        load_folder(at, "valid")
    assert len(list(site["stores"].glob("*.duckdb"))) == 2


def upload_page() -> AppTest:
    at = open_data_page()
    at.segmented_control(key="data_source").set_value("Upload files").run()
    return at


def test_uploads_load_from_a_temporary_folder_that_is_removed(site, uploads_tmp):
    """Uploaded table files load as "upload" and leave no folder behind in the temporary directory."""
    at = upload_page()
    for name, text in BASE_FILES.items():
        body = "\n".join(line.strip() for line in text.strip().splitlines()) + "\n"
        at.file_uploader(key="data_upload").upload(name, body.encode(), "text/csv")
    at.run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception and not at.error
    assert metric_value(at, "Cases") == "2"
    assert at.code[0].value.split("\n")[0].split(" (")[0] == "Loaded upload"
    assert list(at.dataframe[-1].value["dataset"]) == ["upload"]
    assert list(uploads_tmp.iterdir()) == []
    assert_private(at, site["tmp"])


def test_an_upload_of_another_file_is_refused_and_removed(site, uploads_tmp):
    """A file that is no table of the contract is refused in one sentence naming what is accepted."""
    at = upload_page()
    at.file_uploader(key="data_upload").upload("passwords.csv", b"user,password\n", "text/csv").run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception
    assert "Only these files can be uploaded" in at.error[0].value
    assert "store_path" not in at.session_state
    assert list(uploads_tmp.iterdir()) == []


def test_a_failed_upload_removes_its_folder_and_shows_only_file_names(site, uploads_tmp):
    """A cases file missing its columns fails the load; its folder goes and the message has no path."""
    at = upload_page()
    at.file_uploader(key="data_upload").upload("cases.csv", b"case_id\nC1\n", "text/csv").run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception
    assert at.error and "The load failed and nothing changed" in at.error[0].value
    assert list(uploads_tmp.iterdir()) == []
    assert not site["stores"].exists() or not list(site["stores"].iterdir())  # no store, log or lock left
    assert_private(at, site["tmp"])


def test_the_page_lists_each_packages_versions_and_overrides(site, make_dataset):
    """A dataset whose config.toml changes terms over time: the Data page lists every change as written."""
    config = (
        '[[packages.Gold.versions]]\nfrom = 2026-07-01\ninitial_response_hours = { 1 = 2 }\n'
        '[[packages.Gold.versions]]\nfrom = 2026-03-01\nservice_days = 5\n'
        '[[overrides]]\naccount_id = "A1"\nfrom = 2026-01-01\nfollow_up_hours = { 1 = 12 }\n'
    )
    shutil.move(make_dataset(config__toml=config), site["root"] / "terms")
    at = open_data_page()
    assert not [d for d in at.dataframe if "changes" in d.value.columns]  # the sample's terms never change
    at.selectbox(key="data_dataset").select("terms").run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    [table] = [d.value for d in at.dataframe if "changes" in d.value.columns]
    assert table.to_dict("records") == [
        {"package": "Gold", "account": "every account", "from": "2026-03-01", "changes": "service_days = 5"},
        {"package": "Gold", "account": "every account", "from": "2026-07-01",
         "changes": "initial_response_hours { 1 = 2 }"},
        {"package": "the account's package", "account": "A1", "from": "2026-01-01",
         "changes": "follow_up_hours { 1 = 12 }"},
    ]


def test_the_table_counts_read_with_thousands_separators(app_env, monkeypatch):
    """The stored tables' row counts are numbers shown localized (20,000, not 20000), under words."""
    monkeypatch.setenv(DB_ENV, str(app_env))
    at = open_data_page()
    counts = next(d for d in at.dataframe if d.value.columns.tolist() == ["table", "rows"])
    config = json.loads(counts.proto.columns)
    assert config["rows"]["type_config"]["format"] == "localized" and config["rows"]["label"] == "Rows"
    assert config["table"]["label"] == "Table"
    assert counts.value.loc[counts.value["table"] == "cases", "rows"].item() == 20_000
