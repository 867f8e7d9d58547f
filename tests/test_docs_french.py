"""The French pages read as French: no English placeholder, none of the calques a French
reader stumbled on (issue of the operator's second pass)."""

from __future__ import annotations

import re

import pytest

from tests.support.docs import ROOT, page

FRENCH_PAGES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs/fr").rglob("*.md"))
#: What a French reader stumbled on, and what reads as French instead.
STUMBLES = {
    r"<your service>": "<votre service>",
    r"<random>": "<aléatoire>",
    "\u2039": "< (one kind of bracket)",
    r"\bfix(ez|er|é|ée|és|ées|ent)\b|\bfixe (`|ce |la |le |les )": "définir, donner, saisir",
    r"quand tout tient": "quand tout est en ordre",
    r"applicateur": "le code qui applique la réponse comme Okta",
    r"n'accepté": "n'est accepté que",
    r"comme liée à rien": "sans effet sur le reste",
    r"ne demande rien côté Okta que": "ne demande, côté Okta, que",
}


@pytest.mark.parametrize("path", FRENCH_PAGES)
def test_a_french_page_has_none_of_the_known_stumbles(path):
    text = page(path)
    found = {
        pattern: better
        for pattern, better in STUMBLES.items()
        if re.search(pattern, text, re.IGNORECASE)
    }
    assert not found, f"{path}: {found}"
