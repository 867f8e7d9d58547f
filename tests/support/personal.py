"""The personal data of the shipped samples (names, emails, logins): no log line, metric or
output may show any of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hook import samples

PERSONAL_KEYS = {
    "name",
    "email",
    "login",
    "firstName",
    "lastName",
    "preferred_username",
    "given_name",
    "family_name",
}


def personal_values(node: Any, key: str | None = None) -> Iterator[str]:
    """Every name, email and login of a person in a sample, and each word of the names."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            if child_key != "client":  # the application's name is not personal
                yield from personal_values(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from personal_values(child, key)
    elif isinstance(node, str) and (key in PERSONAL_KEYS or "@" in node):
        yield node
        yield from (word for word in node.split() if len(word) >= 4)


PERSONAL = sorted(
    {value for name in samples.DESCRIPTIONS for value in personal_values(samples.load(name))}
)
