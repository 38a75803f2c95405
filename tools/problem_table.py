"""Write the docs' table of problems from the registry (bulkedit/core/problems.py).

    python tools/problem_table.py          # rewrite the table in docs/sheet.md
    python tools/problem_table.py --check  # exit 1 when docs/sheet.md's table is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from bulkedit.core.problems import PROBLEMS

README = Path(__file__).resolve().parent.parent / "docs" / "sheet.md"
START, END = "<!-- problems:start -->", "<!-- problems:end -->"


def table() -> str:
    rows = [f"| `{p.code}` | {p.title} | {p.fix} |" for p in PROBLEMS.values()]
    return "\n".join(["| code | problem | fix |", "|---|---|---|", *rows])


def rewritten(text: str) -> str:
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table()}\n{END}{after}"


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    new = rewritten(text)
    if "--check" in argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
