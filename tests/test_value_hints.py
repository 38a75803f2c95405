""""Did you mean" for languages and countries offers real codes, found by what a name
means (issue 25): `French` → fr, `UK` → gb, never a code that merely looks close."""

from __future__ import annotations

import pytest

from bulkedit.core.cells import parse_cell
from bulkedit.core.codes import COUNTRY_ALIASES, LANGUAGE_ALIASES
from bulkedit.core.schema import FIELDS, country_codes, language_codes

LANGUAGES = [
    ("French", "fr"), ("Français", "fr"), ("francais", "fr"), ("FRENCH", "fr"),
    ("English", "en"), ("German", "de"), ("Deutsch", "de"), ("Spanish", "es"),
    ("Español", "es"), ("Japanese", "ja"), ("日本語", "ja"), ("Greek", "el"),
    ("Persian", "fa"), ("Farsi", "fa"), ("Swahili", "sw"), ("Mandarin", "zh"),
    ("fre", "fr"), ("ger", "de"), ("chi", "zh"),  # ISO 639-2/B codes
    ("en-US", "en"), ("pt_BR", "pt"), ("fr-CA", "fr"),  # locale tags
    ("Frnech", "fr"), ("Englsh", "en"),  # misspelt names
]
COUNTRIES = [
    ("UK", "gb"), ("England", "gb"), ("Scotland", "gb"), ("Great Britain", "gb"),
    ("USA", "us"), ("United States", "us"), ("United States of America", "us"),
    ("America", "us"), ("Germany", "de"), ("Deutschland", "de"), ("France", "fr"),
    ("FRA", "fr"), ("South Korea", "kr"), ("North Korea", "kp"), ("Iran", "ir"),
    ("Russia", "ru"), ("Vietnam", "vn"), ("Turkey", "tr"), ("Holland", "nl"),
    ("Côte d'Ivoire", "ci"), ("Ivory Coast", "ci"), ("fr-CA", "ca"), ("Brasil", "br"),
]


def hint(field: str, text: str) -> str:
    change, problems = parse_cell(FIELDS[field], text)
    assert change is None and problems[0].code == "enum"
    return problems[0].message


@pytest.mark.parametrize(("text", "code"), LANGUAGES)
def test_language_names_and_aliases_suggest_their_code(text, code):
    assert f"did you mean '{code}'" in hint("language", text)
    change, problems = parse_cell(FIELDS["ai_subtitle_languages"], f"en, {text}")
    assert change is None and f"did you mean '{code}'" in problems[0].message


@pytest.mark.parametrize(("text", "code"), COUNTRIES)
def test_country_names_and_aliases_suggest_their_code(text, code):
    assert f"did you mean '{code}'" in hint("country", text)
    change, problems = parse_cell(FIELDS["geoblocking"], f"deny, fr, {text}")
    assert change is None and f" {code}" in problems[0].message.replace("'", " ")


@pytest.mark.parametrize(("alias", "code"), LANGUAGE_ALIASES.items())
def test_every_language_alias_is_a_real_code(alias, code):
    assert code in language_codes()
    assert f"did you mean '{code}'" in hint("language", alias)


@pytest.mark.parametrize(("alias", "code"), COUNTRY_ALIASES.items())
def test_every_country_alias_is_a_real_code(alias, code):
    assert code in country_codes()
    if alias not in ("uk",):  # 'uk' in the country column: the code, see below
        assert f"did you mean '{code}'" in hint("country", alias)


def test_nothing_is_offered_for_what_means_no_language_or_country():
    # difflib found 'ren' for French; a word that names nothing gets no guess at all
    assert "'ren'" not in hint("language", "French")
    for text in ("Gibberish", "xx", "qq", "Lorem ipsum"):
        assert "did you mean" not in hint("language", text)
    for text in ("Atlantis", "zz", "Europe"):
        assert "did you mean" not in hint("country", text)


def test_uk_in_a_country_column_is_gb():
    assert "did you mean 'gb' (United Kingdom)" in hint("country", "UK")
    change, problems = parse_cell(FIELDS["geoblocking"], "deny, uk")
    assert change is None and "the United Kingdom is gb" in problems[0].message
