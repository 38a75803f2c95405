"""Which tab of a workbook holds the edits, when --sheet does not say (issue 25).

A workbook may hold a README, last week's edits beside this week's, or a lookup list. The
sheet read is the one visible worksheet with an id column (an id header among its first
20 non-blank rows, as sheets/grid.py finds the header); two such sheets are a doubt bulkedit
refuses to settle, naming them, the active tab and the first.
"""

from __future__ import annotations

import re
import zipfile
from typing import Any

from bulkedit.core.cells import remove_invisible
from bulkedit.core.errors import LoadError
from bulkedit.core.schema import is_id_alias
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.source import SheetInput

_HEADER_ROWS = 20
_ACTIVE_XLSX = re.compile(rb"<(?:[\w.-]+:)?workbookView(?=[\s/>])[^>]*?\sactiveTab\s*=\s*"
                          rb"""["']([0-9]+)""")
_ACTIVE_ODS = re.compile(rb"""config:name\s*=\s*["']ActiveTable["'][^>]*>([^<]*)<""")


def has_id_header(worksheet: Any) -> bool:
    """Whether one of the sheet's first 20 non-blank rows names the id column."""
    seen = 0
    for row in worksheet.iter_rows():
        texts = [remove_invisible(v)[0].strip() for v in row if v.__class__ is str]
        if not any(texts) and all(v.__class__ is str for v in row):
            continue  # a blank row
        if any(is_id_alias(t) for t in texts):
            return True
        seen += 1
        if seen >= _HEADER_ROWS:
            return False
    return False


def active_sheet(source: SheetInput, fmt: str, names: list[str]) -> str | None:
    """The tab the workbook opens on, if it says."""
    try:
        with source.binary() as handle, zipfile.ZipFile(handle) as archive:
            if fmt == "xlsx":
                m = _ACTIVE_XLSX.search(archive.read("xl/workbook.xml"))
                index = int(m[1]) if m else 0
                return names[index] if index < len(names) else None
            if "settings.xml" not in archive.NameToInfo:
                return None
            m = _ACTIVE_ODS.search(archive.read("settings.xml"))
            return m[1].decode("utf-8", "replace") if m else None
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None


def choose_sheet(label: str, book: Any, visible: list[str], active: str | None
                 ) -> tuple[str, Any, Issue | None]:
    """The name and loaded worksheet of the sheet to read among several visible ones, and
    the warning that says which and why."""
    loaded = {name: book.get_sheet_by_name(name) for name in visible}
    with_ids = [name for name in visible if has_id_header(loaded[name])]
    quoted = ", ".join(f"'{n}'" for n in visible)
    if not with_ids:
        raise LoadError(label, f"no sheet has a video_id column; the workbook's sheets are "
                               f"{quoted}",
                        "Pass --sheet NAME to read the sheet with the edits, and give it a "
                        "video_id header")
    if len(with_ids) > 1:
        both = ", ".join(f"'{n}'" for n in with_ids[:-1]) + f" and '{with_ids[-1]}'"
        where = [f"the first is '{visible[0]}'"]
        if active is not None and active in visible:
            where.insert(0, f"the active tab is '{active}'")
        raise LoadError(label, f"sheets {both} {'both' if len(with_ids) == 2 else 'all'} "
                               f"have a video_id column, so which one "
                               f"holds the edits is unclear ({', '.join(where)})",
                        f"Pass --sheet NAME with the sheet to read, like --sheet "
                        f"'{active if active in with_ids else with_ids[0]}'")
    chosen = with_ids[0]
    others = ", ".join(n for n in visible if n != chosen)
    issue = Issue(0, "", chosen, "sheet_chosen",
                  f"read sheet '{chosen}', the only sheet with a video_id column; the "
                  f"workbook also has {others} (pass --sheet NAME to read another)",
                  Severity.WARNING)
    return chosen, loaded[chosen], issue
