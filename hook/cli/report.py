"""What ``psc-hook doctor`` reports, as data: the findings to fix and what holds.

Apart from the command so that each audit module (the hook and its rules, the System Log,
the test run, the identity providers, the apps and their policies) adds to one report
without importing the command; each starts its area (:meth:`Report.begin`), which the
evidence dossier groups by.
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


@dataclass(frozen=True)
class Area:
    """One area of the audit: its findings, what holds there and its notes."""

    name: str
    findings: list[Finding]
    holds: list[str]
    notes: list[str]


@dataclass
class Report:
    """What the doctor found: the findings to fix, in order, what holds, notes: what is
    worth knowing without being wrong (PSC accepts it, or nothing here can say), the
    checks skipped and why (the credentials do not allow them); what an area read, as data
    (``details``); where each area of the audit starts (``marks``)."""

    findings: list[Finding] = field(default_factory=list)
    holds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    marks: list[tuple[str, int, int, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, code: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(code, problem, fix))

    def begin(self, area: str) -> None:
        """What is found from now on belongs to ``area`` (the evidence dossier groups by it)."""
        self.marks.append((area, len(self.findings), len(self.holds), len(self.notes)))

    def areas(self) -> list[Area]:
        """The areas, in the order the audit ran them, each with what it found."""
        ends = [mark[1:] for mark in self.marks[1:]]
        ends.append((len(self.findings), len(self.holds), len(self.notes)))
        return [
            Area(
                area,
                self.findings[found:found_end],
                self.holds[held:held_end],
                self.notes[noted:noted_end],
            )
            for (area, found, held, noted), (found_end, held_end, noted_end) in zip(
                self.marks, ends, strict=True
            )
        ]

    def as_dict(self) -> dict[str, Any]:
        area_of = {id(f): area.name for area in self.areas() for f in area.findings}
        findings = [{**asdict(f), "area": area_of.get(id(f), "")} for f in self.findings]
        return {
            "findings": findings,
            "holds": self.holds,
            "notes": self.notes,
            "skipped": self.skipped,
            **self.details,
        }
