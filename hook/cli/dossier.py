"""The evidence dossier as data: what an establishment gives ANS and its security officer.

Every part is made by the code the other commands run, never restated: the release, the
plan of ``check-config``, the amr rules in force with where each set is published, every
shipped flow played through the configuration as ``preview`` plays it (the people in them
masked), and with an org, ``doctor``'s whole audit by area. Nothing in it names a person
or holds a secret: the samples' people are masked, secrets appear as fingerprints at
most, and the System Log's events are summarised without their actors.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from hook import samples
from hook.cli.audit_trial import trial_request
from hook.cli.config_plan import plan
from hook.cli.preview_run import played_through
from hook.cli.report import Report
from hook.config import Settings
from hook.psc_environments import Environment
from hook.version import __version__

FORMAT = 1
PROJECT = "psc-token-hook"
#: The areas of doctor's audit, in the order it runs them.
AREAS = ("hook", "rules", "system-log", "test-run", "idps", "apps", "policies")
#: Where a clone (or an editable install) keeps the lock; an installed wheel has none.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
LOCK = "requirements.txt"
REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Audit:
    """doctor's audit of an org, and how far back it read the System Log."""

    org: str
    since: timedelta
    report: Report


def lock(root: Path | None = None) -> dict[str, Any]:
    """The sha256 of the hash-pinned lock this release was installed from, when the package
    runs from its source (a clone, the container's build); an installed wheel carries no
    lock, and the dossier says so rather than guess."""
    root = root or SOURCE_ROOT
    project = root / "pyproject.toml"
    try:
        ours = f'name = "{PROJECT}"' in project.read_text(encoding="utf-8")
        data = (root / LOCK).read_bytes() if ours else None
    except OSError:
        data = None
    if data is None:
        return {"file": LOCK, "sha256": None, "available": False}
    return {"file": LOCK, "sha256": hashlib.sha256(data).hexdigest(), "available": True}


def dependencies() -> list[dict[str, str | None]]:
    """The versions installed of what the package declares it needs at run time."""
    try:
        declared = metadata.requires(PROJECT) or []
    except metadata.PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        name = REQUIREMENT_NAME.match(requirement)
        if name is None or "extra ==" in requirement:
            continue
        try:
            version: str | None = metadata.version(name.group())
        except metadata.PackageNotFoundError:
            version = None
        found.append({"name": name.group(), "version": version})
    return sorted(found, key=lambda dependency: str(dependency["name"]).lower())


def release() -> dict[str, Any]:
    return {"version": __version__, "lock": lock(), "dependencies": dependencies()}


def flows(settings: Settings, psc: Environment) -> list[dict[str, Any]]:
    """Every shipped sample played as doctor's test run plays it (PSC's client, a user of
    the first establishment, through ``psc``'s route), happening now, through the hook and
    Okta's applier, people masked."""
    played = []
    for name, description in samples.DESCRIPTIONS.items():
        request = trial_request(settings, name, psc)
        outcome = played_through(json.dumps(request).encode(), settings)
        body = outcome["answer"]["body"] or {}
        played.append(
            {
                "flow": name,
                "description": description,
                "client": samples.client_of(request),
                "answer": {
                    "status": outcome["answer"]["status"],
                    "outcome": outcome["answer"]["outcome"],
                    "commands": body.get("commands"),
                    "error": (body.get("error") or {}).get("errorSummary"),
                    "debugContext": body.get("debugContext"),
                },
                "okta": outcome["okta"],
                "tokens": outcome["tokens"],
            }
        )
    return played


def audit_part(audit: Audit | None, psc: Environment) -> dict[str, Any]:
    """doctor's findings and what holds, by area; without an org, the parts missing."""
    if audit is None:
        return {"done": False, "missing": list(AREAS), "why": "no-org"}
    areas = [
        {
            "area": area.name,
            "findings": [asdict(finding) for finding in area.findings],
            "holds": area.holds,
            "notes": area.notes,
        }
        for area in audit.report.areas()
        if area.findings or area.holds or area.notes
    ]
    ran = {area.name for area in audit.report.areas()}
    return {
        "done": True,
        "org": audit.org,
        "psc_env": psc.key,
        "psc_issuer": psc.issuer,
        "since_hours": audit.since / timedelta(hours=1),
        "findings": len(audit.report.findings),
        "areas": areas,
        "system_log": audit.report.details.get("system_log"),
        "missing": [area for area in AREAS if area not in ran],
        "why": None if ran >= set(AREAS) else "no-hook",
    }


def build(
    settings: Settings,
    psc: Environment,
    audit: Audit | None,
    lang: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The whole dossier, as evidence.json holds it and evidence.md renders it."""
    return {
        "dossier": "psc-token-hook evidence",
        "format": FORMAT,
        "lang": lang,
        "generated": f"{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M:%SZ}",
        "release": release(),
        "plan": plan(settings),
        "flows": flows(settings, psc),
        "audit": audit_part(audit, psc),
    }
