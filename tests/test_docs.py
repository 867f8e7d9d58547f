"""The documentation: every link resolves, the configuration page lists exactly what the
code reads, the French pages name what the English ones name, and what an operator runs
is what works."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from hook import metrics
from hook.outcomes import NO_TENANT_OUTCOMES, TENANT_OUTCOMES, Outcome
from hook.tenants import NO_TENANT
from tests.support.docs import (
    ON_PATH,
    ROOT,
    anchors,
    code_lines,
    headings,
    markdown_pages,
    page,
    prose_lines,
    relative_links,
    section,
    slug,
    translated_pages,
)

#: A variable an operator sets, as the pages name it.
VARIABLE = re.compile(
    r"\b(?:PSC|HOOK|LOG|OKTA|CC|METRICS|PROMETHEUS)_[A-Z0-9_]*[A-Z0-9]\b|\bPORT\b"
)
#: A name the code reads from the environment: quoted, upper case, with an underscore.
READ_BY_CONFIG = re.compile(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT)"')
#: A row of a variables table: its first cell is one backticked name.
TABLE_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)` \|", re.MULTILINE)
#: A finding of psc-hook doctor, as hook/cli/doctor.py and its audit modules add it.
FINDING = re.compile(r'\.add\(\s*"([a-z]+(?:-[a-z]+)+)"')


def config_sources() -> str:
    """Where the variables are read: hook/config.py (the service's) and
    hook/cli/environment.py (the commands' own)."""
    files = (ROOT / "hook" / "config.py", ROOT / "hook" / "cli" / "environment.py")
    return "\n".join(path.read_text() for path in files)


def doctor_findings() -> set[str]:
    """The codes of the doctor's findings: hook/cli/doctor.py and hook/cli/audit_*.py."""
    cli = ROOT / "hook" / "cli"
    sources = [cli / "doctor.py", *sorted(cli.glob("audit_*.py"))]
    codes = set(FINDING.findall("\n".join(path.read_text() for path in sources)))
    assert len(codes) > 20, "the finding codes are no longer read from hook/cli/"
    assert {"okta-calls-failed", "no-calls-seen"} <= codes, "nor from hook/cli/audit_log.py"
    return codes


def commands(text: str) -> set[str]:
    """What a page has the operator type: its code lines, comments left out, and each
    ``<placeholder>`` as ``<>`` (a French page names them in French)."""
    lines = (re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip() for line in code_lines(text))
    return {re.sub(r"<[^<>]+>", "<>", line) for line in lines if line}


# Links ------------------------------------------------------------------------------------


def test_the_slugs_are_githubs() -> None:
    assert slug("Deploy on Clever Cloud") == "deploy-on-clever-cloud"
    assert slug("How `amr` is decided") == "how-amr-is-decided"
    assert slug("OAuth 2.0 between Okta and the hook") == "oauth-20-between-okta-and-the-hook"
    assert slug("Mise en service : étape par étape") == "mise-en-service--étape-par-étape"
    assert slug("Check with Okta's Preview tab") == "check-with-oktas-preview-tab"
    assert anchors("# A\n## B\n## B\n```\n# not a heading\n```\n") == {"a", "b", "b-1"}


def broken_links(name: str, text: str) -> list[str]:
    """The links of a page, at ``name`` from the root, that lead nowhere."""
    broken = []
    for target in relative_links(text):
        path, _, anchor = target.partition("#")
        resolved = ROOT / PurePosixPath(name).parent / path
        if path and not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and (not path or resolved.suffix == ".md"):
            headed = resolved.read_text(encoding="utf-8") if path else text
            broken += [] if anchor in anchors(headed) else [f"{target}: no such heading"]
    return broken


@pytest.mark.parametrize("name", markdown_pages())
def test_every_relative_link_and_anchor_resolves(name: str) -> None:
    assert broken_links(name, page(name)) == []


def test_a_broken_link_or_anchor_is_caught() -> None:
    text = (
        "# A\n[ok](#a) [no](#b) [gone](missing.md) [bad](../README.md#no-such-heading)"
        " [good](../README.md#two-commands) [url](https://example.org/x.md) `[code](x.md)`\n"
    )
    assert broken_links("docs/page.md", text) == [
        "#b: no such heading",
        "missing.md: no such file",
        "../README.md#no-such-heading: no such heading",
    ]


def test_the_readme_is_a_front_door() -> None:
    readme = page("README.md")
    assert len(readme.splitlines()) <= 200
    for title in ("Two commands", "A five-minute tour", "What it decides", "Documentation"):
        assert section("README.md", title).strip(), title
    tour = section("README.md", "A five-minute tour")
    for command in ("make run", "psc-hook send", "psc-hook preview", "psc-hook check-config"):
        assert command in tour, command


# Configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["docs/configuration.md", "docs/fr/configuration.md"])
def test_the_configuration_page_lists_every_variable_the_code_reads_and_no_other(path) -> None:
    read = set(READ_BY_CONFIG.findall(config_sources()))
    documented = TABLE_ROW.findall(page(path))
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert sorted(read - set(documented)) == [], "read by the code, not documented"
    assert sorted(set(documented) - read) == [], "documented, not read by the code"


def test_every_variable_the_docs_name_is_one_the_code_reads_or_a_platforms() -> None:
    read = set(READ_BY_CONFIG.findall(config_sources()))
    # HOOK_OAUTH_*, PSC_CLAIMS_*, and the arguments register --url HOOK_URL and
    # user-ref OKTA_USER_ID in their usage lines
    wildcards = {"HOOK_OAUTH", "PSC_CLAIMS", "HOOK_URL", "OKTA_USER_ID"}
    unknown = {}
    for name in markdown_pages():
        names = set(VARIABLE.findall(page(name))) - read - wildcards
        if names := sorted(n for n in names if not n.startswith("CC_")):  # Clever Cloud's
            unknown[name] = names
    assert unknown == {}


# The French pages -------------------------------------------------------------------------


@pytest.mark.parametrize(("english", "french"), translated_pages())
def test_the_french_page_names_what_the_english_one_names(english: str, french: str) -> None:
    en, fr = page(english), page(french)
    assert set(VARIABLE.findall(fr)) == set(VARIABLE.findall(en)), "variables"
    assert commands(fr) == commands(en), "commands"
    codes = doctor_findings()
    assert {c for c in codes if f"`{c}`" in fr} == {c for c in codes if f"`{c}`" in en}
    assert len(headings(fr)) == len(headings(en)), "sections"


@pytest.mark.parametrize(("english", "french"), translated_pages())
def test_the_french_page_is_written_in_french(english: str, french: str) -> None:
    prose = " ".join(prose_lines(page(french)))
    words = re.findall(r"\b(?:le|la|les|des|est|une|pour|avec|dans)\b", prose)
    assert len(words) * 40 >= len(prose.split()), "mostly French words"
    assert re.search(r"[éèàùç]", prose), "accents"


def test_the_french_index_links_every_french_page() -> None:
    index = page("docs/fr/README.md")
    for _, french in translated_pages():
        assert PurePosixPath(french).relative_to("docs/fr").as_posix() in index, french


# What an operator runs --------------------------------------------------------------------


def findings_table(text: str, header: str) -> set[str]:
    """The codes of the findings table: the first cell of each row under its header."""
    table = text.split(header, 1)[1].split("\n\n", 1)[0]
    cells = re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
    return {code for cell in cells for code in re.findall(r"`([a-z-]+)`", cell)}


def test_going_live_lists_every_finding_of_the_doctor_and_no_other() -> None:
    english = findings_table(page("docs/going-live.md"), "| finding | what is wrong |")
    french = findings_table(page("docs/fr/going-live.md"), "| constat | ce qui ne va pas |")
    assert english == french == doctor_findings()


def metric_row(text: str, metric: str) -> str:
    """The description cell of a metric's row in the metrics table."""
    [row] = re.findall(rf"^\| `{metric}` \| (.+) \|$", text, re.MULTILINE)
    return row


@pytest.mark.parametrize("path", ["docs/operations.md", "docs/fr/operations.md"])
def test_the_metrics_table_lists_exactly_the_outcomes(path: str) -> None:
    """The outcome labels an operator's alerts match on are hook/outcomes.py's, all of them."""
    calls = metric_row(page(path), "psc_hook_calls_total")
    labels = re.findall(r"`([a-z-]+)`", calls.split(":", 1)[1])
    assert sorted(labels) == sorted([*Outcome, metrics.OTHER])
    by_tenant = metric_row(page(path), "psc_hook_tenant_calls_total").split("`outcome`", 1)[1]
    known, unknown = by_tenant.split(";")
    assert re.findall(r"`([a-z-]+)`", known) == list(TENANT_OUTCOMES)
    assert re.findall(r"`([a-z-]+)`", unknown) == [*NO_TENANT_OUTCOMES, NO_TENANT]


@pytest.mark.parametrize("name", markdown_pages())
def test_a_page_that_runs_psc_hook_says_where_it_is(name: str) -> None:
    """make install puts psc-hook in .venv/bin, not on the PATH."""
    text = page(name)
    if any(line.lstrip().startswith("psc-hook ") for line in code_lines(text)):
        assert ON_PATH in text or ".venv/bin/psc-hook" in text


def test_the_production_quick_start_is_ten_steps_near_the_top() -> None:
    for name in ("docs/going-live.md", "docs/fr/going-live.md"):
        text = page(name)
        steps = re.findall(r"^(\d+)\. ", text.split("\n## ", 2)[1], re.MULTILINE)
        assert steps == [str(n) for n in range(1, 11)], name
        quick = text.split("\n## ", 2)[1]
        for word in ("/readyz", "send", "register", "doctor", "check-token", "ANS"):
            assert word in quick, (name, word)


#: What the docs once said that was not true, and why.
UNTRUE = {
    "chu-exemple-psc-hook.herokuapp.com": "a new Heroku app's host has a random suffix",
    "To scale, add dynos": "Heroku's Basic type allows one dyno per process type",
    "With the button": "there is no Deploy button: this repository has no public URL",
    "python:3.11-slim ": "the image is built on python:3.11-slim-trixie",
    "metrics, when enabled": "the metrics are always on",
    "measured before metrics": "the benchmark ran with the metrics on",
    "aus1psc0hook0example7": "the PSC server's example id named the hook's caller server",
    "heroku config -s` prints them": "Render's section ended in Heroku commands",
    "auth.bas.esw.esante.gouv.fr/auth": "PSC's sandbox is auth.bas.psc.esante.gouv.fr (ANS's"
    " keycloak-prosanteconnect); the former host is named, never given as an issuer or URI",
}


@pytest.mark.parametrize("name", markdown_pages())
def test_the_docs_no_longer_say_what_is_not_true(name: str) -> None:
    text = page(name)
    assert {phrase: why for phrase, why in UNTRUE.items() if phrase in text} == {}


def test_each_platform_page_says_whether_it_is_hds() -> None:
    for english, french in translated_pages():
        if "/deploy/" in english and not english.endswith("README.md"):
            assert "HDS" in page(english).split("\n## ", 1)[0], english
            assert "HDS" in page(french).split("\n## ", 1)[0], french
