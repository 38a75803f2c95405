"""ruff is part of the test command, so a lint error fails CI like any other test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "--quiet", str(ROOT)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_and_the_public_api_type_check_strictly():
    """mypy --strict over the files [tool.mypy] names (pyproject.toml)."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).parent / "mypy")
    result = subprocess.run([mypy, "--no-incremental"], capture_output=True, text=True,
                            check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_imports_itself_back():
    """No import cycle between bulkedit's modules, function-level imports included (resume
    and runner used to import each other)."""
    import ast

    package = ROOT / "bulkedit"
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        name = ".".join(("bulkedit", *path.relative_to(package).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bulkedit"):
                imported |= ({f"bulkedit.{a.name}" for a in node.names}
                             if node.module == "bulkedit" else {node.module or ""})
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("bulkedit.")}
        graph[name] = imported & set(graph) | {m for m in imported if m.startswith("bulkedit")}

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for m in graph if (c := cycle_from(m))]
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)
