"""An uploaded sheet read and checked exactly as `bulkedit validate` reads and checks it:
the same loader (sheets/load.py) with the same limits, the same [run] settings, the same
validator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulkedit.core.errors import BulkEditError
from bulkedit.core.sheet import Sheet
from bulkedit.core.validation import ValidationResult, validate
from bulkedit.run.config import Settings
from bulkedit.run.options import run_options
from bulkedit.run.runner import validation_options
from bulkedit.sheets.load import load_sheet


@dataclass(frozen=True)
class Examined:
    """A sheet read and validated, or the reason it cannot be read (`refused`: the line
    `bulkedit validate` would print, exit 2)."""

    sheet: Sheet | None
    result: ValidationResult | None
    refused: str | None = None


def examine(path: Path, label: str, settings: Settings) -> Examined:
    run = run_options(settings, sheet=str(path), offline=True)
    try:
        sheet = load_sheet(path, sheet=run.sheet_name, encoding=run.encoding,
                           reading=run.reading, name=label)
    except BulkEditError as exc:  # LoadError, SheetRefused: one line naming the fix
        return Examined(None, None, str(exc))
    return Examined(sheet, validate(sheet, validation_options(run)))
