"""Text from Okta, made fit for an operator's terminal.

Names, ids, error summaries and System Log text come from whoever can write to the org, or
from whatever answers in its place: an escape sequence in them could clear the screen and
draw a fake prompt, a bidirectional override could show another id than the one printed.
They are data: shown bounded, one line, without what a terminal would obey.
"""

from __future__ import annotations

import json
import re

#: The characters of Unicode's categories Cc (controls, C0 and C1), Cf (format: bidi
#: overrides, zero-width), Cs (lone surrogates, which cannot even be encoded), Zl and Zp.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
#: What a terminal obeys rather than prints: CSI sequences (ESC [ or the C1 byte), the
#: strings of OSC, DCS, SOS, PM and APC up to their terminator, and two-character escapes.
SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
#: Line breaks and tabs become a space: one value, one line.
BREAKS = re.compile(" *[\t\n\x0b\x0c\r\x85\u2028\u2029]+ *")
ELLIPSIS = "…"
#: The longest line a command prints of a text that holds Okta's words.
LINE = 2000


def printable(text: str, limit: int) -> str:
    """``text`` as one line of at most ``limit`` characters, escape sequences and control,
    format and surrogate characters removed (line breaks, with the spaces around them,
    become one space)."""
    shown = UNSAFE.sub("", BREAKS.sub(" ", SEQUENCE.sub("", str(text))))
    return shown if len(shown) <= limit else shown[: max(0, limit - 1)] + ELLIPSIS


def printable_lines(text: str, limit: int = LINE) -> str:
    """Each line of ``text`` through :func:`printable`: a command's own layout kept, what
    Okta wrote inside it shown as data."""
    return "\n".join(printable(line, limit) for line in text.split("\n"))


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    return char if char == "\n" else json.dumps(char)[1:-1]


def json_safe(text: str) -> str:
    """JSON text with the characters of :data:`UNSAFE` written as ``\\u`` escapes: the same
    values for a machine, nothing a terminal obeys for a person reading it. Its line breaks
    are its layout (``json.dumps`` escapes those inside strings already)."""
    return UNSAFE.sub(_escaped, text)
