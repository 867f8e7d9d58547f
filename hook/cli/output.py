"""What every command prints the same way: JSON for a machine, progress on stderr for a
person, the one line of a refused setting, and the example and exit codes of its ``--help``.
Secrets only ever appear as a fingerprint."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

from hook.cli.terminal import json_safe
from hook.config import ConfigError, one_line

PROG = "psc-hook"
#: The argument that stands for standard input.
STDIN = "-"

#: Exit-code meanings several commands share; each command's --help lists only its own.
BAD_INPUT = "bad configuration or arguments: one line names what is wrong"
RATE_LIMITED = "Okta's rate limit is reached (429); the message gives the reset time"
REJECTED = (
    "Okta rejected the credentials (401), their permissions or the service app's scopes (403)"
)
#: What 1 means for the commands that call the Management API.
OKTA_ERROR = "Okta answered with an error, or with what its API never sends (not JSON, too large)"
ORG_UNREACHABLE = "the Okta org is unreachable (refused, unknown host, timeout)"


def print_json(data: Any) -> None:
    """``data`` as JSON; what a terminal would obey is written as ``\\u`` escapes."""
    print(json_safe(json.dumps(data, indent=2, ensure_ascii=False)))


def indented(data: Any, prefix: str = "  ") -> str:
    text = json_safe(json.dumps(data, indent=2, ensure_ascii=False))
    return "\n".join(prefix + line for line in text.splitlines())


def fingerprint(secret: bytes) -> str:
    """A short sha256 of a secret: enough to tell two apart, nothing to guess it from."""
    return "sha256 " + hashlib.sha256(secret).hexdigest()[:12]


def progress(as_json: bool, message: str) -> None:
    """A line for the person waiting, on stderr; none when a machine reads the JSON."""
    if not as_json:
        print(message, file=sys.stderr)


def configuration_error(error: ConfigError) -> int:
    """The one line an operator needs, and exit code 2."""
    print(one_line(error, PROG), file=sys.stderr)
    return 2


def epilog(examples: tuple[str, ...], codes: Mapping[int, str]) -> str:
    """A command's example(s) and the exit codes it can return, laid out as written
    (click keeps a paragraph that starts with ``\\b`` unwrapped)."""
    lines = ["\b", "example:" if len(examples) == 1 else "examples:"]
    lines += [f"  {example}" for example in examples]
    lines += ["", "\b", "exit codes:"]
    for code, meaning in codes.items():
        wrapped = textwrap.wrap(meaning, width=70)
        lines.append(f"  {code}  {wrapped[0]}")
        lines += [f"     {line}" for line in wrapped[1:]]
    return "\n".join(lines)
