"""A CMS export keeps characters as HTML references (&amp;, &#39;): in a title they stand
for the character, so such a cell is refused with the text it stands for (issue 25)."""

from __future__ import annotations

from datetime import UTC

import pytest

from bulkedit.core.cells import parse_cell
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import SetValue


@pytest.mark.parametrize("field,text,meant", [
    ("title", "Tom &amp; Jerry", "Tom & Jerry"),
    ("title", "L&#39;&eacute;t&eacute;", "L'été"),
    ("description", "&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"),
    ("tags", "rock &amp; roll, jazz", "rock & roll, jazz"),
])
def test_html_references_are_refused_with_the_text_they_stand_for(field, text, meant):
    change, problems = parse_cell(FIELDS[field], text, UTC)
    assert change is None
    assert [p.code for p in problems] == ["html_entity"]
    assert problems[0].message.endswith(meant)


@pytest.mark.parametrize("text", ["Tom & Jerry", "R&D; news", "AT&T", "&nbsp without end",
                                  "fish &chips;"])
def test_an_ampersand_that_is_no_reference_is_text(text):
    change, problems = parse_cell(FIELDS["title"], text, UTC)
    assert change == SetValue(text) and not problems
