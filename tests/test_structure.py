"""The shape of the code: no import cycle between modules, no reach into another module's `_private` names.

The checker walks the AST of every module under src/nubes (imports inside functions count too; imports
under `if TYPE_CHECKING:` do not make a cycle, since they never run). A private name is one with a
leading underscore that is not a dunder (`__version__`): importing it from another module
(`from nubes.x import _y`) or using it through an imported module (`x._y`, `nubes.x._y`) is a reach-in.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Violations still in the code (the sub-package splits of issue 12 removed the last ones).
# This set must only shrink: never add an entry (fix the code instead). The test also fails when an
# entry no longer occurs, so delete it in the change that removes the violation.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


@dataclass
class Module:
    """One parsed module: its dotted name, whether it is a package `__init__`, and its syntax tree."""

    name: str
    is_package: bool
    tree: ast.Module


@dataclass
class Report:
    """What the checker found: cycles (as keys and as readable paths) and private reach-ins."""

    cycles: dict[str, str] = field(default_factory=dict)
    private: set[str] = field(default_factory=set)

    def keys(self) -> set[str]:
        """Every violation as the stable key KNOWN_VIOLATIONS lists."""
        return set(self.cycles) | self.private


def load(root: Path, package: str) -> dict[str, Module]:
    """Parse every module of `package` found under `root` (the directory that holds the package)."""
    modules: dict[str, Module] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        modules[name] = Module(name, is_package, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return modules


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module path of a `from ... import` (relative imports resolved against the module)."""
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of import nodes that sit under `if TYPE_CHECKING:`."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        ):
            for statement in node.body:
                found.update(id(inner) for inner in ast.walk(statement))
    return found


def _imports(module: Module, modules: dict[str, Module]) -> Iterator[tuple[ast.Import | ast.ImportFrom, str, str | None]]:
    """(node, imported module, alias bound to it or None) for every import of a module of ours."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield node, alias.name, alias.asname or alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    yield node, submodule, alias.asname or alias.name
                elif source in modules:
                    yield node, source, None


def _graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module in modules.values():
        type_only = _type_checking_nodes(module.tree)
        for node, target, _alias in _imports(module, modules):
            if id(node) not in type_only and target != module.name:
                graph[module.name].add(target)
    return graph


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
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
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle through the component's first module, as a path that ends where it starts."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to the start
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # unreachable for a strongly connected component


def _dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None when the chain does not start at a plain name."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    names.append(node.id)
    return names[::-1]


def _bindings(module: Module, modules: dict[str, Module]) -> tuple[dict[str, str], list[str]]:
    """The local names bound to modules of ours, and the private names imported from them."""
    bound: dict[str, str] = {}
    imported: list[str] = []
    for node, target, alias in _imports(module, modules):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for name in node.names:
                if _private(name.name) and f"{source}.{name.name}" not in modules and source != module.name:
                    imported.append(f"private: {module.name} imports {source}.{name.name}")
        if alias is None:
            continue
        plain_import = isinstance(node, ast.Import) and not any(a.asname for a in node.names if a.name == target)
        bound[alias] = target.split(".")[0] if plain_import else target  # `import a.b` binds `a`
    return bound, imported


def _reach_ins(module: Module, modules: dict[str, Module]) -> Iterator[str]:
    bound, imported = _bindings(module, modules)
    yield from imported
    for node in ast.walk(module.tree):
        chain = _dotted(node) if isinstance(node, ast.Attribute) else None
        if chain is None or chain[0] not in bound:
            continue
        target = bound[chain[0]]
        for attr in chain[1:]:
            if f"{target}.{attr}" in modules:
                target = f"{target}.{attr}"
                continue
            if _private(attr) and target != module.name:
                yield f"private: {module.name} uses {target}.{attr}"
            break


def check(root: Path, package: str) -> Report:
    """Find the import cycles and private reach-ins among the modules of `package` under `root`."""
    modules = load(root, package)
    graph = _graph(modules)
    report = Report()
    for component in _components(graph):
        key = "cycle: " + " <-> ".join(component)
        report.cycles[key] = " -> ".join(_cycle_path(graph, component))
    for module in modules.values():
        report.private.update(_reach_ins(module, modules))
    return report


# --- the code base --------------------------------------------------------------------------------


@functools.cache
def _codebase() -> Report:
    return check(SRC, "nubes")


def test_no_new_import_cycle_or_private_reach_in() -> None:
    report = _codebase()
    new = sorted(report.keys() - KNOWN_VIOLATIONS)
    details = [f"{key}\n    e.g. {report.cycles[key]}" if key in report.cycles else key for key in new]
    assert not new, "New structure violations (fix the code; do not add them to KNOWN_VIOLATIONS):\n" + "\n".join(details)


def test_known_violations_are_still_real() -> None:
    gone = sorted(KNOWN_VIOLATIONS - _codebase().keys())
    assert not gone, "Fixed, so remove from KNOWN_VIOLATIONS in tests/test_structure.py:\n" + "\n".join(gone)


# --- the checker itself ---------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_clean_tree_has_no_violation(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/core.py": "def _helper(): ...\ndef public(): return _helper()\n",
            "app/domain/__init__.py": "",
            "app/domain/service.py": "from app import core\nfrom app.core import public\nVALUE = core.public()\n",
            "app/domain/api.py": (
                "import app.domain.service\nfrom . import service as s\nX = s.VALUE, app.domain.service.VALUE, s.__name__\n"
            ),
        },
    )
    report = check(root, "app")
    assert report.keys() == set()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("from app import b\n", "from app import a\n"),
        ("import app.b\n", "def f():\n    from app.a import thing\n"),  # a function-level import counts
        ("from .b import x\n", "from . import a\n"),
    ],
)
def test_a_cycle_is_found_with_its_path(tmp_path: Path, a: str, b: str) -> None:
    root = _tree(tmp_path, {"app/__init__.py": "", "app/a.py": a + "thing = 1\n", "app/b.py": b + "x = 1\n"})
    report = check(root, "app")
    assert report.cycles == {"cycle: app.a <-> app.b": "app.a -> app.b -> app.a"}


def test_a_longer_cycle_reports_every_module_on_it(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app import b\n",
            "app/b.py": "from app import c\n",
            "app/c.py": "from app import a\n",
            "app/d.py": "from app import a\n",  # leads into the cycle, is not on it
        },
    )
    assert check(root, "app").cycles == {"cycle: app.a <-> app.b <-> app.c": "app.a -> app.b -> app.c -> app.a"}


def test_type_checking_imports_make_no_cycle(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app import b\n",
            "app/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.a import Thing\n",
        },
    )
    assert check(root, "app").cycles == {}


def test_private_reach_ins_are_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/service.py": "def _folder(): ...\n_LIMIT = 3\n",
            "app/imports_it.py": "from app.service import _folder, _LIMIT as limit\n",
            "app/calls_it.py": "from app import service\ndef f():\n    return service._folder()\n",
            "app/dotted.py": "import app.service\nX = app.service._LIMIT\n",
            "app/aliased.py": "def f():\n    import app.service as svc\n    return svc._folder\n",
            "app/own.py": "def _mine(): ...\nimport app.own\nX = app.own._mine\n",  # its own names are fine
        },
    )
    assert check(root, "app").private == {
        "private: app.imports_it imports app.service._folder",
        "private: app.imports_it imports app.service._LIMIT",
        "private: app.calls_it uses app.service._folder",
        "private: app.dotted uses app.service._LIMIT",
        "private: app.aliased uses app.service._folder",
    }


def test_only_modules_of_the_package_count(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "import os\nfrom os import _exit\nX = os._exit\n",  # another package's privates are its business
        },
    )
    assert check(root, "app").keys() == set()
