"""The dry-run diff report: for each row and field, the live value and the new one.

Two forms of the same content (DESIGN.md §5): an XLSX for people who work in
Excel (changed cells highlighted, a summary sheet), and one self-contained HTML
page (no external assets) with the changed text highlighted, a status filter and
sortable columns, light enough for 10,000 rows.
"""

from __future__ import annotations

import difflib
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkedit.core.cells import to_cell
from bulkedit.core.outcomes import RunResult
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import UnknownValue
from bulkedit.sheets.files import atomic_path, spooled_beside, write_text
from bulkedit.sheets.report import xlsx_text

_TOKENS = re.compile(r"\s+|[^\s,]+|,")


@dataclass(frozen=True)
class ReportRow:
    row: int
    video_id: str
    status: str
    note: str
    cells: dict[str, tuple[str, str, bool]]  # field -> (live, new, changed)


def report_rows(result: RunResult) -> tuple[list[str], list[ReportRow]]:
    """The touched fields, in schema order, and one report row per sheet row."""
    touched = {name for plan in result.plans.values() for name in
               (d.field for d in plan.diffs)}
    for row in result.validation.rows():
        touched.update(row.changes)
    fields = [name for name in FIELDS if name in touched]
    rows: list[ReportRow] = []
    for position, outcome in enumerate(result.outcomes):
        plan = result.plans.get(position)
        status = result.plan_status(position)
        cells: dict[str, tuple[str, str, bool]] = {}
        if plan is not None:
            for diff in plan.diffs:
                spec = FIELDS[diff.field]
                live = ("(not readable)" if isinstance(diff.old, UnknownValue)
                        else spec.shown(to_cell(spec, diff.old)))
                cells[diff.field] = (live, spec.shown(to_cell(spec, diff.new)), True)
        note = outcome.error
        if status in ("change", "noop"):  # only what planning warned of
            note = note[note.find("warning:"):] if "warning:" in note else ""
        rows.append(ReportRow(outcome.row, outcome.video_id or "", status, note, cells))
    return fields, rows


def field_counts(rows: Sequence[ReportRow]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(name for name, (_, _, changed) in row.cells.items() if changed)
    return counts


# ----------------------------------------------------------------------------- XLSX

def write_xlsx(path: Path, result: RunResult) -> None:
    with spooled_beside(path):  # openpyxl's spool beside the report, never in $TMPDIR
        _write_xlsx(path, result)


def _write_xlsx(path: Path, result: RunResult) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    fields, rows = report_rows(result)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Plan")
    sheet.freeze_panes = "D2"
    bold = Font(bold=True)
    new_fill = PatternFill("solid", fgColor="FFF2A8")
    old_fill = PatternFill("solid", fgColor="F8D7DA")

    def text(value: Any, fill: PatternFill | None = None, font: Font | None = None
             ) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=xlsx_text(value) if isinstance(value, str)
                             else value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula
        if fill is not None:
            cell.fill = fill
        if font is not None:
            cell.font = font
        return cell

    headers = ["row", "video_id", "status"]
    for name in fields:
        headers += [f"{name} (live)", f"{name} (new)"]
    headers.append("note")
    sheet.append([text(h, font=bold) for h in headers])
    for row in rows:
        line = [text(row.row), text(row.video_id), text(row.status)]
        for name in fields:
            live, new, changed = row.cells.get(name, ("", "", False))
            line += [text(live, old_fill if changed else None),
                     text(new, new_fill if changed else None)]
        line.append(text(row.note))
        sheet.append(line)
    summary = book.create_sheet("Summary")
    summary.append([text("status", font=bold), text("rows", font=bold)])
    for status, count in sorted(Counter(r.status for r in rows).items()):
        summary.append([text(status), text(count)])
    summary.append([])
    summary.append([text("field", font=bold), text("changes", font=bold)])
    for name, count in field_counts(rows).most_common():
        summary.append([text(name), text(count)])
    with atomic_path(path) as temporary:
        book.save(temporary)


# ----------------------------------------------------------------------------- HTML

_EMPTY = "<span class='empty'>empty</span>"


def _shown(value: str) -> str:
    return _EMPTY if value == "[]" else html.escape(value)


def _marked(old: str, new: str) -> tuple[str, str]:
    """Both values as HTML, with removed words in <del> and added words in <ins>."""
    if old == "[]" or new == "[]":
        return (_EMPTY if old == "[]" else f"<del>{html.escape(old)}</del>",
                _EMPTY if new == "[]" else f"<ins>{html.escape(new)}</ins>")
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    left: list[str] = []
    right: list[str] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        gone = html.escape("".join(before[a1:a2]))
        came = html.escape("".join(after[b1:b2]))
        if op == "equal":
            left.append(gone)
            right.append(came)
            continue
        if gone:
            left.append(f"<del>{gone}</del>")
        if came:
            right.append(f"<ins>{came}</ins>")
    return "".join(left), "".join(right)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f}
h1{font-size:1.4em;margin:0 0 .3em}
.summary{margin:.5em 0 1em;color:#444}
.summary span{display:inline-block;margin-right:1.2em}
table{border-collapse:separate;border-spacing:0;width:max-content}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;white-space:pre-wrap;
overflow-wrap:anywhere;min-width:6em;max-width:26em;background:#fff}
th{background:#1f4e78;color:#fff;position:sticky;top:0;cursor:pointer;user-select:none;
white-space:nowrap;z-index:2}
th:nth-child(-n+3),td:nth-child(-n+3){position:sticky;z-index:1}
th:nth-child(-n+3){z-index:3}
th:nth-child(1),td:nth-child(1){left:0;min-width:3em}
th:nth-child(2),td:nth-child(2){left:3.9em;min-width:6em}
th:nth-child(3),td:nth-child(3){left:10.4em;min-width:5em;border-right:2px solid #1f4e78}
.empty{color:#999;font-style:italic}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tbody tr{content-visibility:auto;contain-intrinsic-size:auto 28px}
tbody tr:nth-child(even) td{background:#fafafa}
tbody tr td.changed.live{background:#fdecee}tbody tr td.changed.new{background:#fff8d6}
del{background:#f5b5bc;text-decoration:line-through}ins{background:#c9efc0;text-decoration:none}
.status-change{color:#8a5a00;font-weight:600}.status-noop{color:#777}
.status-not_found,.status-failed,.status-invalid,.status-refused,.status-conflict{color:#b00020;font-weight:600}
label{margin-right:1em}
"""

_SCRIPT = """
(function(){
  var table=document.getElementById('plan'), body=table.tBodies[0];
  var select=document.getElementById('status-filter'), shown=document.getElementById('shown');
  function apply(){
    var want=select.value, n=0;
    for (var r of body.rows){ var ok=!want||r.dataset.status===want;
      r.hidden=!ok; if(ok) n++; }
    shown.textContent=n;
  }
  function sortBy(index, descending){
    var rows=Array.from(body.rows), numeric=index===0;
    rows.sort(function(a,b){
      var x=a.cells[index].textContent, y=b.cells[index].textContent;
      var c=numeric?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);
      return descending?-c:c; });
    for (var r of rows) body.appendChild(r);
    for (var th of table.tHead.rows[0].cells) th.className='';
    table.tHead.rows[0].cells[index].className=descending?'sorted-desc':'sorted-asc';
  }
  Array.from(table.tHead.rows[0].cells).forEach(function(th,i){
    th.addEventListener('click',function(){
      sortBy(i, th.className==='sorted-asc'); }); });
  select.addEventListener('change',apply);
  var hash=new URLSearchParams(location.hash.slice(1));
  if(hash.has('status')) select.value=hash.get('status');
  if(hash.has('sort')){ var names=Array.from(table.tHead.rows[0].cells).map(
    function(th){return th.dataset.key;}); var i=names.indexOf(hash.get('sort'));
    if(i>=0) sortBy(i, hash.get('order')==='desc'); }
  apply();
})();
"""


def write_html(path: Path, result: RunResult, title: str, footer: str = "") -> None:
    fields, rows = report_rows(result)
    statuses = Counter(r.status for r in rows)
    counts = field_counts(rows)
    out: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><div class='summary'>",
        *(f"<span><b>{n}</b> {html.escape(s)}</span>" for s, n in sorted(statuses.items())),
        "<br>",
        *(f"<span>{html.escape(f)}: <b>{n}</b></span>" for f, n in counts.most_common()),
        f"<br>{html.escape(footer)}</div>",
        "<label>Status <select id='status-filter'><option value=''>all</option>",
        *(f"<option value='{html.escape(s)}'>{html.escape(s)} ({n})</option>"
          for s, n in sorted(statuses.items())),
        f"</select></label> <span id='shown'>{len(rows)}</span> rows shown",
        "<table id='plan'><thead><tr><th data-key='row'>row</th>"
        "<th data-key='video'>video</th><th data-key='status'>status</th>",
    ]
    for name in fields:
        key = html.escape(name)
        out.append(f"<th data-key='{key}.live'>{key} (live)</th>"
                   f"<th data-key='{key}.new'>{key} (new)</th>")
    out.append("<th data-key='note'>note</th></tr></thead><tbody>")
    for row in rows:
        status = html.escape(row.status)
        out.append(f"<tr data-status='{status}'><td>{row.row}</td>"
                   f"<td>{html.escape(row.video_id)}</td>"
                   f"<td class='status-{status}'>{status}</td>")
        for name in fields:
            live, new, changed = row.cells.get(name, ("", "", False))
            if changed:
                left, right = _marked(live, new)
                out.append(f"<td class='changed live'>{left}</td>"
                           f"<td class='changed new'>{right}</td>")
            else:
                out.append(f"<td>{_shown(live)}</td><td>{_shown(new)}</td>")
        out.append(f"<td>{html.escape(row.note)}</td></tr>")
    out.append(f"</tbody></table><script>{_SCRIPT}</script></body></html>\n")
    write_text(path, "".join(out))
