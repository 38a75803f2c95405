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


# The layers, lowest first, and what each may import of bulkedit (DESIGN.md §2; the
# folders' __init__ docstrings say the same). "bulkedit" is the package itself (its
# __version__), "api" the public Python API module.
LAYERS: dict[str, set[str]] = {
    "core": {"core"},
    "client": {"core", "client"},
    "sheets": {"core", "sheets"},
    "sandbox": {"core", "sandbox"},
    "run": {"core", "client", "sheets", "run"},
    "api": {"core", "client", "sheets", "run", "sandbox", "api"},
    "serve": {"core", "sheets", "run", "serve"},  # the review page calls the library, never the CLI
    "cli": {"bulkedit", "core", "client", "sheets", "run", "sandbox", "serve", "cli"},
    "bulkedit": {"bulkedit", "core", "run", "api"},
}
# Libraries that do I/O or belong to one edge, and the layers allowed to import them.
LIBRARIES: dict[str, set[str]] = {
    "aiohttp": {"client", "sandbox", "serve"}, "jinja2": {"serve"},
    "aiolimiter": {"client"}, "yarl": {"client"},
    "openpyxl": {"sheets"}, "python_calamine": {"sheets"}, "pyarrow.csv": {"sheets"},
    "pandas": {"api"}, "tqdm": {"cli"}, "argparse": {"cli", "sandbox"},
    "sqlite3": {"run", "sandbox"}, "socket": {"run"}, "fcntl": {"run"},
    "subprocess": set(), "requests": set(), "urllib.request": set(), "http.client": set(),
}


def _imports_of_bulkedit() -> dict[str, set[str]]:
    """Every bulkedit module and what it imports (bulkedit modules by their full name, and
    other libraries), function-level imports included."""
    import ast

    package = ROOT / "bulkedit"
    modules = {".".join(("bulkedit", *p.relative_to(package).with_suffix("").parts))
               .removesuffix(".__init__"): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from bulkedit.core import protocol` imports the module bulkedit.core.protocol
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    imported.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        graph[name] = imported
    return graph


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "bulkedit":
        return parts[0]
    if module == "bulkedit.__main__":
        return "cli"
    return parts[1] if len(parts) > 1 else "bulkedit"


def layering_breaks(graph: dict[str, set[str]]) -> list[str]:
    breaks = []
    for module, imported in sorted(graph.items()):
        layer = layer_of(module)
        for name in sorted(imported):
            if name.startswith("bulkedit"):
                if layer_of(name) not in LAYERS[layer]:
                    breaks.append(f"{module} ({layer}) imports {name} ({layer_of(name)})")
                continue
            for library, allowed in LIBRARIES.items():
                if (name == library or name.startswith(library + ".")) and layer not in allowed:
                    breaks.append(f"{module} ({layer}) imports {name}: only {sorted(allowed)}")
    return breaks


def test_each_layer_imports_only_the_layers_below_it():
    """The folders show the architecture; this keeps them honest: the core imports nothing
    above it and no I/O library, the client and the sheets do not know each other, the run
    never reaches for the CLI, pandas stays in the public API, tqdm in the CLI."""
    graph = _imports_of_bulkedit()
    assert {layer_of(m) for m in graph} <= set(LAYERS), sorted(graph)
    assert layering_breaks(graph) == []


def test_the_layering_check_sees_a_break():
    """The rule itself bites: an upward import and a misplaced library are reported."""
    graph = {"bulkedit.core.cells": {"bulkedit.run.runner", "re"},
             "bulkedit.run.runner": {"bulkedit.core.cells", "openpyxl.utils"},
             "bulkedit.sheets.load": {"bulkedit.client.fetch", "pyarrow.compute"}}
    assert layering_breaks(graph) == [
        "bulkedit.core.cells (core) imports bulkedit.run.runner (run)",
        "bulkedit.run.runner (run) imports openpyxl.utils: only ['sheets']",
        "bulkedit.sheets.load (sheets) imports bulkedit.client.fetch (client)",
    ]


def test_no_module_imports_itself_back():
    """No import cycle between bulkedit's modules, function-level imports included (resume
    and runner used to import each other)."""
    full = _imports_of_bulkedit()
    graph = {m: {i for i in imported if i in full} for m, imported in full.items()}

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
