"""Check a whole sheet against the field schema and type its rows (DESIGN.md §4).

Validation is column by column over Arrow arrays so that a million rows take
seconds: each distinct cell text is parsed once by the pure grammar in
cells.py, free text is checked with vectorised lengths, and Python touches a
row only when it has a problem. Every problem becomes an `Issue`; the valid
rows come out as `TypedRow`s, streamed in sheet order by `ValidationResult.rows()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.cells import (
    CellProblem,
    date_problems,
    parse_cell,
    parse_video_id,
    split_items,
)
from bulkedit.core.charclasses import CONTROL_CHARS, INVISIBLE_CHARS
from bulkedit.core.display import counted, short_source
from bulkedit.core.doubts import (
    HTML_ENTITY,
    LIST_SEPARATOR_CELL,
    NULL_MARKER_CELL,
    NULL_MARKER_ITEM,
)
from bulkedit.core.routing import Routing
from bulkedit.core.row_routes import RowRoutes, check_routes
from bulkedit.core.schema import (
    FIELDS,
    ID_ALIASES,
    ID_COLUMN,
    MASK,
    Access,
    FieldSpec,
    ItemKind,
    Kind,
    is_read_only,
    suggest,
)
from bulkedit.core.sheet import HIDDEN_ROW, Column, Sheet
from bulkedit.core.types import FieldChange, Issue, SetValue, Severity, TypedRow

_PLAIN_XID = r"^x[0-9a-z]{2,20}$"
_CLEAR_CELL = r"^\s*\[\]\s*$"
_JSON_LIST_CELL = r"^\s*\[[\s\S]*\]\s*$"
_INVISIBLE_EDGE = rf"^\s*{INVISIBLE_CHARS}|{INVISIBLE_CHARS}\s*$"  # trimmed, with a warning
_CHUNK = 8192
_MAX_VALUE_SHOWN = 200


@dataclass(frozen=True)
class ValidationOptions:
    timezone: tzinfo = UTC
    allow_irreversible: bool = False
    allow_live_fields: bool = False
    allow_past_expiry: bool = False
    date_order: str | None = None  # "dmy" or "mdy": how to read 01/12/2026
    # "." or ",": the decimal separator of the sheet's numbers; None refuses a number a
    # locale could read two ways (12.000, 1.234.567, 12,000).
    decimal_separator: str | None = None
    # Split a list cell at another separator than the field's own (; | line break);
    # else such a cell is refused with the split shown as the fix.
    split_lists: bool = False
    now: float = field(default_factory=time.time)  # what "in the past" is measured from
    # Which account each row goes through (core/routing.py); None: no routing, every `#`
    # column a comment (a caller that sends through one key it chose itself).
    routing: Routing | None = None


class _LazyColumn:
    """Mostly-distinct cells checked by vectorised rules: each cell is converted only when
    its row is read, and the few cells that needed the full grammar keep their result."""

    def __init__(self, cells: pa.ChunkedArray, convert: Callable[[str], FieldChange],
                 overrides: dict[int, FieldChange | None]):
        self.cells = cells
        self.convert = convert
        self.overrides = overrides

    def changes(self, start: int, stop: int) -> list[FieldChange | None]:
        convert = self.convert
        out: list[FieldChange | None] = []
        for text in self.cells[start:stop].to_pylist():
            text = text.strip()
            out.append(convert(text) if text else None)
        for index, change in self.overrides.items():
            if start <= index < stop:
                out[index - start] = change
        return out


class _CodedColumn:
    """Dictionary-encoded cells: one parsed change per distinct text, an index per row."""

    def __init__(self, dictionary: list[FieldChange | None], indices: pa.ChunkedArray):
        self.dictionary = dictionary
        self.indices = indices

    def changes(self, start: int, stop: int) -> list[FieldChange | None]:
        lookup = self.dictionary
        return [lookup[i] for i in self.indices[start:stop].to_pylist()]


@dataclass(repr=False)  # its repr would hold every issue and the Arrow ids
class ValidationResult:
    sheet: Sheet
    issues: list[Issue]
    fields: tuple[str, ...]
    invalid_rows: frozenset[int]  # positions in the sheet, not row numbers
    skipped_rows: frozenset[int]  # exact duplicates of an earlier row
    _ids: pa.ChunkedArray | None = None
    _columns: dict[str, _LazyColumn | _CodedColumn] = field(default_factory=dict)
    routes: RowRoutes | None = None  # each row's account, when the run routes them

    def accounts(self) -> dict[str, int]:
        """The accounts the rows to send go through, with their rows ({} unrouted)."""
        if self.routes is None or self._ids is None or self.header_errors:
            return {}
        return self.routes.counts(self.invalid_rows | self.skipped_rows)

    def video_ids(self, positions: list[int]) -> list[str]:
        """The video ids of the rows at `positions`, as validated."""
        if self._ids is None:
            return []
        return [str(v) for v in self._ids.take(pa.array(positions, pa.int64())).to_pylist()]

    def headline(self) -> str:
        """The counts in the words and order of `bulkedit validate`'s first line."""
        header = len(self.header_errors)
        return (f"{short_source(self.sheet.source)}: {counted(self.row_count, 'row')} — "
                f"{self.valid_count:,} valid, {len(self.invalid_rows):,} invalid, "
                f"{counted(len(self.warnings), 'warning')}"
                + (f"; {counted(header, 'problem')} in the header row" if header else ""))

    def __repr__(self) -> str:
        return f"<ValidationResult {self.headline()}>"

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    @property
    def header_errors(self) -> list[Issue]:
        """Problems with the sheet itself; they block every row, even with --skip-invalid."""
        return [i for i in self.errors if i.row == self.sheet.header_row]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_count(self) -> int:
        return len(self.sheet)

    @property
    def valid_count(self) -> int:
        """Rows that could be sent: none when a header problem blocks the sheet or there
        is no id column; else the rows without a problem of their own, duplicates left out."""
        if self._ids is None or self.header_errors:
            return 0
        return self.row_count - len(self.invalid_rows | self.skipped_rows)

    def ids(self) -> list[str | None]:
        """Each row's video id (URLs reduced), None where it is missing or bad."""
        if self._ids is None:
            return [None] * self.row_count
        ids: list[str | None] = self._ids.to_pylist()
        return ids

    def rows(self) -> Iterator[TypedRow]:
        """The valid rows, typed, in sheet order (duplicates and invalid rows left out);
        none when a header problem blocks the sheet."""
        if self._ids is None or self.header_errors:
            return
        numbers = self.sheet.row_numbers
        excluded = self.invalid_rows | self.skipped_rows
        for start in range(0, len(self.sheet), _CHUNK):
            stop = min(start + _CHUNK, len(self.sheet))
            ids = self._ids[start:stop].to_pylist()
            columns = {name: col.changes(start, stop) for name, col in self._columns.items()}
            for offset, video_id in enumerate(ids):
                index = start + offset
                if index in excluded or video_id is None:
                    continue
                changes = {name: values[offset] for name, values in columns.items()
                           if values[offset] is not None}
                yield TypedRow(numbers[index], video_id, changes)  # type: ignore[arg-type]


def _shown(spec: FieldSpec | None, value: str) -> str:
    if spec is not None and spec.sensitive:
        return MASK
    return value if len(value) <= _MAX_VALUE_SHOWN else value[:_MAX_VALUE_SHOWN] + "…"


class _Collector:
    """Gathers issues and which rows they make invalid."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.issues: list[Issue] = []
        self.invalid: set[int] = set()

    def add(self, index: int, column: Column, value: str, problem: CellProblem,
            spec: FieldSpec | None = None) -> None:
        self.issues.append(Issue(self.sheet.row_numbers[index], column.header,
                                 _shown(spec, value), problem.code, problem.message,
                                 problem.severity))
        if problem.severity is Severity.ERROR:
            self.invalid.add(index)

    def header(self, column: Column | None, code: str, message: str) -> None:
        self.issues.append(Issue(self.sheet.header_row, column.header if column else "",
                                 column.header if column else "", code, message))


def validate(sheet: Sheet, options: ValidationOptions | None = None) -> ValidationResult:
    """Every problem in the sheet, and its valid rows typed."""
    options = options or ValidationOptions()
    out = _Collector(sheet)
    out.issues.extend(sheet.issues)
    specs = _check_headers(sheet, options, out)
    id_column = sheet.column(ID_COLUMN)
    if id_column is None:
        out.header(None, "missing_id_column",
                   "there is no video_id column; add one (also accepted: "
                   + ", ".join(ID_ALIASES[1:]) + ") with one video id or URL per row")
        return ValidationResult(sheet, _sorted(out.issues, sheet), (), frozenset(), frozenset())
    if not specs and not any(i.row == sheet.header_row for i in out.issues):
        out.header(None, "no_fields", "the sheet has no field to change; add columns named "
                                      "after video fields (see `bulkedit fields`)")
    _check_loaded_cells(sheet, out)
    ids = _check_ids(id_column, out)
    routes = None
    if options.routing is not None:
        routes, row_issues, unrouted, header_issues = check_routes(sheet, options.routing)
        out.issues.extend(header_issues + row_issues)
        out.invalid |= unrouted
    columns: dict[str, _LazyColumn | _CodedColumn] = {}
    for column, spec in specs:
        if spec.kind is Kind.TEXT or (spec.kind is Kind.LIST
                                      and spec.item_kind is ItemKind.TEXT):
            columns[spec.name] = _check_lazy(column, spec, options, out)
        else:
            columns[spec.name] = _check_coded(column, spec, options, out)
    _check_date_order(sheet, columns, out)
    hidden = _leave_out_hidden(sheet, out)
    skipped = _check_duplicates(sheet, ids if not hidden else pc.if_else(
        pa.array([i in hidden for i in range(len(sheet))]), pa.scalar(None, pa.string()), ids),
        [c for c, _ in specs], out) | hidden
    return ValidationResult(sheet, _sorted(out.issues, sheet), tuple(columns),
                            frozenset(out.invalid), frozenset(skipped), ids, columns, routes)


def _sorted(issues: list[Issue], sheet: Sheet) -> list[Issue]:
    order = {c.header: i for i, c in enumerate(sheet.columns)}
    return sorted(issues, key=lambda i: (i.row, order.get(i.column, -1)))


def _check_headers(sheet: Sheet, options: ValidationOptions, out: _Collector
                   ) -> list[tuple[Column, FieldSpec]]:
    known = [s.name for s in FIELDS.values() if s.access is not Access.REFUSED]
    specs: list[tuple[Column, FieldSpec]] = []
    for column in sheet.columns:
        name = column.field
        if name in ("#", ID_COLUMN) or (name is None and column.header == ""):
            continue
        if name is None:
            hint = suggest(column.header, [*known, ID_COLUMN])
            out.header(column, "unknown_column",
                       f"'{column.header}' is not a video field; "
                       + (f"did you mean '{hint}'? " if hint else "")
                       + "rename it, or start it with # to keep it as a comment "
                         "(`bulkedit fields` lists every field)")
            continue
        if is_read_only(name):
            out.header(column, "read_only", f"{name} is a read-only field that Dailymotion "
                                            "sets itself; delete the column or start its "
                                            "header with # to keep it as a comment")
            continue
        spec = FIELDS[name]
        if spec.access is Access.REFUSED:
            out.header(column, "refused_field", f"bulkedit does not edit {name}: "
                                                f"{spec.refusal}")
            continue
        if spec.access is Access.LIVE_ONLY and not options.allow_live_fields:
            out.header(column, "live_only", f"{name}: {spec.refusal}")
            continue
        specs.append((column, spec))
    return specs


def _check_loaded_cells(sheet: Sheet, out: _Collector) -> None:
    """Cells the loader could not read as meant: #N/A or #REF! stood for a value nobody
    knows (a problem at its cell, never a blank that would silently keep the live value),
    and a number whose shown text is unknown."""
    for column in sheet.columns:
        if column.is_comment or column.field is None:
            continue
        spec = FIELDS.get(column.field)
        for index, shown, problem in column.problems:
            if spec is not None and spec.sensitive:  # its message may quote the secret
                problem = CellProblem(problem.code, f"this {spec.name} cell could not be "
                                      f"read as typed ({problem.code}); write the "
                                      f"{spec.name} itself, as text", problem.severity)
            out.add(index, column, shown, problem, spec)


def _check_ids(column: Column, out: _Collector) -> pa.ChunkedArray:
    """Resolved ids (URLs reduced), null where the id is missing or bad."""
    cells = column.values
    plain = pc.match_substring_regex(cells, _PLAIN_XID)
    if pc.all(plain).as_py():
        return cells
    resolved: list[str | None] = cells.to_pylist()
    cache: dict[str, tuple[str | None, CellProblem | None]] = {}
    errors = {index for index, _, _ in column.problems}  # reported, not as missing
    for index in pc.indices_nonzero(pc.invert(plain)).to_pylist():
        text = (resolved[index] or "").strip()
        if index in errors:
            resolved[index] = None
            continue
        if not text:
            out.add(index, column, "", CellProblem("required", "the video id is missing; write "
                                                   "the video's id (like x8abc12) or its URL"))
            resolved[index] = None
            continue
        if text not in cache:
            cache[text] = parse_video_id(text)
        video_id, problem = cache[text]
        if problem is not None:
            out.add(index, column, text, problem)
        resolved[index] = video_id
    return pa.array(resolved, pa.string())


def _field_problem(spec: FieldSpec, change: FieldChange | None, options: ValidationOptions
                   ) -> CellProblem | None:
    """Rules about a field's value that depend on the run's options."""
    if (spec.irreversible_true and isinstance(change, SetValue) and change.value is True
            and not options.allow_irreversible):
        # Decided against the live value when planning: a video that is already explicit
        # is no change, so an export of it stays a valid sheet.
        return CellProblem("irreversible", f"setting {spec.name} to true can never be undone "
                                           "on Dailymotion; plan and apply refuse it for "
                                           "videos not already explicit unless you pass "
                                           "--allow-irreversible", Severity.WARNING)
    return None


def _text_suspects(cells: pa.ChunkedArray, spec: FieldSpec) -> pa.ChunkedArray:
    """Text cells that need the full grammar: `[]` and lengths out of bounds."""
    lengths = pc.utf8_length(cells)
    # One pass for the rare cells: control and invisible characters, null markers (NULL).
    suspect = pc.or_(pc.match_substring_regex(cells, _CLEAR_CELL),
                     pc.match_substring_regex(cells, CONTROL_CHARS + "|" + _INVISIBLE_EDGE
                                              + "|" + NULL_MARKER_CELL + "|" + HTML_ENTITY))
    if spec.max_length is not None:
        suspect = pc.or_(suspect, pc.greater(lengths, spec.max_length))
    if spec.min_length is not None:
        suspect = pc.or_(suspect, pc.and_(pc.greater(lengths, 0),
                                          pc.less(lengths, spec.min_length)))
    if spec.sensitive:  # the mask of a results sheet, applied again
        suspect = pc.or_(suspect, pc.equal(pc.utf8_trim_whitespace(cells), MASK))
    return suspect


def _list_suspects(cells: pa.ChunkedArray, spec: FieldSpec) -> pa.ChunkedArray:
    """List cells that need the full grammar: `[]`, patches, quotes, too many or too long
    items. What is left is a plain comma-separated list of acceptable items."""
    # A cell in brackets is a JSON list (`["-80s", "rock"]`, `[]`) for the grammar, whatever
    # is inside: `[1, 2]` must be refused there, not split into the tags "[1" and "2]".
    suspect = pc.or_(pc.match_substring_regex(cells, _JSON_LIST_CELL),
                     pc.match_substring_regex(cells, r'(^|,)\s*[+\-]|"|' + CONTROL_CHARS
                                              + "|" + INVISIBLE_CHARS + "|" + LIST_SEPARATOR_CELL
                                              + "|" + NULL_MARKER_ITEM + "|" + HTML_ENTITY))
    if spec.max_items is not None:
        suspect = pc.or_(suspect, pc.greater(pc.count_substring(cells, ","),
                                             spec.max_items - 1))
    if spec.max_length is not None:
        items = pc.split_pattern(cells, ",")
        too_long = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(pc.list_flatten(items))),
                              spec.max_length)
        if pc.any(too_long).as_py():
            parents = pc.filter(pc.list_parent_indices(items), too_long)
            long_rows = pc.is_in(pa.array(range(len(cells)), pa.int64()),
                                 value_set=pc.cast(parents, pa.int64()))
            suspect = pc.or_(suspect, long_rows)
    return suspect


def _plain_list(text: str) -> FieldChange:
    return SetValue(tuple(split_items(text)))


def _check_lazy(column: Column, spec: FieldSpec, options: ValidationOptions,
                out: _Collector) -> _LazyColumn:
    cells = column.values
    convert: Callable[[str], FieldChange]
    if spec.kind is Kind.TEXT:
        suspect, convert = _text_suspects(cells, spec), SetValue
    else:
        suspect, convert = _list_suspects(cells, spec), _plain_list
    overrides: dict[int, FieldChange | None] = {}
    for index in pc.indices_nonzero(suspect).to_pylist():
        text = cells[index].as_py()
        change, problems = parse_cell(spec, text, options.timezone,
                                      decimal_separator=options.decimal_separator,
                                      split_lists=options.split_lists)
        for problem in problems:
            out.add(index, column, text, problem, spec)
        overrides[index] = change
    return _LazyColumn(cells, convert, overrides)


def _check_coded(column: Column, spec: FieldSpec, options: ValidationOptions,
                 out: _Collector) -> _CodedColumn:
    # Cells are cells by parse_cell, once per distinct text, not by Arrow per row.
    distinct = pc.unique(column.values)
    indices = pc.index_in(column.values, value_set=distinct)
    texts: list[str] = distinct.to_pylist()
    quick = _iso_seconds(distinct) if spec.kind is Kind.DATE else [None] * len(texts)
    dictionary: list[FieldChange | None] = []
    problems_by_text: list[tuple[CellProblem, ...]] = []
    for text, seconds in zip(texts, quick, strict=True):
        if seconds is not None:  # ISO 8601 with an offset, already read by Arrow
            change: FieldChange | None = SetValue(seconds)
            problems: tuple[CellProblem, ...] = ()
        elif not text.strip():
            dictionary.append(None)
            problems_by_text.append(())
            continue
        else:
            change, problems = parse_cell(spec, text, options.timezone, options.date_order,
                                          decimal_separator=options.decimal_separator,
                                          split_lists=options.split_lists)
        if spec.kind is Kind.DATE and isinstance(change, SetValue):
            problems += date_problems(spec, int(change.value), options.now,  # type: ignore[arg-type]
                                      options.allow_past_expiry)
        extra = _field_problem(spec, change, options)
        dictionary.append(change)
        problems_by_text.append((*problems, extra) if extra else problems)
    has_problem = pa.array([bool(p) for p in problems_by_text], pa.bool_())
    if pc.any(has_problem).as_py():
        for index in pc.indices_nonzero(pc.take(has_problem, indices)).to_pylist():
            code = indices[index].as_py()
            for problem in problems_by_text[code]:
                out.add(index, column, texts[code], problem, spec)
    return _CodedColumn(dictionary, indices)


_ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"


def _iso_seconds(texts: pa.Array) -> list[int | None]:
    """Unix seconds of the cells written `2026-12-01T18:00:00+01:00` (or Z), vectorised;
    None for every other cell, which the full grammar then reads (cells.parse_date).

    Arrow's strptime is lenient (February 30th becomes March 2nd), so each parsed
    field is compared with the digits written; a mismatch falls back to the grammar,
    which refuses the date.
    """
    shaped = pc.match_substring_regex(texts, _ISO_WITH_OFFSET)
    if not pc.any(shaped).as_py():
        return [None] * len(texts)

    def digits(start: int, stop: int) -> pa.Array:
        return pc.cast(pc.utf8_slice_codeunits(candidates, start, stop), pa.int64())

    candidates = pc.if_else(shaped, texts, "1970-01-01T00:00:00Z")
    local = pc.strptime(pc.replace_substring(pc.utf8_slice_codeunits(candidates, 0, 19), " ",
                                             "T"),
                        format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    exact = shaped
    for part, (start, stop) in ((pc.year, (0, 4)), (pc.month, (5, 7)), (pc.day, (8, 10)),
                                (pc.hour, (11, 13)), (pc.minute, (14, 16)),
                                (pc.second, (17, 19))):
        exact = pc.and_(exact, pc.fill_null(pc.equal(part(local), digits(start, stop)), False))
    zulu = pc.equal(pc.utf8_slice_codeunits(candidates, 19, 20), "Z")
    offset_text = pc.if_else(zulu, "+00:00", pc.utf8_slice_codeunits(candidates, 19, 25))
    hours = pc.cast(pc.utf8_slice_codeunits(offset_text, 1, 3), pa.int64())
    minutes = pc.cast(pc.utf8_slice_codeunits(offset_text, 4, 6), pa.int64())
    exact = pc.and_(exact, pc.and_(pc.less(hours, 24), pc.less(minutes, 60)))
    sign = pc.if_else(pc.equal(pc.utf8_slice_codeunits(offset_text, 0, 1), "-"), -1, 1)
    offset = pc.multiply(sign, pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60)))
    seconds = pc.subtract(pc.cast(pc.cast(local, pa.timestamp("s")), pa.int64()), offset)
    quick: list[int | None] = pc.if_else(exact, seconds, pa.scalar(None, pa.int64())).to_pylist()
    return quick


def _date_values(column: _CodedColumn) -> pa.Array:
    values = [c.value if isinstance(c, SetValue) else None for c in column.dictionary]
    return pc.take(pa.array(values, pa.int64()), column.indices)


def _check_date_order(sheet: Sheet, columns: dict[str, _LazyColumn | _CodedColumn],
                      out: _Collector) -> None:
    publish_column, expiry_column = columns.get("publish_date"), columns.get("expiry_date")
    # Both present (date columns are always coded: one parsed value per distinct text).
    if not (isinstance(publish_column, _CodedColumn)
            and isinstance(expiry_column, _CodedColumn)):
        return
    publish, expiry = _date_values(publish_column), _date_values(expiry_column)
    wrong = pc.fill_null(pc.less_equal(expiry, publish), False)
    column = sheet.column("expiry_date")
    assert column is not None
    for index in pc.indices_nonzero(wrong).to_pylist():
        out.add(index, column, column.values[index].as_py(), CellProblem(
            "date_order", "expiry_date must be after publish_date on the same row; fix one "
                          "of the two dates"))


def _leave_out_hidden(sheet: Sheet, out: _Collector) -> set[int]:
    """The positions of the rows read hidden under --skip-hidden: skipped, never sent, so
    their problems (a draft's missing id) are no one's, and they repeat no other row."""
    if not sheet.hidden_rows:
        return set()
    hidden = {i for i, n in enumerate(sheet.row_numbers) if n in sheet.hidden_rows}
    out.issues = [i for i in out.issues if i.row not in sheet.hidden_rows
                  or i.code == HIDDEN_ROW]
    out.invalid -= hidden
    return hidden


def _check_duplicates(sheet: Sheet, ids: pa.ChunkedArray, columns: list[Column],
                      out: _Collector) -> set[int]:
    """Same video twice: identical rows are skipped with a warning, different ones refused."""
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts.field("values"),
                         pc.and_(pc.greater(counts.field("counts"), 1),
                                 pc.is_valid(counts.field("values"))))
    if len(repeated) == 0:
        return set()
    id_column = sheet.column(ID_COLUMN)
    assert id_column is not None
    positions: dict[str, list[int]] = {}
    # is_in is false for a missing (null) id: rows without an id are never duplicates.
    for index in pc.indices_nonzero(pc.is_in(ids, repeated)).to_pylist():
        positions.setdefault(ids[index].as_py(), []).append(index)
    skipped: set[int] = set()
    for video_id, indexes in positions.items():
        contents = [tuple(c.values[i].as_py().strip() for c in columns) for i in indexes]
        numbers = [sheet.row_numbers[i] for i in indexes]
        if all(c == contents[0] for c in contents):
            for index in indexes[1:]:
                skipped.add(index)
                out.add(index, id_column, video_id, CellProblem(
                    "duplicate_row", f"{video_id} is already on row {numbers[0]} with the same "
                                     "values; this row is skipped", Severity.WARNING))
            continue
        for index, number in zip(indexes, numbers, strict=True):
            others = ", ".join(str(n) for n in numbers if n != number)
            out.add(index, id_column, video_id, CellProblem(
                "duplicate_id", f"{video_id} is also on row {others} with different values; "
                                "put all of this video's edits on one row"))
    return skipped
