"""Templates are generated from the schema; the committed ones must not drift from it."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from bulkedit.core.errors import LoadError, TemplateError
from bulkedit.core.schema import DEFAULT_TEMPLATE_FIELDS, FIELDS, Access
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.templates import write_template

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ALL_WRITABLE = [s.name for s in FIELDS.values() if s.access is Access.WRITABLE]
COMMITTED = {
    "bulkedit-template.xlsx": None,
    "bulkedit-template.csv": None,
    "all-fields.xlsx": ALL_WRITABLE,
}
REGENERATE = ("bulkedit template -o templates/bulkedit-template.xlsx && "
              "bulkedit template -o templates/bulkedit-template.csv && "
              "bulkedit template -o templates/all-fields.xlsx --fields " + ",".join(ALL_WRITABLE))


def describe(path: Path) -> str:
    """Everything a user sees in a template, as comparable text."""
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8-sig")
    book = openpyxl.load_workbook(path)
    out = {}
    for sheet in book.worksheets:
        out[sheet.title] = {
            "state": sheet.sheet_state,
            "cells": [[c.value for c in row] for row in sheet.iter_rows()],
            "notes": [c.comment.text if c.comment else None for c in next(sheet.iter_rows())],
            "dropdowns": sorted((str(v.sqref), v.formula1) for v in
                                sheet.data_validations.dataValidation),
            "id_format": sheet.column_dimensions["A"].number_format,
        }
    return json.dumps(out, indent=1, default=str)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_templates_match_the_schema(tmp_path, name):
    fresh = tmp_path / name
    write_template(fresh, COMMITTED[name])
    assert describe(TEMPLATES / name) == describe(fresh), (
        f"templates/{name} has drifted from the schema; regenerate with: {REGENERATE}")


def test_xlsx_template_has_dropdowns_notes_text_ids_and_a_guide(tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Edits", "Lists", "How to fill"]
    assert book["Lists"].sheet_state == "hidden"
    sheet = book["Edits"]
    headers = [c.value for c in next(sheet.iter_rows())]
    assert headers == ["video_id", *DEFAULT_TEMPLATE_FIELDS]
    letter = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(headers)}
    dropdowns = {str(v.sqref).split(":")[0]: v.formula1 for v in
                 sheet.data_validations.dataValidation}
    assert dropdowns[letter["private"] + "2"] == '"true,false"'
    assert "sport" in dropdowns[letter["channel"] + "2"]
    assert dropdowns[letter["language"] + "2"].startswith("Lists!")
    assert sheet.column_dimensions["A"].number_format == "@"
    tags_note = sheet[letter["tags"] + "1"].comment.text
    assert "Patch with +item, -item." in tags_note and "Example:" in tags_note
    assert "Needs: Pro" in sheet[letter["geoblocking"] + "1"].comment.text
    guide = [r[0].value for r in book["How to fill"].iter_rows()]
    assert "List patches" in guide and "[]" in guide


def test_templates_are_valid_empty_inputs(tmp_path):
    for name in ("t.xlsx", "t.csv"):
        write_template(tmp_path / name)
        with pytest.raises(LoadError, match="no data rows"):
            load_sheet(tmp_path / name)


def test_unknown_or_unwritable_fields_are_refused(tmp_path):
    with pytest.raises(TemplateError, match="titel is not a video field; did you mean title"):
        write_template(tmp_path / "t.xlsx", ["titel"])
    with pytest.raises(TemplateError, match="duration cannot be edited"):
        write_template(tmp_path / "t.xlsx", ["duration"])
    with pytest.raises(TemplateError, match="url cannot be edited"):
        write_template(tmp_path / "t.xlsx", ["url"])
    with pytest.raises(TemplateError, match=r"a template is \.xlsx or \.csv"):
        write_template(tmp_path / "t.ods", None)
