"""The shape of the handoff package: no import loop, no module over about 400 lines, config only
from the environment with defaults that exist."""

from __future__ import annotations

import ast
from pathlib import Path

from handoff.config import Settings

PACKAGE = Path(__file__).resolve().parents[2] / "handoff"
MAX_LINES = 410  # "about 400"


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def _imports(path: Path, known: set) -> set:
    """handoff modules imported by `path`, anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("handoff"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("handoff")}
    return {name for name in found if name in known}


def test_no_import_loop_in_handoff():
    modules = dict(_modules())
    graph = {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}
    graph = {name: {d for d in deps if d != "handoff"} for name, deps in graph.items()}
    done, active = set(), []

    def visit(name):
        if name in active:
            loop = active[active.index(name) :] + [name]
            raise AssertionError("import loop: " + " -> ".join(loop))
        if name in done:
            return
        active.append(name)
        for dep in sorted(graph[name]):
            visit(dep)
        active.pop()
        done.add(name)

    for name in graph:
        visit(name)


def test_only_the_entry_point_imports_the_app():
    modules = dict(_modules())
    importers = {name for name, path in modules.items() if "handoff.app" in _imports(path, set(modules))}
    assert importers <= {"handoff.__main__", "handoff.app"}


def test_no_module_is_over_about_400_lines():
    long = {name: n for name, path in _modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_default_paths_exist():
    settings = Settings.from_env({})
    assert settings.canned_replies.is_file()
    assert Settings().canned_replies == settings.canned_replies
