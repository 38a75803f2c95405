"""Generate fill-in templates from the schema: XLSX with dropdowns and notes, or CSV."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bulkedit.core.errors import TemplateError
from bulkedit.core.schema import (
    DEFAULT_TEMPLATE_FIELDS,
    FIELDS,
    ID_ALIASES,
    ID_COLUMN,
    Access,
    FieldSpec,
    Kind,
    resolve_header,
    suggest,
)
from bulkedit.sheets.files import atomic_path

# Enough rows for any sheet a person fills by hand; validation ranges cover them.
_FILL_ROWS = 10_000
_INLINE_LIST_LIMIT = 255  # Excel's limit for a literal dropdown list
_FIXED_TIME = datetime(2026, 1, 1)  # keeps generated files stable between runs

HOW_TO_FILL = (
    ("How to fill this sheet", ""),
    ("One row per video", "Put the video id (like x8abc12) or its Dailymotion URL in "
                          "video_id, and new values in the other columns."),
    ("Blank cell", "Leaves the field as it is: nothing is sent."),
    ("[]", "Clears the field (where the field can be cleared)."),
    ("Lists", "tags, hashtags, geoblocking…: comma-separated, like travel, lisbon. The cell "
              "replaces the whole list. For items that start with + or -, write a JSON list: "
              '["-80s", "rock"].'),
    ("List patches", "If every item starts with + or -, the cell changes the live list: "
                     "+summer, -winter adds summer and removes winter. Type a leading "
                     "apostrophe ('+summer, -winter) so Excel does not read a formula."),
    ("Yes/no", "true/false, yes/no, 1/0 or y/n, in any case; Excel TRUE/FALSE cells too."),
    ("Dates", "ISO 8601 (2026-12-01 or 2026-12-01T18:00:00+01:00), a date cell, or unix "
              "seconds. Without an offset, the date is read in --timezone (UTC by default)."),
    ("geoblocking", "Optional allow (default) or deny first, then country codes: deny, us, ca."),
    ("Comments", "Columns whose header starts with # are ignored."),
    ("Check before sending", "bulkedit validate SHEET reports every problem with its row "
                             "and column; nothing is sent while a problem remains."),
    ("Fields", "bulkedit fields lists every field with its limits."),
)


def template_fields(requested: Sequence[str] | None) -> list[FieldSpec]:
    """The writable fields a template asks for; unknown or unwritable names are errors."""
    names = list(requested) if requested else list(DEFAULT_TEMPLATE_FIELDS)
    specs: list[FieldSpec] = []
    for raw in names:
        name = resolve_header(raw) if raw.strip() else None
        spec = FIELDS.get(name or "")
        if spec is None or spec.access is not Access.WRITABLE:
            pool = [s.name for s in FIELDS.values() if s.access is Access.WRITABLE]
            hint = suggest(raw, pool)
            why = (f"{raw} cannot be edited with bulkedit" if spec is not None or name
                   else f"{raw} is not a video field")
            raise TemplateError(why + (f"; did you mean {hint}?" if hint else "")
                                + " (`bulkedit fields` lists the writable fields)")
        if spec not in specs:
            specs.append(spec)
    return specs


def header_note(spec: FieldSpec) -> str:
    lines = [spec.summary, f"Type: {spec.kind.value}."]
    if limits := spec.limits():
        lines.append(f"Limits: {limits}.")
    lines.append("Clear with []." if spec.clearable else "Cannot be cleared.")
    if spec.patchable:
        lines.append("Patch with +item, -item.")
    if spec.tier.name != "ANYONE":
        lines.append(f"Needs: {spec.tier.value}.")
    if spec.example:
        lines.append(f"Example: {spec.example}")
    if spec.notes:
        lines.append(spec.notes)
    return "\n".join(lines)


def write_template(path: Path, fields: Sequence[str] | None = None) -> list[FieldSpec]:
    specs = template_fields(fields)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from bulkedit.sheets.report import write_table

        write_table(path, [ID_COLUMN, *(s.name for s in specs)], [])
    elif suffix == ".xlsx":
        _write_xlsx_template(path, specs)
    else:
        raise TemplateError(f"{path}: a template is .xlsx or .csv, not '{suffix or 'nothing'}'")
    return specs


ID_NOTE = ("The video to edit: its id (x followed by letters and digits, like x8abc12) "
           "or its Dailymotion URL. Also accepted as header: " + ", ".join(ID_ALIASES[1:]) + ".")
ACCOUNT_NOTE = ("The account this row goes through (an [accounts.NAME] of the configuration): "
                "the one it was exported through. A blank cell goes to --account, else to "
                "default_account.")


@dataclass(frozen=True)
class Dropdowns:
    """The data-validation rules of a sheet's field columns, and the long lists they
    point to (kept on a hidden "Lists" sheet, as Excel limits inline lists to 255 chars)."""

    rules: list[Any]  # openpyxl DataValidation
    lists: list[tuple[str, list[str]]]  # (field, choices) in Lists sheet column order


def dropdowns(specs: Sequence[FieldSpec], first_column: int, last_row: int) -> Dropdowns:
    """Dropdowns for enums and yes/no fields; column `first_column` (1-based) holds specs[0]."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    rules: list[Any] = []
    lists: list[tuple[str, list[str]]] = []
    for offset, spec in enumerate(specs):
        choices = _dropdown_choices(spec)
        if not choices:
            continue
        letter = get_column_letter(first_column + offset)
        inline = '"' + ",".join(choices) + '"'
        if len(inline) <= _INLINE_LIST_LIMIT:
            formula = inline
        else:
            lists.append((spec.name, choices))
            list_letter = get_column_letter(len(lists))
            formula = f"Lists!${list_letter}$2:${list_letter}${len(choices) + 1}"
        rule = DataValidation(type="list", formula1=formula, allow_blank=True,
                              showErrorMessage=True, errorStyle="warning",
                              errorTitle=spec.name, error=spec.limits() or spec.summary)
        rule.add(f"{letter}2:{letter}{last_row}")
        rules.append(rule)
    return Dropdowns(rules, lists)


def _write_xlsx_template(path: Path, specs: list[FieldSpec]) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.properties.created = book.properties.modified = _FIXED_TIME
    sheet = book.active
    sheet.title = "Edits"
    lists = book.create_sheet("Lists")
    lists.sheet_state = "hidden"
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E78")

    columns = [(ID_COLUMN, ID_NOTE, None), *((s.name, header_note(s), s) for s in specs)]
    for index, (name, note, spec) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=name)
        cell.font, cell.fill = header_font, header_fill
        cell.comment = Comment(note, "bulkedit", width=320, height=200)
        sheet.column_dimensions[letter].width = 14 if spec and spec.kind is Kind.BOOL else 24
    # The id column is text, so Excel never turns an id into a number or a date.
    sheet.column_dimensions["A"].number_format = "@"
    rules = dropdowns(specs, 2, _FILL_ROWS + 1)
    for rule in rules.rules:
        sheet.add_data_validation(rule)
    for column, (name, choices) in enumerate(rules.lists, start=1):
        lists.cell(row=1, column=column, value=name)
        for row, choice in enumerate(choices, start=2):
            lists.cell(row=row, column=column, value=choice)
    sheet.freeze_panes = "B2"

    guide = book.create_sheet("How to fill")
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["B"].width = 100
    for row, (term, text) in enumerate(HOW_TO_FILL, start=1):
        guide.cell(row=row, column=1, value=term).font = Font(bold=True, size=14 if row == 1
                                                              else 11)
        guide.cell(row=row, column=2, value=text).alignment = Alignment(wrap_text=True)
    try:
        with atomic_path(path) as temporary:
            book.save(temporary)
    except OSError as exc:
        raise TemplateError(f"{path}: cannot write the template ({exc.strerror})") from None


def _dropdown_choices(spec: FieldSpec) -> list[str]:
    if spec.kind is Kind.BOOL:
        return ["true", "false"]
    if spec.kind is Kind.ENUM:
        return list(spec.allowed)
    return []
