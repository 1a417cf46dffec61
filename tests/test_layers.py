"""The layering of the code, checked on every import the source holds (ast, not a runtime trace).

metrics/ is layered, top to bottom (see metrics/__init__.py):

    tools > reports > subjects > engine > workspace > storage > shared helpers (errors, safe_text, sqlfiles)

A module imports only from its own layer or a lower one; the shared helpers import no
layer; no module under metrics/ imports Streamlit or the app; there is no import cycle
between modules. The app layer (dashboard.py, views/, ui/) sits above all of metrics and
runs no SQL of its own: it imports DuckDB at most for type annotations (under
`if TYPE_CHECKING:`), and calls no method that runs or fetches a query.

Every import counts, wherever it is written: at the top, inside a function, under
`if TYPE_CHECKING:`, and `importlib.import_module("...")` / `__import__("...")` with a
literal name. Implicit imports of parent packages are not edges (Python imports a package
before its modules, which is never a cycle). The checkers take a folder, so the tests at
the bottom feed them small synthetic trees to show each one fails on a violation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Bottom to top: the index is the layer's height.
LAYERS = ("shared", "storage", "workspace", "engine", "subjects", "reports", "tools")
HEIGHT = {name: i for i, name in enumerate(LAYERS)}
SHARED_HELPERS = frozenset({"metrics", "metrics.errors", "metrics.safe_text", "metrics.sqlfiles"})
ENTRY_POINTS = {"metrics.__main__": "tools"}  # `python -m metrics` runs the CLI
APP_PATHS = ("dashboard.py", "views", "ui")
# Methods of a DuckDB connection, cursor or relation (and Snapshot.query) that run or fetch SQL.
SQL_CALLS = frozenset({
    "execute", "executemany", "sql", "query", "cursor",
    "fetchall", "fetchone", "fetchmany", "fetchdf", "fetch_df", "fetch_df_chunk", "fetchnumpy",
    "fetch_arrow_table", "fetch_record_batch", "read_csv", "read_parquet", "read_json",
})


@dataclass(frozen=True)
class Import:
    """One import statement's target, as written in `module` at `line`."""

    module: str  # the importing module, e.g. metrics.storage.store
    target: str  # what it imports: a project module when it is one, else the name as written
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`: never executed

    def where(self, modules: dict[str, Path], root: Path) -> str:
        return f"{modules[self.module].relative_to(root)}:{self.line}"


# ---------------------------------------------------------------- reading the source


def module_name(path: Path, root: Path) -> str:
    """metrics/storage/store.py -> metrics.storage.store; metrics/storage/__init__.py -> metrics.storage."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path, paths: Iterable[str]) -> Iterator[Path]:
    for name in paths:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def project_modules(root: Path, paths: Iterable[str] = ("metrics", "ui", "views", "dashboard.py")) -> dict[str, Path]:
    return {module_name(p, root): p for p in python_files(root, paths)}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, type_only: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node below `node`, with whether it sits under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield child, type_only
            for stmt in child.body:
                yield stmt, True
                yield from _walk(stmt, True)
            for stmt in child.orelse:
                yield stmt, type_only
                yield from _walk(stmt, type_only)
            continue
        yield child, type_only
        yield from _walk(child, type_only)


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The project module `name` denotes (its longest known prefix), else `name` as written."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return name


def imports_of(module: str, modules: dict[str, Path]) -> list[Import]:
    """Every import written anywhere in `module`, resolved to project modules where they are ones."""
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def add(target: str, node: ast.AST, type_only: bool) -> None:
        found.append(Import(module, _resolve(target, modules), getattr(node, "lineno", 0), type_only))

    for node, type_only in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..storage import store
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else base, node, type_only)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                add(node.args[0].value, node, type_only)
    return found


def all_imports(modules: dict[str, Path]) -> list[Import]:
    return [imp for module in sorted(modules) for imp in imports_of(module, modules)]


# ---------------------------------------------------------------- the checkers


def layer_of(module: str) -> str | None:
    """The layer of a module under metrics/ (None: it belongs to none, which is itself a violation)."""
    if module in SHARED_HELPERS:
        return "shared"
    if module in ENTRY_POINTS:
        return ENTRY_POINTS[module]
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "metrics" and parts[1] in HEIGHT and parts[1] != "shared":
        return parts[1]
    return None


def layer_violations(root: Path) -> list[str]:
    """Imports under metrics/ that go up a layer, into the app, or come from a module of no layer."""
    modules = project_modules(root)
    problems = [
        f"{modules[m].relative_to(root)}: belongs to no layer (move it into one, or make it a shared helper)"
        for m in sorted(modules)
        if m.split(".")[0] == "metrics" and layer_of(m) is None
    ]
    for imp in all_imports(modules):
        if imp.module.split(".")[0] != "metrics" or imp.target not in modules:
            continue
        if imp.target.split(".")[0] != "metrics":
            problems.append(f"{imp.where(modules, root)}: {imp.module} imports the app module {imp.target}")
            continue
        mine, theirs = layer_of(imp.module), layer_of(imp.target)
        if mine is None or theirs is None:
            continue  # reported above
        if HEIGHT[theirs] > HEIGHT[mine]:
            problems.append(
                f"{imp.where(modules, root)}: {imp.module} ({mine}) imports {imp.target} ({theirs}), a higher layer"
            )
    return problems


def import_cycles(root: Path, paths: Iterable[str] = ("metrics", "ui", "views", "dashboard.py")) -> list[list[str]]:
    """Each import cycle between project modules, as the modules around it (first one repeated at the end)."""
    modules = project_modules(root, paths)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in all_imports(modules):
        if imp.target in modules:
            graph[imp.module].add(imp.target)
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) > 1 or next(iter(component)) in graph[next(iter(component))]:
            cycles.append(_cycle_in(component, graph))
    return sorted(cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on a long import chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _cycle_in(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    """One concrete cycle through the component's first module (breadth first: the shortest)."""
    start = min(component)
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle in {component}")  # a strongly connected component always has one


def streamlit_imports(root: Path) -> list[str]:
    """Imports of Streamlit anywhere under metrics/."""
    modules = project_modules(root, ("metrics",))
    return [
        f"{imp.where(modules, root)}: {imp.module} imports {imp.target}"
        for imp in all_imports(modules)
        if imp.target.split(".")[0] == "streamlit"
    ]


def app_sql(root: Path) -> list[str]:
    """SQL in the app layer: a runtime import of DuckDB, or a call that runs or fetches a query."""
    modules = project_modules(root, APP_PATHS)
    problems = [
        f"{imp.where(modules, root)}: imports {imp.target} (the app reaches data through metrics functions)"
        for imp in all_imports(modules)
        if imp.target.split(".")[0] == "duckdb" and not imp.type_only
    ]
    for path in sorted(modules.values()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                problems.append(
                    f"{path.relative_to(root)}:{node.lineno}: calls .{node.func.attr}() "
                    "(SQL belongs in metrics; call a metrics function instead)"
                )
    return problems


# ---------------------------------------------------------------- the project


def test_imports_go_only_down_the_layers() -> None:
    problems = layer_violations(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_there_is_no_import_cycle() -> None:
    cycles = import_cycles(PROJECT_ROOT)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_metrics_never_imports_streamlit() -> None:
    problems = streamlit_imports(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_the_app_runs_no_sql() -> None:
    problems = app_sql(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_every_layer_is_checked() -> None:
    """The checks see every layer's modules, function-level imports included (a guard against a vacuous pass)."""
    modules = project_modules(PROJECT_ROOT)
    assert {layer_of(m) for m in modules if m.startswith("metrics")} == set(LAYERS)
    assert {"views.data", "ui.state", "dashboard"} <= set(modules)
    cli = imports_of("metrics.tools.cli", modules)
    assert any(i.target == "metrics.storage.ingest" for i in cli)  # imported inside a command


# ---------------------------------------------------------------- each check can fail


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN_TREE = {
    "metrics/__init__.py": '"""Docs only."""\n',
    "metrics/errors.py": "class LoadError(Exception): ...\n",
    "metrics/storage/__init__.py": "",
    "metrics/storage/store.py": "import duckdb\nfrom metrics.errors import LoadError\n",
    "metrics/storage/ingest.py": "from metrics.storage.store import LoadError\nfrom . import store\n",
    "metrics/engine/__init__.py": "",
    "metrics/engine/snapshot.py": "from metrics.storage import store\n",
    "metrics/tools/__init__.py": "",
    "metrics/tools/cli.py": "def main():\n    from metrics.engine import snapshot\n",
    "ui/__init__.py": "",
    "ui/state.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import duckdb\n"
        "from metrics.engine.snapshot import store\n"
    ),
    "views/page.py": "from ui import state\nframe = state.frame()\n",
    "dashboard.py": "import ui.state\n",
}


def test_the_synthetic_clean_tree_passes(tmp_path: Path) -> None:
    root = write_tree(tmp_path, CLEAN_TREE)
    assert layer_violations(root) == []
    assert import_cycles(root) == []
    assert streamlit_imports(root) == []
    assert app_sql(root) == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("metrics/storage/store.py", "def f():\n    from metrics.engine import snapshot\n",
         "metrics.storage.store (storage) imports metrics.engine.snapshot (engine)"),
        ("metrics/errors.py", "from metrics.storage.store import x\n", "metrics.errors (shared) imports"),
        ("metrics/engine/snapshot.py", "from ..tools import cli\n", "imports metrics.tools.cli (tools)"),
        ("metrics/engine/snapshot.py", "import importlib\nimportlib.import_module('metrics.tools.cli')\n",
         "imports metrics.tools.cli (tools)"),
        ("metrics/engine/snapshot.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ui.state\n",
         "imports the app module ui.state"),
        ("metrics/helpers.py", "", "metrics/helpers.py: belongs to no layer"),
    ],
)
def test_an_upward_import_fails(tmp_path: Path, name: str, text: str, expected: str) -> None:
    root = write_tree(tmp_path, {**CLEAN_TREE, name: text})
    problems = layer_violations(root)
    assert any(expected in p for p in problems), problems


def test_a_cycle_through_a_function_level_import_fails(tmp_path: Path) -> None:
    """store -> ingest inside a function, ingest -> store at the top: the cycle the split once had."""
    tree = {**CLEAN_TREE, "metrics/storage/store.py": "def ensure():\n    from metrics.storage.ingest import x\n"}
    cycles = import_cycles(write_tree(tmp_path, tree))
    assert cycles == [["metrics.storage.ingest", "metrics.storage.store", "metrics.storage.ingest"]]


def test_a_longer_cycle_and_a_self_import_are_named(tmp_path: Path) -> None:
    tree = {
        **CLEAN_TREE,
        "metrics/engine/a.py": "from metrics.engine import b\n",
        "metrics/engine/b.py": "import metrics.engine.c\n",
        "metrics/engine/c.py": "from .a import thing\n",
        "metrics/engine/d.py": "from metrics.engine.d import y\n",
    }
    cycles = import_cycles(write_tree(tmp_path, tree))
    assert cycles == [
        ["metrics.engine.a", "metrics.engine.b", "metrics.engine.c", "metrics.engine.a"],
        ["metrics.engine.d", "metrics.engine.d"],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("import streamlit as st\n", "metrics/engine/snapshot.py:1: metrics.engine.snapshot imports streamlit"),
        ("def f():\n    from streamlit.runtime import x\n",
         "metrics/engine/snapshot.py:2: metrics.engine.snapshot imports streamlit.runtime"),
    ],
)
def test_streamlit_under_metrics_fails(tmp_path: Path, text: str, expected: str) -> None:
    root = write_tree(tmp_path, {**CLEAN_TREE, "metrics/engine/snapshot.py": text})
    assert streamlit_imports(root) == [expected]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("views/page.py", "import duckdb\n", "views/page.py:1: imports duckdb"),
        ("ui/state.py", "def f():\n    from duckdb import connect\n", "ui/state.py:2: imports duckdb"),
        ("dashboard.py", "con.execute('select 1')\n", "dashboard.py:1: calls .execute()"),
        ("views/page.py", "rows = state.connection().sql('select 1').to_df()\n", "views/page.py:1: calls .sql()"),
        ("views/page.py", "cur = con.cursor()\n", "views/page.py:1: calls .cursor()"),
        ("ui/state.py", "def f(snap):\n    return snap.query('select 1')\n", "ui/state.py:2: calls .query()"),
        ("views/page.py", "x = rel.fetchall()\n", "views/page.py:1: calls .fetchall()"),
    ],
)
def test_sql_in_the_app_fails(tmp_path: Path, name: str, text: str, expected: str) -> None:
    root = write_tree(tmp_path, {**CLEAN_TREE, name: text})
    problems = app_sql(root)
    assert any(p.startswith(expected) for p in problems), problems
