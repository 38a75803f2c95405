"""Mutation testing of the pure core (issue 17): do the tests notice a wrong line?

    python bench/mutate.py                   # every module (about 30 minutes on 2 cores)
    python bench/mutate.py policy autorate   # some modules
    python bench/mutate.py --list policy     # the mutants, without running anything
    python bench/mutate.py --families all --sample 35 --seed 28   # issue 28's sample
    python bench/mutate.py --check-equivalents   # each listed equivalent, differentially

Each mutant changes one thing on one line of one module, as a slip of the hand would: a
comparison (`<` / `<=`, `==` / `!=`, `in` / `not in`), an arithmetic or boolean operator,
a `not` dropped, a number moved by one (or a float doubled), `True` / `False` swapped, a
`return` of a value turned into `return None`, a `continue` / `break` / call statement
dropped. The wider families (issue 28; `--families wide`, or `all`) add what the
first sample missed: a string constant emptied, or a separator swapped for another; a
regular expression's quantifier changed or an anchor dropped; one member dropped from a
literal collection; an `else` branch or a statement deleted; two call arguments swapped;
a keyword argument dropped; `strip`/`lstrip`/`rstrip`, `lower`/`upper`,
`startswith`/`endswith` and `any`/`all` swapped; an operand dropped from `a + b` or
`a and b`. `--sample N --seed S` draws N mutants per module at random, repeatably.
The module's own fast tests then run against it (MODULES below) in a copy of
the project, two mutants at a time, each in a fork of a process that has imported the
third-party libraries already. A mutant is *killed* when they fail (or hang), and
*survives* when they pass. Survivors known to be equivalent (no behaviour can tell them
apart) are listed with their reason in bench/mutation_equivalents.txt, one per line:

    module.py:LINE:operator  why

A survivor of the module's own tests is run again against the wider tests (WIDE: the
engine, CLI and sandbox tests); only one that survives those too counts as surviving.
The score per module is killed / (mutants - equivalent). Nothing here is part of
`python -m pytest`: the result and the command go to bench/README.md.

`--check-equivalents` does not take a listed equivalent on its word: it runs each one and
the original on the same battery, and they must give the same answers. The grammar and
the planner (cells, validation, schema, planning) on every sheet of tests/data and samples
and ~120 edge cells in every field; the rate modules (policy, autorate, dispatch) on
bench/rate_battery.py's scenarios, the real dispatcher on the virtual clock against every
shape of limit and scripted APIs, recording what a run shows.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bulkedit"
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents.txt"

# module -> its tests: its own first (a failure there ends the run early), then the other
# pure-core tests that reach it through the modules above (validate() uses cells and
# schema, planning renders cells back...). All fast: no sandbox, no subprocess.
_CORE_TESTS = ["tests/test_core_boundaries.py", "tests/test_validate.py", "tests/test_cells.py",
               "tests/test_schema.py", "tests/test_plan.py", "tests/test_protocol.py",
               "tests/test_numformat.py", "tests/test_data_tables.py",
               # issue 25's doubtful-sheet rules: loader and validator, no sandbox
               "tests/test_hidden_rows.py", "tests/test_merged_cells.py",
               "tests/test_list_separators.py", "tests/test_locale_numbers.py",
               "tests/test_null_markers.py", "tests/test_csv_text.py",
               "tests/test_html_entities.py", "tests/test_value_hints.py",
               "tests/test_geoloc_order.py"]


def _first(*own: str) -> list[str]:
    return [*own, *(t for t in _CORE_TESTS if t not in own)]


MODULES: dict[str, list[str]] = {
    "schema.py": _first("tests/test_schema.py"),
    "cells.py": _first("tests/test_cells.py", "tests/test_core_boundaries.py"),
    "validation.py": _first("tests/test_validate.py", "tests/test_core_boundaries.py"),
    "planning.py": _first("tests/test_plan.py"),
    "protocol.py": ["tests/test_protocol.py", "tests/test_schema.py"],
    "policy.py": ["tests/test_policy.py", "tests/test_fixed_rate_throttles.py",
                  "tests/test_dispatch_clock.py", "tests/test_settings.py"],
    "autorate.py": ["tests/test_autorate.py"],
    "dispatch.py": ["tests/test_dispatch_clock.py", "tests/test_dispatch_callbacks.py",
                    "tests/test_throttle.py", "tests/test_autorate.py",
                    "tests/test_autorate_shapes.py", "tests/test_policy.py",
                    "tests/test_client.py", "tests/test_dispatch_quota_hold.py",
                    "tests/test_dispatch_retry_counts.py", "tests/test_fixed_rate_throttles.py",
                    "tests/test_dispatch_throttle_paths.py", "tests/test_dispatch_lost_probe.py",
                    "tests/test_dispatch_rate_report.py"],
}
# Where a module lives under bulkedit/ (the default: core/).
PATHS = {"dispatch.py": "client/dispatch.py"}
# A survivor of its module's tests runs against these too (they reach every module through
# the loader, the engine, the client and the CLI; a few minutes each).
WIDE = ["tests/test_data_tables.py", "tests/test_cli.py", "tests/test_apply.py",
        "tests/test_plan.py", "tests/test_real_sheets.py", "tests/test_engine.py",
        "tests/test_read_back.py", "tests/test_client.py", "tests/test_list_separators.py",
        "tests/test_locale_numbers.py", "tests/test_value_hints.py", "tests/test_settings.py",
        "tests/test_sandbox_profiles.py", "tests/test_throttling.py"]


def module_path(module: str) -> str:
    return PATHS.get(module, f"core/{module}")
TIMEOUT = 120.0  # seconds: a mutant that hangs the tests is killed
BATTERY_TIMEOUT = 900.0  # seconds: a mutant that hangs a differential battery differs


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    operator: str  # e.g. "Lt->LtE", "const 3->4", "return None", "drop call"
    source: str  # the whole mutated module

    occurrence: int = 1  # the same operator twice on one line

    @property
    def key(self) -> str:
        suffix = f"#{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.module}:{self.line}:{self.operator}{suffix}"


_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv,
    ast.And: ast.Or, ast.Or: ast.And,
}


def _docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (isinstance(parent, ast.Expr) and isinstance(node, ast.Constant)
            and isinstance(node.value, str))


def _sites(tree: ast.Module, families: frozenset[str] = frozenset({"classic"})
           ) -> Iterator[tuple[ast.AST, str, object]]:
    """(node, operator name, how to mutate it) for every mutation site of `families`."""
    if "classic" in families:
        yield from _classic_sites(tree)
    if "wide" in families:
        yield from _wide_sites(tree)


_SEPARATORS = (",", ";", "|", " ", ", ", ":", "-", "+", "#", "'", "\n", "/", ".", "_", "=")
_ATTR_SWAPS = {"strip": "rstrip", "rstrip": "lstrip", "lstrip": "strip", "lower": "upper",
               "upper": "lower", "casefold": "upper", "startswith": "endswith",
               "endswith": "startswith", "partition": "rpartition", "rpartition": "partition",
               "split": "rsplit", "find": "rfind", "index": "rindex"}
_NAME_SWAPS = {"any": "all", "all": "any", "min": "max", "max": "min"}
_RE_FUNCTIONS = {"compile", "match", "fullmatch", "search", "sub", "subn", "split",
                 "findall", "finditer"}


def _regex_variants(pattern: str) -> Iterator[tuple[str, str]]:
    r"""(operator, mutated pattern) for each quantifier and anchor of a regular expression:
    + and * swapped, a ? dropped, {m,n} opened to {m,}, ^ \A $ \Z dropped. Only those that
    still compile."""
    seen = set()
    for match in re.finditer(r"(?<!\\)(?:[+*]|\?(?![:=!<P])|\{\d+,\d+\}|\^|\$|\\A|\\Z)",
                             pattern):
        text, at = match.group(0), match.start()
        if text == "?" and at > 0 and pattern[at - 1] == "(":
            continue
        if text in "+*":
            new, name = "*" if text == "+" else "+", f"regex {text}->{'*' if text == '+' else '+'}"
        elif text == "?":
            new, name = "", "regex drop ?"
        elif text.startswith("{"):
            new, name = text.split(",")[0] + ",}", "regex {m,n}->{m,}"
        else:
            if text == "^" and at > 0 and pattern[at - 1] == "[":
                continue  # a negated class, not an anchor
            new, name = "", f"regex drop {text}"
        mutated = pattern[:at] + new + pattern[match.end():]
        try:
            re.compile(mutated)
        except re.error:
            continue
        if mutated not in seen:
            seen.add(mutated)
            yield name, mutated


def _regex_constants(tree: ast.Module) -> set[int]:
    """ids of the string constants given to re.compile(), re.match() and the others."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCTIONS and node.args):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(id(first))
            elif isinstance(first, ast.JoinedStr | ast.BinOp):
                found.update(id(n) for n in ast.walk(first) if isinstance(n, ast.Constant))
    return found


def _wide_sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, object]]:
    regexes = _regex_constants(tree)
    for parent in ast.walk(tree):
        for node in ast.iter_child_nodes(parent):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and not _docstring(node, parent)):
                if id(node) in regexes:
                    for name, mutated in _regex_variants(node.value):
                        yield node, name, ("const", mutated)
                elif node.value in _SEPARATORS:
                    index = _SEPARATORS.index(node.value)
                    other = _SEPARATORS[(index + 1) % len(_SEPARATORS)]
                    yield node, f"separator {node.value!r}->{other!r}", ("const", other)
                elif node.value:
                    yield node, "string emptied", ("const", "")
            elif isinstance(node, ast.Set | ast.List | ast.Tuple) and len(node.elts) > 1 and all(
                    isinstance(e, ast.Constant) for e in node.elts):
                for index, element in enumerate(node.elts):
                    yield node, f"drop member {element.value!r}", ("member", index)
            elif isinstance(node, ast.Dict) and len(node.keys) > 1 and all(
                    isinstance(k, ast.Constant) for k in node.keys):
                for index, key in enumerate(node.keys):
                    yield node, f"drop entry {key.value!r}", ("entry", index)  # type: ignore[union-attr]
            elif isinstance(node, ast.If) and node.orelse:
                yield node, "drop else", ("else", None)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.Raise | ast.Return) and (
                    isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.If
                               | ast.For | ast.While | ast.With | ast.Try)):
                yield node, f"drop {type(node).__name__.lower()}", ("drop", None)
            if isinstance(node, ast.Call):
                if len(node.args) >= 2 and not any(isinstance(a, ast.Starred)
                                                   for a in node.args[:2]):
                    yield node, "swap arguments", ("swap", None)
                for index, keyword in enumerate(node.keywords):
                    if keyword.arg is not None:
                        yield node, f"drop keyword {keyword.arg}", ("keyword", index)
                if isinstance(node.func, ast.Attribute) and node.func.attr in _ATTR_SWAPS:
                    new = _ATTR_SWAPS[node.func.attr]
                    yield node, f"{node.func.attr}->{new}", ("attr", new)
                if isinstance(node.func, ast.Name) and node.func.id in _NAME_SWAPS:
                    new = _NAME_SWAPS[node.func.id]
                    yield node, f"{node.func.id}->{new}", ("name", new)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult
                                                          | ast.BitOr | ast.BitAnd):
                yield node, "keep left operand", ("operand", "left")
                yield node, "keep right operand", ("operand", "right")
            if isinstance(node, ast.BoolOp):
                for index in range(len(node.values)):
                    yield node, f"drop operand {index + 1}", ("bool_operand", index)


def _classic_sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, object]]:
    """The first families (issue 17): comparisons, operators, not, numbers, booleans,
    return values, continue/break and call statements."""
    for parent in ast.walk(tree):
        for node in ast.iter_child_nodes(parent):
            if isinstance(node, ast.Compare):
                for index, op in enumerate(node.ops):
                    if type(op) in _SWAPS:
                        yield node, f"{type(op).__name__}->{_SWAPS[type(op)].__name__}", (
                            "ops", index)
            elif (isinstance(node, ast.BinOp | ast.AugAssign)
                  and type(node.op) in _SWAPS) or isinstance(node, ast.BoolOp):
                yield node, f"{type(node.op).__name__}->{_SWAPS[type(node.op)].__name__}", (
                    "op", None)
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                yield node, "drop not", ("not", None)
            elif isinstance(node, ast.Constant) and not _docstring(node, parent):
                value = node.value
                if isinstance(value, bool):
                    yield node, f"{value}->{not value}", ("const", not value)
                elif isinstance(value, int):
                    yield node, f"const {value}->{value + 1}", ("const", value + 1)
                elif isinstance(value, float):
                    new = value * 2 if value else 1.0
                    yield node, f"const {value}->{new}", ("const", new)
            elif isinstance(node, ast.Return) and node.value is not None and not (
                    isinstance(node.value, ast.Constant) and node.value.value is None):
                yield node, "return None", ("return", None)
            elif isinstance(node, ast.Continue | ast.Break):
                yield node, f"drop {type(node).__name__.lower()}", ("drop", None)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                yield node, "drop call", ("drop", None)


def _in_annotation(tree: ast.Module) -> set[int]:
    """ids of nodes inside type annotations and type aliases: never mutated."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.AnnAssign) or (
                isinstance(node, ast.arg) and node.annotation is not None):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            annotations.append(node.returns)
        for annotation in annotations:
            skip.update(id(inner) for inner in ast.walk(annotation))
    return skip


def mutants(module: str, package: Path = PACKAGE,
            families: frozenset[str] = frozenset({"classic"})) -> list[Mutant]:
    path = package / module_path(module)
    text = path.read_text(encoding="utf-8")
    found = []
    count = 0
    while True:
        tree = ast.parse(text)
        skip = _in_annotation(tree)
        sites = [s for s in _sites(tree, families) if id(s[0]) not in skip]
        if count >= len(sites):
            break
        node, operator, (kind, detail) = sites[count]
        count += 1
        line = getattr(node, "lineno", 0)
        if kind == "ops":
            node.ops[detail] = _SWAPS[type(node.ops[detail])]()  # type: ignore[attr-defined, index]
        elif kind == "op":
            node.op = _SWAPS[type(node.op)]()  # type: ignore[attr-defined]
        elif kind == "not":
            replacement = node.operand  # type: ignore[attr-defined]
            _replace(tree, node, replacement)
        elif kind == "const":
            node.value = detail  # type: ignore[attr-defined]
        elif kind == "return":
            node.value = None  # type: ignore[attr-defined]
        elif kind == "drop":
            _replace(tree, node, ast.Pass())
        elif kind == "member":
            del node.elts[detail]  # type: ignore[attr-defined]
        elif kind == "entry":
            del node.keys[detail]  # type: ignore[attr-defined]
            del node.values[detail]  # type: ignore[attr-defined]
        elif kind == "else":
            node.orelse = []  # type: ignore[attr-defined]
        elif kind == "swap":
            args = node.args  # type: ignore[attr-defined]
            args[0], args[1] = args[1], args[0]
        elif kind == "keyword":
            del node.keywords[detail]  # type: ignore[attr-defined]
        elif kind == "attr":
            node.func.attr = detail  # type: ignore[attr-defined]
        elif kind == "name":
            node.func.id = detail  # type: ignore[attr-defined]
        elif kind == "operand":
            _replace(tree, node, getattr(node, detail))  # type: ignore[call-overload]
        elif kind == "bool_operand":
            values = node.values  # type: ignore[attr-defined]
            del values[detail]
            if len(values) == 1:
                _replace(tree, node, values[0])
        ast.fix_missing_locations(tree)
        try:
            source = ast.unparse(tree)
            compile(source, module, "exec")
        except (SyntaxError, ValueError):
            continue
        occurrence = 1 + sum(1 for m in found if (m.line, m.operator) == (line, operator))
        found.append(Mutant(module, line, operator, source, occurrence))
    return found


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[value.index(old)] = new
                return


def _workspace(base: Path, index: int) -> Path:
    work = base / f"w{index}"
    shutil.copytree(ROOT / "bulkedit", work / "bulkedit")
    shutil.copytree(ROOT / "tests", work / "tests")
    # What the wider tests read beside the code: the samples, templates, tools and docs.
    for folder in ("samples", "templates", "tools"):
        shutil.copytree(ROOT / folder, work / folder)
    shutil.copytree(ROOT / "docs", work / "docs")
    for name in ("pyproject.toml", "README.md", "SECURITY.md"):
        shutil.copy(ROOT / name, work / name)
    return work


_WARM = ("pytest", "aiohttp", "aiolimiter", "pyarrow", "pyarrow.csv", "pyarrow.compute",
         "openpyxl", "xlsxwriter", "hypothesis", "python_calamine", "pycountry",
         "zoneinfo")


def _warm_up() -> None:
    """Import the third-party libraries once, here: each mutant's tests run in a fork of
    this process, so they start warm and only import bulkedit (mutated) and the tests.
    bulkedit itself is never imported here."""
    import importlib

    for name in _WARM:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _start(work: Path, mutant: Mutant | None, tests: list[str]) -> int:
    """Fork a child that runs `tests` in `work` with `mutant` written in; its pid."""
    target = work / "bulkedit" / module_path(mutant.module if mutant else "schema.py")
    if mutant is not None:
        target.write_text(mutant.source, encoding="utf-8")
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: quiet, in the copy, with the copy first on the path
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.chdir(work)
        sys.path.insert(0, str(work))
        sys.dont_write_bytecode = True
        import pytest

        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests])
        os._exit(int(code))
    except BaseException:
        os._exit(99)


def _restore(work: Path, mutant: Mutant | None) -> None:
    # From the run's own snapshot, never from the working tree, which may change while
    # the run goes on (a mutant of one version against the tests of another means nothing).
    if mutant is not None:
        (work / "bulkedit" / module_path(mutant.module)).write_text(
            (work.parent / "snapshot" / module_path(mutant.module)).read_text(
                encoding="utf-8"), encoding="utf-8")


def _run_all(spaces: list[Path], todo: list[Mutant | None], tests: list[str],
             timeout: float = TIMEOUT) -> list[bool]:
    """Whether the tests pass against each mutant (True: it survives), `len(spaces)` at a
    time; a child that runs past TIMEOUT is killed (the mutant made the tests hang)."""
    passed: list[bool] = [False] * len(todo)
    running: dict[int, tuple[int, Path, float]] = {}  # pid -> (index, workspace, start)
    free = list(spaces)
    queue = list(enumerate(todo))
    while queue or running:
        while queue and free:
            index, mutant = queue.pop(0)
            work = free.pop()
            running[_start(work, mutant, tests)] = (index, work, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for child, (_, _, began) in list(running.items()):
                if time.monotonic() - began > timeout:
                    os.kill(child, 9)
            time.sleep(0.01)
            continue
        index, work, _ = running.pop(pid)
        passed[index] = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        _restore(work, todo[index])
        free.append(work)
    return passed


def equivalents() -> dict[str, str]:
    known = {}
    if EQUIVALENTS.exists():
        for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, why = line.partition("  ")
                known[key.strip()] = why.strip()
    return known


# The differential check of listed equivalents (`--check-equivalents`): the original and
# each mutant run the same battery, and their answers must be identical. Cells a user or an
# exporter writes that sit on the grammar's edges, tried in every writable field.
EDGE_CELLS = (
    "", " ", "[]", "[ ]", ",", ",,,", " , ", ";", "a,,b", "a, b", "a;b", "a|b", "a\nb",
    "a / b", "#a #b", "+a", "-a", "+a, -b", "a, +b", "+,", "-", "+", "'x", "'=1", "=1",
    "true", "FALSE", "oui", "nao", "pravda", "yes ", "1", "0", "2", "-1", "1.5", "1,5",
    "12.000", "12,000", "1.234.567", "1e3", "0x10", "NULL", "\\N", "nan", "None", "NA",
    "na", "n/a", "2026-12-01", "2026-12-01T18:00:00+01:00", "2026-12-01T18:00Z",
    "01/12/2026", "12/01/2026", "2026//01", "45000", "45000.5", "1796144400", "2026-W49",
    "x8abc12", "X8ABC12", "k1a2b3c4d5", "https://dai.ly/x8abc12",
    "https://www.dailymotion.com/video/x8abc12", "x8abc12, x8abc13", "en", "fr", "FRA",
    "French", "UK", "gb", "deny, fr", "allow, +us", "deny", "allow", "deny,", "fr, deny",
    "9.14W, 38.71N", "-9.14, 38.71", "38.71, -9.14", "200, 100", "&amp;", "Tom &amp; Jerry",
    "caf\u00e9", "cafe\u0301", "a\u200bb", "\u00a0a", "a" * 151, "a" * 256, "b" * 3001,
    ", ".join(f"t{n}" for n in range(151)), "sport", "SPORT", "sprot", "kids", "vod",
    "https://example.com/t.jpg", "ftp://x", "FR-6V8-21-83311",
)
# Live values the battery plans against: one with values, one empty.
EDGE_LIVES = (
    {"id": "x8abc12", "title": " Summer ", "description": "", "tags": ["a", "Concert"],
     "channel": "travel", "country": "FR", "private": False, "publish_date": None,
     "expiry_date": 1796144400, "geoblocking": ["deny", "fr"], "geoloc": [-9.14, 38.71],
     "soundtrack_popularity": 7, "explicit": False, "language": "en", "hashtags": [],
     "custom_classification": ["x"], "player_next_videos": ["x8abc13"]},
    {"id": "x8abc12"},
)
NOW = 1748736000  # 2025-06-01, so the battery's dates are in the future


def battery(root: Path) -> tuple[str, int]:
    """A digest of everything the grammar and the planner say about the project's own
    sheets and EDGE_CELLS, under several reading options; and how many answers it holds.
    Runs in a fork whose bulkedit is the (mutated) copy."""
    import hashlib
    import io

    from bulkedit.core.planning import plan_row
    from bulkedit.core.schema import FIELDS
    from bulkedit.core.validation import ValidationOptions, validate
    from bulkedit.sheets.load import load_sheet

    digest, count = hashlib.sha256(), 0
    choices = (ValidationOptions(now=NOW),
               ValidationOptions(now=NOW, decimal_separator=",", split_lists=True,
                                 date_order="dmy", allow_irreversible=True,
                                 allow_live_fields=True, allow_past_expiry=True),
               ValidationOptions(now=NOW, decimal_separator=".", date_order="mdy"))

    def note(*parts: object) -> None:
        nonlocal count
        count += 1
        digest.update(repr(parts).encode())

    def run(sheet: object) -> None:
        for options in choices:
            result = validate(sheet, options)  # type: ignore[arg-type]
            note(result.issues, result.valid_count)
            for typed in result.rows():
                note(typed)
                for live in EDGE_LIVES:
                    plan = plan_row(typed, live)
                    note(plan.status, plan.form, plan.diffs, plan.problems)

    sheets = sorted(p for folder in (root / "tests" / "data", root / "samples")
                    if folder.exists() for p in folder.rglob("*")
                    if p.suffix.lower() in (".csv", ".xlsx", ".ods", ".tsv", ".txt"))
    for path in sheets:
        try:
            run(load_sheet(path))
        except Exception as error:  # a refused sheet: its refusal is the answer
            note(path.name, type(error).__name__, str(error))
    for name, spec in FIELDS.items():
        text = "video_id," + name + "\n" + "".join(
            f"x8e{n:05d},\"{cell.replace(chr(34), chr(34) * 2)}\"\n"
            for n, cell in enumerate((*EDGE_CELLS, spec.example)))
        try:
            run(load_sheet(io.BytesIO(text.encode()), name=f"{name}.csv"))
        except Exception as error:
            note(name, type(error).__name__, str(error))
    return digest.hexdigest(), count


def _battery_in(work: Path, mutant: Mutant | None,
                which: Callable[[Path], tuple[str, int]] = battery) -> tuple[str, int] | None:
    """The digest of battery `which` in a fork of this process with `mutant` written into
    `work` (None when the child died or ran past TIMEOUT: the mutant is not equivalent)."""
    target = work / "bulkedit" / module_path(mutant.module if mutant else "schema.py")
    if mutant is not None:
        target.write_text(mutant.source, encoding="utf-8")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.chdir(work)
            sys.path.insert(0, str(work))
            sys.dont_write_bytecode = True
            signal.alarm(int(BATTERY_TIMEOUT))  # a mutant that hangs it is not equivalent
            answer = which(work)
            os.write(write, json.dumps(answer).encode())
            os._exit(0)
        except BaseException:
            import traceback

            os.write(write, json.dumps(traceback.format_exc()).encode())
            os._exit(99)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    _restore(work, mutant)
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        if mutant is None:  # the original must pass: say why it did not
            print(json.loads(data) if data else f"the battery died (status {status})",
                  file=sys.stderr)
        return None
    digest, count = json.loads(data)
    return digest, count


# Modules the battery reaches (the grammar and the planner), and those the rate battery
# reaches (bench/rate_battery.py: the dispatcher, its policies and the rate finder on the
# virtual clock); the equivalents of the others stand on their reasons and their tests.
DIFFERENTIAL = ("cells.py", "validation.py", "schema.py", "planning.py")
RATE_DIFFERENTIAL = ("policy.py", "autorate.py", "dispatch.py")


def _rate_battery(work: Path) -> tuple[str, int]:
    from rate_battery import rate_battery  # bench/ is this script's folder: on the path

    return rate_battery(work)


def check_equivalents(names: list[str]) -> int:
    """Each listed equivalent of `names` against the original on the battery: 0 when
    every one gives the same answers, 1 when one differs (it is not equivalent)."""
    known = equivalents()
    _warm_up()
    base = Path(tempfile.mkdtemp(prefix="bulkedit-equivalents-"))
    work = _workspace(base, 0)
    shutil.copytree(work / "bulkedit", base / "snapshot")
    differ = 0
    originals: dict[object, tuple[str, int]] = {}
    try:
        for name in names:
            if name not in DIFFERENTIAL + RATE_DIFFERENTIAL:
                print(f"{name}: not reached by the battery; its equivalents stand on their "
                      "reasons", flush=True)
                continue
            which = battery if name in DIFFERENTIAL else _rate_battery
            if which not in originals:
                answer = _battery_in(work, None, which)
                assert answer is not None, "the battery fails on the original code"
                originals[which] = answer
                label = "battery" if which is battery else "rate battery"
                print(f"{label}: {answer[1]} answers", flush=True)
            original = originals[which]
            every = frozenset({"classic", "wide"})
            listed = {m.key: m for m in mutants(name, base / "snapshot", every)
                      if m.key in known}
            for key in sorted(k for k in known if k.startswith(f"{name}:")):
                mutant = listed.get(key)
                if mutant is None:
                    print(f"  {key}: no such mutant now (the line moved?)", flush=True)
                    differ += 1
                    continue
                verdict = _battery_in(work, mutant, which)
                same = verdict is not None and verdict[0] == original[0]
                differ += not same
                print(f"  {key}: {'same answers' if same else 'DIFFERS: not equivalent'}",
                      flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if differ else 0


def _option(argv: list[str], name: str, default: str | None = None) -> str | None:
    if name in argv:
        return argv[argv.index(name) + 1]
    return default


def _families(text: str) -> frozenset[str]:
    chosen = {"classic": {"classic"}, "wide": {"wide"}, "all": {"classic", "wide"}}
    if text not in chosen:
        raise SystemExit(f"--families {text}: choose classic, wide or all")
    return frozenset(chosen[text])


def drawn(name: str, all_mutants: list[Mutant], sample: int | None, seed: str) -> list[Mutant]:
    """Every mutant, or `sample` of them drawn at random: the same draw for the same seed
    and module, whatever else the run does."""
    if sample is None or sample >= len(all_mutants):
        return all_mutants
    return random.Random(f"{seed}:{name}").sample(all_mutants, sample)


def main(argv: list[str]) -> None:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return
    unknown = [a for a in argv if a.startswith("-") and a not in (
        "--list", "--families", "--sample", "--seed", "--check-equivalents")]
    if unknown:
        raise SystemExit(f"{' '.join(unknown)}: unknown option (python bench/mutate.py --help)")
    listing = "--list" in argv
    values = {_option(argv, flag) for flag in ("--families", "--sample", "--seed")}
    names = [a if a.endswith(".py") else f"{a}.py" for a in argv
             if not a.startswith("--") and a not in values]
    names = names or list(MODULES)
    families = _families(_option(argv, "--families", "classic") or "classic")
    sample_text = _option(argv, "--sample")
    sample = int(sample_text) if sample_text else None
    seed = _option(argv, "--seed", "0") or "0"
    known = equivalents()
    if "--check-equivalents" in argv:
        raise SystemExit(check_equivalents(names))
    if listing:
        for name in names:
            for mutant in drawn(name, mutants(name, families=families), sample, seed):
                print(mutant.key)
        return
    _warm_up()
    base = Path(tempfile.mkdtemp(prefix="bulkedit-mutate-"))
    workers = max(1, min(2, os.cpu_count() or 1))
    spaces = [_workspace(base, i) for i in range(workers)]
    shutil.copytree(spaces[0] / "bulkedit", base / "snapshot")
    report: dict[str, dict[str, object]] = {}
    started = time.monotonic()
    wide_checked = False
    try:
        for name in names:
            tests = MODULES[name]
            if not _run_all(spaces[:1], [None], tests)[0]:
                raise SystemExit(f"{name}: its tests fail without any mutant")
            if not wide_checked:  # else every survivor would be "killed" by a broken copy
                if not _run_all(spaces[:1], [None], WIDE, 900.0)[0]:
                    raise SystemExit("the wider tests fail without any mutant")
                wide_checked = True
            todo = drawn(name, mutants(name, base / "snapshot", families), sample, seed)
            survivors, equivalent, by_wide = [], [], []
            first = [m for m, survived in zip(todo, _run_all(spaces, list(todo), tests),
                                              strict=True) if survived]
            # A survivor of the module's own tests meets the wider ones.
            for mutant in first:
                if mutant.key in known:
                    equivalent.append(mutant.key)
            rest = [m for m in first if m.key not in known]
            for mutant, survived in zip(rest, _run_all(spaces, list(rest), WIDE, 900.0),
                                        strict=True):
                (survivors if survived else by_wide).append(mutant.key)
            counted = len(todo) - len(equivalent)
            killed = counted - len(survivors)
            report[name] = {"mutants": len(todo), "killed": killed,
                            "killed_by_wide_tests": len(by_wide),
                            "equivalent": len(equivalent),
                            "score": round(killed / counted, 3) if counted else 1.0,
                            "survivors": survivors, "equivalents_met": equivalent}
            print(f"{name}: {len(todo)} mutants, {killed} killed ({len(by_wide)} by the wider "
                  f"tests), {len(equivalent)} equivalent, score {report[name]['score']:.1%}",
                  flush=True)
            for key in survivors:
                print(f"  survived {key}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    out = Path(__file__).resolve().parent / "data" / "mutation.json"
    out.parent.mkdir(exist_ok=True)
    report["_run"] = {"seconds": round(time.monotonic() - started), "families": sorted(families),
                      "sample": sample, "seed": seed}
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
