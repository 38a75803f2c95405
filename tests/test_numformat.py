"""The text Excel shows for a number under a format code, with plain values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkedit.core.numformat import general, render

GENERAL = [
    (0.1 + 0.2, "0.3"),  # float noise goes at 15 significant digits
    (12.5, "12.5"),
    (7.0, "7"),
    (-0.0, "0"),
    (0.0, "0"),
    (-12.5, "-12.5"),
    (1e-7, "0.0000001"),
    (1e-9, "0.000000001"),
    (1e-10, None),  # General shows 1E-10
    (123456789012345.0, "123456789012345"),  # formula-bar text, 15 digits
    (1e15, None),  # 16 digits: Excel may already have dropped some
    (1234567890123456789.0, None),
    (123456789012.5, None),  # General shows 1.23457E+11
    (99999999999.5, "99999999999.5"),
    (3.14159265358979, "3.14159265358979"),
    (float("inf"), None),
    (float("nan"), None),
]


@pytest.mark.parametrize(("value", "expected"), GENERAL)
def test_general(value: float, expected: str | None) -> None:
    assert general(value) == expected


CASES = [
    # General and text formats
    (12.5, "General", "12.5"),
    (7.0, "GENERAL", "7"),
    (0.1 + 0.2, "general", "0.3"),
    (12.5, "@", "12.5"),
    (1e15, "General", None),
    # zero padding and integer rounding (half away from zero)
    (7.0, "000", "007"),
    (501.0, "00000", "00501"),
    (123456.0, "000", "123456"),
    (0.5, "0", "1"),
    (1.5, "0", "2"),
    (2.5, "0", "3"),
    (-2.5, "0", "-3"),
    (-0.4, "0", "-0"),  # Excel's negative zero: section picked by sign before rounding
    (0.0, "#", ""),
    (5.0, "#", "5"),
    # fixed and optional decimals
    (12.5, "0.00", "12.50"),
    (2.675, "0.00", "2.68"),  # 15 digits first, then half away from zero
    (1.005, "0.00", "1.01"),
    (-1.005, "0.00", "-1.01"),
    (0.5, "#.00", ".50"),
    (0.0, "0.00", "0.00"),
    (7.0, "0.##", "7."),  # Excel keeps the point
    (7.5, "0.##", "7.5"),
    (7.126, "0.##", "7.13"),
    (0.505, "0.0#", "0.51"),
    (0.5, "0.0#", "0.5"),
    (0.0, "#.##", "."),
    (7.0, "0.", "7."),
    # thousands
    (1234567.891, "#,##0.00", "1,234,567.89"),
    (1234567.0, "#,##0", "1,234,567"),
    (-1234567.0, "#,##0", "-1,234,567"),
    (999.999, "#,##0.00", "1,000.00"),
    (123.0, "#,##0", "123"),
    (0.0, "#,##0", "0"),
    (0.0, "#,###", ""),
    (5.0, "0,000", "0,005"),
    (1e20, "#,##0", "100,000,000,000,000,000,000"),
    (2.0**60, "0", "1152921504606850000"),  # Excel shows 15 digits, then zeros
    # percent
    (0.5, "0%", "50%"),
    (0.125, "0.0%", "12.5%"),
    (0.07, "0%", "7%"),
    (1.5, "0%", "150%"),
    (-0.05, "0%", "-5%"),
    (0.005, "0%", "1%"),
    # scientific
    (1234.5, "0.00E+00", "1.23E+03"),
    (-1234.5, "0.00E+00", "-1.23E+03"),
    (0.00012345, "0.00E+00", "1.23E-04"),
    (0.0, "0.00E+00", "0.00E+00"),
    (9.999, "0.00E+00", "1.00E+01"),
    (1234.5, "0.0E-0", "1.2E3"),
    (0.012, "0.0E-0", "1.2E-2"),
    (1234.5, "0E+00", "1E+03"),
    (1234.5, "0.00E+00\" m\"", "1.23E+03 m"),
    (1234.5, "##0.0E+0", None),
    (1234.5, "0.00E+#", None),
    (1234.5, "0.00e+00", None),
    # literals
    (12.5, '0.0" kg"', "12.5 kg"),
    (5.0, "\\€0.00", "€5.00"),
    (5.0, "€0.00", "€5.00"),
    (1234.5, "$#,##0.00", "$1,234.50"),
    (-5.0, "$0.00", "-$5.00"),
    (5.0, "+0", "+5"),
    (5.0, "(0)", "(5)"),
    (5.0, "0!", "5!"),
    (5.0, "{0} <=> ~^&'", "{5} <=> ~^&'"),
    (5.0, "0:", "5:"),
    (5.0, "= 0/", None),  # '/' beside digits: a fraction
    (0.0, '0;0;"n/a"', "n/a"),
    (0.0, "0;0;-/-", "-/-"),
    (5551234567.0, "(###) ###-####", "(555) 123-4567"),
    (1234567.0, "(###) ###-####", "() 123-4567"),
    (123456789.0, "000-00-0000", "123-45-6789"),
    (7.0, "000-00-0000", "000-00-0007"),
    (123456789.0, "00000-0000", "12345-6789"),
    (5.0, '"a;b"0', "a;b5"),  # ';' inside quotes is text
    # currency and locale blocks
    (1234.5, "[$€-40C]#,##0.00", "€1,234.50"),
    (1234.5, "#,##0.00 [$€-40C]", "1,234.50 €"),
    (5.0, "[$USD] 0", "USD 5"),
    (5.0, "[$-409]0.00", "5.00"),
    (5.0, "[$£-809]#,##0", "£5"),
    # colours
    (5.0, "[Red]0.00", "5.00"),
    (5.0, "[Color10]0", "5"),
    (-5.0, "[Blue]0.00;[Red]0.00", "5.00"),
    (-5.0, "0.00;[Red]-0.00", "-5.00"),
    # spaces and fills
    (5.0, "0_)", "5 "),
    (5.0, "_(0_)", " 5 "),
    (5.0, "* 0", None),
    (5.0, '_($* #,##0.00_)', None),
    # sections
    (5.0, "0.00;(0.00)", "5.00"),
    (-5.0, "0.00;(0.00)", "(5.00)"),
    (-5.0, "0;0", "5"),  # two sections: no minus unless written
    (-0.4, "0;(0)", "(0)"),
    (0.0, "0.00;(0.00)", "0.00"),
    (0.0, '0;-0;"zero"', "zero"),
    (0.0, "0;-0;-", "-"),
    (3.0, '0;-0;"zero"', "3"),
    (-3.0, "0;-0;0;@", "-3"),
    (3.0, '0;-0;0;"text: "@', "3"),
    (5.0, ";;;", ""),
    (-5.0, ";;;", ""),
    (0.0, ";;;", ""),
    (-5.0, "0;;", ""),
    (0.0, "0;;", ""),
    (5.0, "0;;", "5"),
    (5.0, '"yes"', "yes"),
    (-5.0, '"yes"', None),
    (-5.0, '0;"neg"', "neg"),
    (5.0, "0;0;0;0;0", None),
    # dates, times, durations
    (45000.0, "dd/mm/yyyy", None),
    (45000.0, "yyyy-mm-dd", None),
    (45000.0, "mmm", None),
    (0.5, "h:mm", None),
    (0.5, "h:mm AM/PM", None),
    (1.5, "[h]:mm", None),
    (0.5, "[$-F400]h:mm:ss AM/PM", None),
    (0.5, "mm:ss.0", None),
    # conditions, fractions, text mixes and other unsure formats
    (150.0, "[>100]0", None),
    (150.0, "[>100]0;0", None),
    (1.5, "# ?/?", None),
    (1.5, "# ??/??", None),
    (1.5, "0/0", None),
    (1.5, "??.??", None),
    (5.0, '0.00"x"@', None),
    (5.0, '@" units"', None),
    (5.0, "General;-General", None),
    (1234567.0, "#,##0,", None),  # scaling comma
    (1234567.0, "0.0,,", None),
    (5.0, "0#", None),
    (5.5, "0.#0", None),
    (5.5, ".00", None),
    (5.0, "0.0.0", None),
    (5.0, '0"unterminated', None),
    (5.0, "[Red0", None),
    (5.0, "0\\", None),
    (5.0, "0_", None),
    (5.0, "[DBNum1]0", None),
    (5.0, "0 1", None),
    (5.0, "", None),
    (float("inf"), "0", None),
    (float("nan"), "0.00", None),
]


@pytest.mark.parametrize(("value", "code", "expected"), CASES)
def test_render(value: float, code: str, expected: str | None) -> None:
    assert render(value, code) == expected


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e14, max_value=1e14),
       st.sampled_from(["0", "0.0", "0.00", "0.000", "0%", "0.0%", "0.00%"]))
def test_the_fast_path_for_fixed_decimals_agrees_with_the_tokenizer(value, code):
    import re

    from bulkedit.core import numformat

    fast = render(value, code)
    saved, numformat._FIXED = numformat._FIXED, re.compile("(?!)")  # force the full path
    try:
        assert fast == render(value, code)
    finally:
        numformat._FIXED = saved
