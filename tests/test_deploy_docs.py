"""The deploy pages say what is true: which platform waits for /readyz, how Clever Cloud
deploys, and that the "image on top" recipe builds from the context it names."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.support.dockerfile import build_context, instructions
from tests.support.docs import page
from tests.support.settings import ROOT

DEPLOY_PAGES = ("docs/deploy/README.md", "docs/fr/deploy/README.md")
#: The platforms whose own configuration makes them wait for /readyz, and where it says so.
WAITS_FOR_READYZ = ("Render", "Clever Cloud", "Kubernetes")
LISTENING_ONLY = ("Heroku", "Scalingo")


def readiness_rows(path: str) -> dict[str, str]:
    """The rows of the page's table of what each platform waits for, by platform."""
    rows = {}
    for line in page(path).splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 2 and ("/readyz" in cells[1] or "$PORT" in cells[1]):
            rows[cells[0]] = cells[1]
    return rows


@pytest.mark.parametrize("path", DEPLOY_PAGES)
def test_the_deploy_page_says_per_platform_what_a_new_deploy_waits_for(path):
    rows = readiness_rows(path)
    for platform in WAITS_FOR_READYZ:
        assert "`/readyz`" in rows[platform] and "200" in rows[platform], (platform, rows)
    for platform in LISTENING_ONLY:
        assert "`$PORT`" in rows[platform] and "200" not in rows[platform], (platform, rows)


def test_the_platforms_said_to_wait_for_readyz_are_configured_to():
    render = yaml.safe_load((ROOT / "deploy" / "render.yaml").read_text())
    assert render["services"][0]["healthCheckPath"] == "/readyz"
    assert "clever env set CC_HEALTH_CHECK_PATH /readyz" in page("docs/deploy/clever-cloud.md")
    documents = yaml.safe_load_all((ROOT / "deploy/kubernetes/deployment.yaml").read_text())
    [deployment] = [document for document in documents if document["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # Heroku and Scalingo have no health check path in their manifests to rely on.
    assert "healthcheck" not in page("app.json").lower()
    assert "healthcheck" not in page("scalingo.json").lower()


def test_no_page_says_every_platform_checks_readyz():
    claim = re.compile(r"\b(each|every|all)\b.*\b(checks?|waits? for)\b.*/readyz", re.IGNORECASE)
    for path in ("docs/deploy/README.md", "docs/operations.md"):
        sentences = re.split(r"[.:]\s", page(path).replace("\n", " "))
        assert not [sentence for sentence in sentences if claim.search(sentence)], path


@pytest.mark.parametrize("path", ["docs/deploy/clever-cloud.md", "docs/fr/deploy/clever-cloud.md"])
def test_clever_cloud_deploys_with_clever_tools_not_a_remote_clever_create_never_adds(path):
    text = page(path)
    commands = [shlex.split(line) for line in text.splitlines() if line.startswith("clever ")]
    assert ["clever", "deploy"] in commands
    assert commands.index(["clever", "deploy"]) == len(commands) - 1  # after every setting
    assert "git push" not in text


def fenced(text: str, language: str, after: str) -> str:
    """The first ``language`` block that follows the sentence ``after``."""
    start = text.index(after)
    match = re.search(rf"```{language}\n(.*?)```", text[start:], re.DOTALL)
    assert match, (language, after)
    return "\n".join(line.strip() for line in match.group(1).splitlines())


@pytest.mark.parametrize(
    ("path", "anchor"),
    [
        ("docs/deploy/README.md", "own image on top"),
        ("docs/fr/deploy/README.md", "image par-dessus"),
    ],
)
def test_the_image_on_top_recipe_builds_from_the_context_it_names(path, anchor, tmp_path):
    """The recipe's files, in a clone, sent as ``docker build`` sends its context: every
    COPY source is in it, and lands where the page's variables point."""
    text = page(path)
    dockerfile = fenced(text, "dockerfile", anchor)
    [build] = [shlex.split(line) for line in fenced(text, "sh", anchor).splitlines() if line]
    assert build[:2] == ["docker", "build"]
    context_dir = build[-1]
    clone = tmp_path / "clone"
    (clone / "config").mkdir(parents=True)
    (clone / ".dockerignore").write_text((ROOT / ".dockerignore").read_text())
    for name in ("amr_rules.json", "tenants.json"):
        (clone / "config" / name).write_text("{}")
    (clone / "config" / "Dockerfile").write_text(dockerfile)

    context = build_context(clone / context_dir, tmp_path / "context")
    steps = instructions(dockerfile)
    assert steps[0] == ("FROM", "psc-token-hook")  # the tag the container page builds
    assert "docker build -t psc-token-hook ." in page("docs/deploy/container.md")
    [copy] = [args for keyword, args in steps if keyword == "COPY"]
    *sources, destination = copy.split()
    for source in sources:
        assert (context / source).is_file(), f"{source} is not in the build context"
    for variable, name in (("PSC_AMR_RULES", "amr_rules.json"), ("PSC_TENANTS", "tenants.json")):
        assert f"`{variable}={Path(destination) / name}`" in text
