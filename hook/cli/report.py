"""What ``psc-hook doctor`` reports, as data: the findings to fix and what holds.

Apart from the command so that each audit module (the hook and its rules, the apps and
their policies, the identity providers) adds to one report without importing the command.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """Something that keeps PSC's claims out of the tokens: what is wrong, what to do."""

    code: str
    problem: str
    fix: str


@dataclass
class Report:
    """What the doctor found: the findings to fix, in order, what holds, notes: what is
    worth knowing without being wrong (PSC accepts it, or nothing here can say), and the
    checks skipped, and why (the credentials do not allow them)."""

    findings: list[Finding] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, code: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(code, problem, fix))

    def as_dict(self) -> dict[str, Any]:
        return {
            "findings": [asdict(finding) for finding in self.findings],
            "holds": self.holds,
            "notes": self.notes,
            "skipped": self.skipped,
        }
