"""Text from Okta, made safe to print: what an org's administrator (or an attacker who
reaches a field Okta echoes) writes is data, never commands to the operator's terminal.

An escape sequence could clear the screen and draw a fake prompt, a carriage return could
overwrite a line, a bidirectional override could reorder what the operator reads: all are
removed, and the text is cut to a bound.
"""

from __future__ import annotations

import re
import unicodedata

#: ANSI/ECMA-48 sequences: CSI (``ESC [`` ... final byte), OSC/DCS/APC/PM/SOS strings (up to
#: BEL or ``ESC \\``), and the two-character escapes; their 8-bit forms too.
ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
ELLIPSIS = "…"


def printable(text: str, limit: int) -> str:
    """``text`` without escape sequences nor control or format characters (line breaks and
    tabs become spaces), at most ``limit`` characters (cut with an ellipsis)."""
    text = ESCAPE_SEQUENCE.sub("", str(text))
    kept = "".join(
        " " if char in "\t\n\r\x0b\x0c" else char
        for char in text
        if char in "\t\n\r\x0b\x0c" or not unicodedata.category(char).startswith("C")
    )
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: max(limit - 1, 0)] + ELLIPSIS
