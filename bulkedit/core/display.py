"""How a result reads to a person in Python: counts in the words the command line uses, a
duration rounded to what an estimate can promise, and short escaped HTML tables for a
notebook. Pure: text in, text out.

The words of the counts are never made up here: a plan's rows are counted by their plan
status (change, noop, refused, not_found, invalid, conflict), as `bulkedit plan` and the
diff report name them; an apply's rows by their #status (updated, sent, unchanged, failed,
invalid, skipped, conflict), as `bulkedit apply`, the results sheet and the summary do.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

# What a notebook table shows at most; the rest is one `.to_pandas()` away.
HTML_ROWS = 20
_CELL_WIDTH = 200


def count_words(counts: Mapping[str, int]) -> str:
    """`{"noop": 890, "change": 310}` -> "310 change, 890 noop": the command line's order
    (by word) and words, with the thousands grouped."""
    return ", ".join(f"{count:,} {word}" for word, count in sorted(counts.items()))


def counted(count: int, noun: str) -> str:
    """`counted(1, "row")` -> "1 row", `counted(1204, "row")` -> "1,204 rows"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def rounded_duration(seconds: float) -> str:
    """A duration as precise as an estimate of it is: "under a second", "42 s",
    "2 min 10 s" (to 10 s below ten minutes), "14 min", "1 h 25 min" (to 5 min below ten
    hours), "13 h"."""
    steps = ((60, 1), (600, 10), (3600, 60), (36000, 300))
    step = next((step for below, step in steps if seconds < below), 3600)
    total = round(seconds / step) * step
    if total < 1:
        return "under a second"
    hours, rest = divmod(total, 3600)
    minutes, left = divmod(rest, 60)
    parts = [f"{hours:,} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{left} s" if left else ""]
    return " ".join(part for part in parts if part)


def clipped(text: str, width: int) -> str:
    """One line of at most `width` characters (a long text ends in "…")."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def short_source(source: str, width: int = 48) -> str:
    """A sheet's name for a one-line repr: a long path keeps its end, where the file is."""
    return source if len(source) <= width else "…" + source[-(width - 1):]


def html_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
               more: str = "", total: int | None = None) -> str:
    """A small table for a notebook: `title` above it, the first HTML_ROWS rows, and a line
    saying how many more there are of `total` (default: all the rows given; `more` says
    where they are). Every text is escaped: a cell that holds markup shows it, never runs."""
    text = html.escape
    total = len(rows) if total is None else total
    out = [f"<div class='bulkedit'><p>{text(title)}</p>"]
    if rows:
        out.append("<table><thead><tr>"
                   + "".join(f"<th>{text(h)}</th>" for h in headers) + "</tr></thead><tbody>")
        for row in rows[:HTML_ROWS]:
            out.append("<tr>" + "".join(
                f"<td>{text(clipped('' if cell is None else str(cell), _CELL_WIDTH))}</td>"
                for cell in row) + "</tr>")
        out.append("</tbody></table>")
        shown = min(len(rows), HTML_ROWS)
        if total > shown:
            out.append(f"<p>… and {total - shown:,} more"
                       + (f" ({text(more)})" if more else "") + "</p>")
    out.append("</div>")
    return "".join(out)
