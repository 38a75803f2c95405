"""Write tests/data/tables.json: a snapshot of every data table the validator reads.

    python tools/data_tables.py          # rewrite the snapshot after a deliberate change
    python tools/data_tables.py --check  # exit 1 when the snapshot differs from the code

The word lists, allowed values, read-only names, aliases, field facts and template
defaults are behaviour: tests/test_data_tables.py runs every entry of the snapshot
through `validate`, and fails when the code's tables differ from it. So a word dropped
from a list, or a limit changed, fails a test until the snapshot is rewritten on purpose
(and the diff of tests/data/tables.json shows the reviewer what changed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bulkedit.core.cells import FALSE_WORDS, TRUE_WORDS
from bulkedit.core.codes import COUNTRY_ALIASES, LANGUAGE_ALIASES
from bulkedit.core.doubts import CASED_NULL_MARKERS, NULL_MARKERS
from bulkedit.core.schema import (
    DEFAULT_TEMPLATE_FIELDS,
    FIELD_ALIASES,
    FIELDS,
    ID_ALIASES,
    READ_ONLY_FIELDS,
    Kind,
)

SNAPSHOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "tables.json"

# Facts of a field the validator acts on (summary, notes and examples are prose).
_FACTS = ("kind", "access", "tier", "min_length", "max_length", "max_items", "item_kind",
          "doubtful", "minimum", "maximum", "integer", "clear_wire", "patchable",
          "irreversible_true", "sensitive", "write_only")


def _fact(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return getattr(value, "value", value)  # an Enum member as its value


# What `bulkedit fields` tells the user of each field: text that says what to do.
SHOWN = ("summary", "notes", "limits", "clear", "patch", "needs", "example")


def fields_shown() -> dict[str, dict[str, str]]:
    listed = subprocess.run([sys.executable, "-m", "bulkedit", "fields", "--format", "json",
                             "--all"], check=True, capture_output=True, text=True).stdout
    return {entry["field"]: {key: entry[key] for key in SHOWN}
            for entry in json.loads(listed)["fields"]}


def tables() -> dict[str, Any]:
    return {
        "fields_shown": fields_shown(),
        "true_words": sorted(TRUE_WORDS),
        "false_words": sorted(FALSE_WORDS),
        # Language and country codes come from pycountry (a pinned dependency), not here.
        "enum_values": {name: list(spec.allowed) for name, spec in FIELDS.items()
                        if spec.kind is Kind.ENUM and name not in ("language", "country")},
        "read_only_fields": list(READ_ONLY_FIELDS),
        "field_aliases": dict(FIELD_ALIASES),
        "id_aliases": list(ID_ALIASES),
        "default_template_fields": list(DEFAULT_TEMPLATE_FIELDS),
        "null_markers": list(NULL_MARKERS),
        "cased_null_markers": list(CASED_NULL_MARKERS),
        "language_aliases": dict(LANGUAGE_ALIASES),
        "country_aliases": dict(COUNTRY_ALIASES),
        "examples": {name: spec.example for name, spec in FIELDS.items() if spec.example},
        "fields": {name: {fact: _fact(getattr(spec, fact)) for fact in _FACTS}
                   for name, spec in FIELDS.items()},
    }


def text() -> str:
    return json.dumps(tables(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        return 0 if SNAPSHOT.read_text(encoding="utf-8") == text() else 1
    SNAPSHOT.write_text(text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
