"""The shape of the package: short functions, no modules that import each other, no upward imports.

Read from the source with ``ast`` (nothing is imported), so these run in a fraction of a second.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mobseg"

#: Functions allowed over :data:`MAX_FUNCTION_LINES`, as "path:function" (keep it short; say why).
LONG_FUNCTIONS_ALLOWED: set[str] = set()
MAX_FUNCTION_LINES = 80


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    modules = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    return skipped


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports anywhere (also inside functions), TYPE_CHECKING aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in modules)
    return {m for m in found if m in modules and m != name}


def _graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = _modules(package)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_function_is_longer_than_80_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                key = f"{path.relative_to(PACKAGE.parent)}:{node.name}"
                if lines > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS_ALLOWED:
                    long.append(f"{key} ({lines} lines)")
    assert not long, "split these into named steps: " + ", ".join(long)


def test_no_two_modules_import_each_other():
    graph = _graph()
    assert "mobseg.model" in graph and "mobseg.zoo.registry" in graph  # the walk found the package
    pairs = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, ())})
    assert not pairs, f"modules that import each other: {pairs}"


def test_no_module_imports_its_own_package():
    graph = _graph()
    upward = sorted((a, b) for a in graph for b in graph[a] if a.startswith(b + "."))
    assert not upward, f"modules importing a package above them: {upward}"


def test_the_checks_see_a_cycle_when_there_is_one(tmp_path):
    """The import walker itself: lazy imports count, TYPE_CHECKING imports do not."""
    package = tmp_path / "mobseg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from mobseg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from mobseg import a\n")
    (package / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n")
    graph = _graph(package)
    assert graph["mobseg.a"] == {"mobseg.sub", "mobseg.sub.b"}
    assert graph["mobseg.sub.b"] == {"mobseg", "mobseg.a"}
    assert graph["mobseg.sub.c"] == set()


def test_every_slow_entry_names_an_existing_test():
    """Each ``SLOW_TESTS`` entry in conftest names a test function that exists (a renamed test would silently
    move back into the default run)."""
    from conftest import SLOW_TESTS

    root = Path(__file__).resolve().parents[1]
    missing = []
    for entry in SLOW_TESTS:
        path, name = entry.split("::")
        source = root / path
        if not source.is_file() or f"def {name.split('[')[0]}(" not in source.read_text():
            missing.append(entry)
    assert not missing, f"SLOW_TESTS entries without a test: {missing}"
