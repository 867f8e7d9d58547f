"""``hook.cli.terminal``: what Okta writes is printed as data, never obeyed by a terminal."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest

from hook.cli.terminal import UNSAFE, json_safe, printable, printable_lines

#: The categories a terminal obeys or cannot print: controls, format (bidi, zero-width),
#: lone surrogates, line and paragraph separators.
CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_the_unsafe_characters_are_exactly_those_categories():
    """Every character of those categories is caught; what is caught besides is unassigned
    in this Python's Unicode (a later version assigns it to Cf)."""
    missed, extra = [], []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        caught = UNSAFE.fullmatch(char) is not None
        if category in CATEGORIES and not caught:
            missed.append(hex(code))
        elif caught and category not in CATEGORIES | {"Cn"}:
            extra.append(hex(code))
    assert missed == []
    assert extra == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J\x1b[Hhello", "hello"),  # clear the screen, home the cursor
        ("\x1b]0;root@bastion\x07name", "name"),  # the window's title (OSC, BEL)
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),  # a hyperlink
        ("\x9b31mred\x9b0m", "red"),  # C1 CSI
        ("\x1bPq#0;2;0;0;0\x1b\\after", "after"),  # DCS (sixel)
        ("a\x1bcb", "ab"),  # reset the terminal
        ("line\r\nPassword:", "line Password:"),  # one value, one line
        ("tab\there", "tab here"),
        ("id\u202e7gp.exe", "id7gp.exe"),  # a bidi override
        ("zero\u200bwidth", "zerowidth"),
        ("lone \ud800 surrogate", "lone  surrogate"),  # cannot even be encoded
        ("Pro Santé Connect — CHU", "Pro Santé Connect — CHU"),  # what is text stays
        ("\x1b", ""),
        ("\x1b[", ""),  # an unfinished sequence
    ],
)
def test_printable_removes_what_a_terminal_obeys(text, shown):
    assert printable(text, 200) == shown


def test_printable_bounds_the_text_and_says_so():
    assert printable("x" * 10, 10) == "x" * 10
    assert printable("x" * 11, 10) == "x" * 9 + "…"
    assert printable(7, 10) == "7"  # type: ignore[arg-type] - Okta's fields can be anything


def test_printable_lines_keeps_the_layout():
    assert printable_lines("one\x1b[2J\n  two\x07") == "one\n  two"


def test_json_safe_keeps_the_values_and_escapes_what_a_terminal_obeys():
    data = {"name": "\x1b[2J\x9b31m\u202e\u2028\ud800 \U000e0041 é", "list": [1, "\x7f"]}
    text = json_safe(json.dumps(data, indent=2, ensure_ascii=False))
    assert UNSAFE.search(text.replace("\n", "")) is None
    assert json.loads(text) == data
    assert "é" in text  # printable text is kept as it is
