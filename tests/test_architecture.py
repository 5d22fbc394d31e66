"""Dependencies point down: the core never imports the shell, and no two modules import each other.

Read from the source with ``ast`` (every import statement, at module level or inside a function).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "lineage", "audits", "reports", "jobs")
CORE = ("core", "lineage", "audits", "reports")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Product modules imported by one module (``from a import b`` counts ``a.b`` if a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {n: _imports(n, p, known) for n, p in mods.items()}


def test_the_core_never_imports_the_shell():
    offenders = sorted(
        f"{m} imports {t}"
        for m, targets in _graph().items()
        if m.split(".")[0] in CORE
        for t in targets
        if t.split(".")[0] == "jobs"
    )
    assert offenders == []


def test_core_errors_import_nothing_of_the_product():
    assert _graph()["core.errors"] == set()


def test_there_is_no_import_circle():
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t.startswith(m + ".") or m.startswith(t + "."):
                continue  # a package and its own modules
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert cycles == []


def test_every_nightly_step_lives_in_its_own_module_under_jobs_steps():
    from jobs.registry import STEPS

    for step in STEPS:
        assert (ROOT / "jobs" / "steps" / f"{step.name}.py").is_file(), step.name
        assert step.run.__module__ == "jobs.registry"  # a lazy-import wrapper per step
    wrappers = (ROOT / "jobs" / "registry.py").read_text(encoding="utf-8")
    for step in STEPS:
        assert f"from jobs.steps.{step.name} import" in wrappers, step.name


def test_no_module_is_left_flat_in_jobs_that_belongs_to_a_subpackage():
    flat = sorted(p.name for p in (ROOT / "jobs").glob("*.py"))
    assert flat == [
        "__init__.py",
        "_noop.py",
        "cli.py",
        "context.py",
        "delta_jars.py",
        "errors.py",
        "pipeline.py",
        "registry.py",
        "runner.py",
        "s3a_jars.py",  # the sibling of delta_jars.py: `python -m jobs.s3a_jars`
    ]
