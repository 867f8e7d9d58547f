"""Okta's own verdict on the hook, read back from its System Log.

Okta issues tokens without PSC's claims, and says nothing to the user, when the hook is
late, unreachable or answers an error, and when it cannot apply the hook's answer: only
its System Log records it, in the events ``inline_hook.executed`` (each call Okta made)
and ``inline_hook.response.processed`` (what it did with the answer). Okta does not
publish what ``outcome.reason``, ``displayMessage`` and ``debugData`` hold for each
failure, so they are data here: an event is classified by its ``eventType`` and
``outcome.result`` only (``LogEvent``'s schema), grouped by its reason as an opaque
string, and shown cut to a bound with control characters removed. ``debugData`` is not
shown: Okta says its keys and values change between releases, and it may name the user;
each group gives its latest event's ``uuid`` to look it up in the Admin Console.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from hook.cli import okta_api
from hook.cli.report import Report
from hook.cli.terminal import printable
from hook.config import Settings

EXECUTED = "inline_hook.executed"
PROCESSED = "inline_hook.response.processed"
#: The System Log's filter for the hook's events (okta-management.md, Okta's own example).
LOG_FILTER = f'eventType eq "{EXECUTED}" or eventType eq "{PROCESSED}"'
LOGS_PATH = "/api/v1/logs"
#: Okta's largest page of events.
PAGE_LIMIT = 1000
#: How much of the System Log one audit reads: so many pages, for so many seconds at most.
MAX_LOG_PAGES = 20
LOG_BUDGET_SECONDS = 60.0
#: Okta keeps its System Log 90 days.
MAX_SINCE = timedelta(days=90)
DEFAULT_SINCE = "24h"
#: Characters of Okta's text kept, and groups of reasons shown, per kind of failure.
TEXT_LIMIT = 200
MAX_GROUPS = 10
NO_REASON = "(no reason given)"
SINCE = re.compile(r"([0-9]{1,4})\s*([mhd])")
SINCE_UNITS = {"m": 60, "h": 3600, "d": 86400}
#: How an operator finds an event in the Admin Console.
CONSOLE = 'Reports > System Log, search: uuid eq "<event>"'


def parse_since(text: str) -> timedelta:
    """``--since``: minutes, hours or days (``30m``, ``24h``, ``7d``), 1 min to 90 days."""
    found = SINCE.fullmatch(text.strip().lower())
    span = timedelta(seconds=int(found[1]) * SINCE_UNITS[found[2]]) if found else timedelta()
    if not timedelta(minutes=1) <= span <= MAX_SINCE:
        raise ValueError(
            f"{text!r} is not a period of 1 minute to 90 days (30m, 24h, 7d): Okta keeps its"
            " System Log 90 days"
        )
    return span


DEFAULT_PERIOD = parse_since(DEFAULT_SINCE)


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def log_path(since: datetime, until: datetime) -> str:
    """``GET /api/v1/logs`` for the hook's events of a closed period, newest first: with
    ``until`` the query is bounded (without it Okta polls, and always links a next page)."""
    query = {
        "since": since.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "until": until.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "filter": LOG_FILTER,
        "limit": PAGE_LIMIT,
        "sortOrder": "DESCENDING",
    }
    return f"{LOGS_PATH}?{urlencode(query, quote_via=quote)}"


@dataclass(frozen=True)
class Group:
    """Events of one kind that share Okta's result and reason, and the latest of them."""

    result: str
    reason: str
    count: int
    latest: str
    message: str
    event: str


@dataclass(frozen=True)
class LogSummary:
    """What the System Log says of the hook over a period."""

    since: str
    until: str
    calls: int = 0
    failed: tuple[Group, ...] = ()
    processed: int = 0
    refused: tuple[Group, ...] = ()
    #: False when the reading stopped at its bound; ``read_until`` is then the oldest read.
    complete: bool = True
    read_until: str | None = None
    #: Events beyond :data:`MAX_GROUPS` groups, counted but not shown one by one.
    others: dict[str, int] = field(default_factory=dict)

    @property
    def failed_calls(self) -> int:
        return sum(group.count for group in self.failed) + self.others.get("failed", 0)

    @property
    def refused_answers(self) -> int:
        return sum(group.count for group in self.refused) + self.others.get("refused", 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "failed_calls": self.failed_calls,
            "refused_answers": self.refused_answers,
        }


def _text(value: Any) -> str:
    return printable(value, TEXT_LIMIT) if isinstance(value, str) else ""


def _published(event: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(event.get("published")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _targets_hook(event: Mapping[str, Any], hook_id: str) -> bool:
    targets = event.get("target")
    return isinstance(targets, list) and any(
        isinstance(target, dict) and target.get("id") == hook_id for target in targets
    )


def _groups(events: list[Mapping[str, Any]]) -> tuple[list[Group], int]:
    """The events grouped by (result, reason), most frequent first; the events of the
    groups beyond :data:`MAX_GROUPS` are only counted."""
    found: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for event in events:
        outcome = event.get("outcome") or {}
        key = (_text(outcome.get("result")) or "UNKNOWN", _text(outcome.get("reason")) or NO_REASON)
        found.setdefault(key, []).append(event)
    groups = []
    for (result, reason), members in found.items():
        latest = max(members, key=_published)
        groups.append(
            Group(
                result,
                reason,
                len(members),
                _text(latest.get("published")),
                _text(latest.get("displayMessage")),
                _text(latest.get("uuid")),
            )
        )
    groups.sort(key=lambda group: (-group.count, group.result, group.reason))
    return groups[:MAX_GROUPS], sum(group.count for group in groups[MAX_GROUPS:])


def summarise(
    events: Iterable[Mapping[str, Any]], hook_id: str, since: str, until: str
) -> LogSummary:
    """The hook's calls and answers among ``events``: a call or an answer fails unless
    Okta's ``outcome.result`` is ``SUCCESS``."""
    kinds: dict[str, list[Mapping[str, Any]]] = {EXECUTED: [], PROCESSED: []}
    for event in events:
        if event.get("eventType") in kinds and _targets_hook(event, hook_id):
            kinds[str(event["eventType"])].append(event)

    def failures(kind: str) -> list[Mapping[str, Any]]:
        return [e for e in kinds[kind] if (e.get("outcome") or {}).get("result") != "SUCCESS"]

    failed, failed_others = _groups(failures(EXECUTED))
    refused, refused_others = _groups(failures(PROCESSED))
    others = {"failed": failed_others, "refused": refused_others}
    return LogSummary(
        since,
        until,
        calls=len(kinds[EXECUTED]),
        failed=tuple(failed),
        processed=len(kinds[PROCESSED]),
        refused=tuple(refused),
        others={kind: count for kind, count in others.items() if count},
    )


def read_log(
    client: okta_api.OktaClient, hook_id: str, since: timedelta, now: datetime | None = None
) -> LogSummary:
    """The System Log's events of the hook over the period, newest first, read for at most
    :data:`MAX_LOG_PAGES` pages and :data:`LOG_BUDGET_SECONDS`; a reading cut short says so."""
    until = (now or datetime.now(UTC)).replace(microsecond=0)
    start = until - since
    deadline = time.monotonic() + LOG_BUDGET_SECONDS
    events: list[dict[str, Any]] = []
    complete = True
    for number, page in enumerate(client.pages(log_path(start, until)), start=1):
        events += page.items
        if not page.more:
            break
        if number >= MAX_LOG_PAGES or time.monotonic() >= deadline:
            complete = False
            break
    summary = summarise(
        events, hook_id, f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{until:%Y-%m-%dT%H:%M:%SZ}"
    )
    if complete:
        return summary
    oldest = min(events, key=_published, default={})
    return replace(summary, complete=False, read_until=_text(oldest.get("published")))


def _groups_text(groups: tuple[Group, ...], others: int) -> str:
    shown = [
        f"{group.result} {group.reason!r} x{group.count} (latest {group.latest},"
        f" event {group.event or 'without uuid'}"
        + (f", {group.message!r}" if group.message else "")
        + ")"
        for group in groups
    ]
    if others:
        shown.append(f"and {others} more of other reasons")
    return "; ".join(shown)


def _without_oid(settings: Settings) -> str:
    return ",".join(claim for claim in settings.claims["identity"] if claim != "oid")


def log_findings(summary: LogSummary, attached: bool, settings: Settings, report: Report) -> None:
    """Okta's verdict on the period: failed calls, answers not applied, or no call at all
    though an active rule calls the hook."""
    period = f"from {summary.since} to {summary.until}"
    if not summary.complete:
        period += f" (read back to {summary.read_until}: the reading stopped at its bound)"
    report.details["system_log"] = summary.as_dict()
    failed = _groups_text(summary.failed, summary.others.get("failed", 0))
    refused = _groups_text(summary.refused, summary.others.get("refused", 0))
    if summary.failed_calls:
        report.add(
            "okta-calls-failed",
            f"Okta's System Log records {summary.failed_calls} of its {summary.calls} calls"
            f" to the hook as failed, {period}: {failed}."
            " Okta issued those tokens without PSC's claims.",
            "Okta gives the hook 3 s and retries once: check the service answered (GET /readyz,"
            " the PscHookSlow and PscHookErrors alerts, its log lines at those times) and that"
            " the hook's URL and secret are the deployed service's. Each event is in the Admin"
            f" Console: {CONSOLE}.",
        )
    if summary.refused_answers:
        fix = (
            "An answer is not applied when the hook refused the sign-in on purpose (the"
            " service's log line then carries the refusal's code, such as"
            " psc_assurance_too_low) or when Okta could not apply its patch (a claim reserved"
            " in that token: psc-hook preview --strict shows which claims Okta may refuse)."
        )
        if "oid" in settings.claims["identity"]:
            fix += (
                " The ID token's placement holds oid, a claim Okta documents as reserved there:"
                f" set PSC_CLAIMS_ID_TOKEN={_without_oid(settings)!r} on the service (oid stays"
                " in the access token), redeploy, let users sign in, then run psc-hook doctor"
                " --since 1h again."
            )
        report.add(
            "okta-refused-answers",
            f"Okta's System Log records {summary.refused_answers} of the hook's"
            f" {summary.processed} answers as not applied, {period}:"
            f" {refused}. Okta issued"
            " those tokens without PSC's claims.",
            fix + f" Each event is in the Admin Console: {CONSOLE}.",
        )
    if attached and summary.calls == 0 and summary.complete:
        report.add(
            "no-calls-seen",
            f"An active rule calls the hook, but Okta's System Log records no call to it {period}:"
            " either nobody signed in through PSC's app then, or Okta does not reach that rule.",
            "Sign in to PSC once through your Okta (PSC's sandbox for a test), then run the"
            " doctor again with --since 1h. If still no call shows, check the rule's conditions"
            " (grant types, scopes, people) and the policy's clients match PSC's sign-ins.",
        )
    if summary.calls and not summary.failed_calls and not summary.refused_answers:
        report.holds.append(
            f"Okta's System Log, {period}: {summary.calls} calls to the hook, none failed;"
            f" {summary.processed} answers, all applied."
        )


def audit_log(
    client: okta_api.OktaClient,
    hook_id: str,
    called: bool,
    settings: Settings,
    since: timedelta,
    report: Report,
) -> None:
    """The System Log's area: Okta's verdict on its calls to the hook over ``since``;
    ``called``: an active rule calls the active hook, so calls are expected."""
    report.begin("system-log")
    log_findings(read_log(client, hook_id, since), called, settings, report)
