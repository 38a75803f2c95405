"""core/logfmt.py: one event as one key=value line, quoted where needed (pure)."""

from __future__ import annotations

from bulkedit.core.logfmt import line


def test_plain_values_are_bare_and_nested_ones_flattened():
    assert line({"event": "sheet_done", "exit_code": 0, "ok": True,
                 "counts": {"updated": 2, "failed": 1}, "rate": 12.5}) == (
        "event=sheet_done exit_code=0 ok=true counts.updated=2 counts.failed=1 rate=12.5")


def test_nothing_said_is_left_out_and_lists_are_joined():
    assert line({"moved_to": None, "files": ["a.csv", "b.csv"]}) == "files=a.csv,b.csv"


def test_a_value_that_needs_it_is_quoted_and_escaped():
    assert line({"sheet": "my sheet.csv"}) == 'sheet="my sheet.csv"'
    assert line({"sheet": "a=b.csv"}) == 'sheet="a=b.csv"'
    assert line({"error": 'say "no"'}) == r'error="say \"no\""'
    assert line({"note": ""}) == 'note=""'
    assert line({"path": "C:\\in"}) == r'path="C:\\in"'


def test_no_value_can_split_the_line_or_drive_the_terminal():
    shown = line({"sheet": "two\nlines\x1b[31m\u202e.csv"})
    assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
    assert shown == r'sheet="two\nlines\\u001b[31m\\u202e.csv"'
