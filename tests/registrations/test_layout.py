"""The shape of the code: registrations by layer, one ground floor in rostering, no import circle.

The import graph is read from the source (every ``import`` statement, also those inside functions, so a
lazy import does not hide a circle).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("rostering", "registrations", "session_setup", "assessments", "config")
OLD_MODULES = (
    "registrations.participation", "registrations.review", "registrations.review_selectors",
    "registrations.review_forms", "registrations.review_views", "registrations.review_urls",
    "registrations.forms_spec", "registrations.views.base", "registrations.api.review_views",
    "registrations.api.review_serializers", "registrations.api.review_urls", "rostering.errors",
    "rostering.api.exceptions", "rostering.api.pagination",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]], within: tuple[str, ...]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), among modules of ``within``."""
    nodes = [n for n in graph if n.split(".")[0] in within]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w.split(".")[0] not in within:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in nodes:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_anywhere():
    """A task is defined beside the service it runs, and a routing table beside neither of the modules whose
    handlers it lists: nothing imports back."""
    assert cycles(import_graph(), APPS) == []


def test_rostering_imports_no_other_app():
    graph = import_graph()
    outside = {
        (name, target) for name, targets in graph.items() if name.split(".")[0] == "rostering"
        for target in targets if target.split(".")[0] in set(APPS) - {"rostering"}
    }
    assert outside == set()


@pytest.mark.parametrize("name", OLD_MODULES)
def test_old_modules_are_gone(name):
    assert importlib.util.find_spec(name) is None


def test_registrations_by_layer():
    for name in ("registrations.services.sessions", "registrations.services.codes", "registrations.services.submissions",
                 "registrations.services.participation", "registrations.services.review",
                 "registrations.services.roster_import", "registrations.selectors", "registrations.filtersets",
                 "registrations.validators", "registrations.views.sessions", "registrations.views.codes",
                 "registrations.views.progress", "registrations.views.review", "registrations.public.serializers",
                 "registrations.api.serializers", "registrations.api.views", "rostering.common.transitions"):
        assert importlib.util.find_spec(name) is not None, name
    init = (ROOT / "registrations" / "services" / "__init__.py").read_text()
    assert "import" not in ast.get_docstring(ast.parse(init)) or not ast.parse(init).body[1:]  # no re-exports
