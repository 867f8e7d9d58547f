"""Tokens as an operator hands them to a command: a file, or ``-`` for standard input.

A token on the command line is visible in ``ps`` and in the shell's history: it is still
taken, with a warning, when the value is plainly one (``eyJ...``) and no file of that name
exists; any other value names a file, so a mistyped name says so instead of "not a JWT".
A pasted ``Bearer `` (or ``Authorization: Bearer ``) is dropped. Tokens are never printed.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from hook.cli.output import STDIN
from hook.config import ConfigError

#: How a signed JWT starts: its header is base64url JSON, and JSON objects start with {".
JWT_START = "eyJ"
#: Words an operator pastes with a token, from an Authorization header.
PASTED_WORDS = frozenset({"authorization:", "bearer"})


def warn_on_command_line(option: str) -> None:
    """The warning for a token given on the command line, on standard error."""
    print(
        f"psc-hook: warning: {option}: a token on the command line is visible in ps and in"
        " your shell's history; give a file, or - to read it from standard input",
        file=sys.stderr,
    )


def split(text: str) -> list[str]:
    """The tokens in a text, whitespace apart, without the words pasted with them."""
    return [word for word in text.split() if word.lower() not in PASTED_WORDS]


def _is_file(value: str) -> bool:
    try:
        return Path(value).is_file()
    except (OSError, ValueError):  # a token is longer than a file name may be
        return False


def _stdin(option: str) -> str:
    """Standard input: without echo on a terminal (one line), else all that is piped in."""
    text = getpass.getpass("Token: ") if sys.stdin.isatty() else sys.stdin.read()
    if not split(text):
        raise ConfigError(f"{option} -: no token was read from standard input (it was empty)")
    return text


def read_tokens(value: str, option: str) -> list[str]:
    """The tokens ``value`` gives: standard input's (``-``), a file's, or, warned about,
    the value itself when it is plainly a token."""
    if value == STDIN:
        return split(_stdin(option))
    if not _is_file(value):
        if split(value) and split(value)[0].startswith(JWT_START):
            warn_on_command_line(option)
            return split(value)
        raise ConfigError(
            f"{option}: no file {value!r}; give a file holding the token, or - to read it"
            " from standard input"
        )
    try:
        text = Path(value).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"{option}: cannot read the file {value!r}") from None
    if not split(text):
        raise ConfigError(f"{option}: the file {value!r} holds no token")
    return split(text)


def read_token(value: str, option: str) -> str:
    """The one token ``value`` gives (see :func:`read_tokens`)."""
    tokens = read_tokens(value, option)
    if len(tokens) != 1:
        raise ConfigError(f"{option}: {len(tokens)} tokens where one was expected")
    return tokens[0]
