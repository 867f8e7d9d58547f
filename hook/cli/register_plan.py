"""What ``psc-hook register`` would do, as data and as text: the hook created or replaced
whole (the fields that change; never a secret, which Okta never returns), the hook the
rule's token action calls before and after, and the requests ``--dry-run`` prints with
their secrets masked."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hook.cli import okta_api
from hook.cli.output import indented

#: What register does to the hook, as its progress and its result say it.
HOOK_ACTIONS = {"create": ("Creating", "created"), "update": ("Updating", "updated")}


@dataclass(frozen=True)
class HookPlan:
    """What register does to the org's hook of that name: create it, or replace it whole."""

    call: okta_api.ApiCall
    current: dict[str, Any] | None
    changes: list[okta_api.Change]

    @property
    def action(self) -> str:
        return "create" if self.current is None else "update"

    @property
    def doing(self) -> str:
        return HOOK_ACTIONS[self.action][0]

    @property
    def done(self) -> str:
        return HOOK_ACTIONS[self.action][1]


def rule_change(rule: dict[str, Any], hook_id: str | None) -> dict[str, Any]:
    """What attaching changes in the rule as read: the hook its token action calls."""
    return {
        "id": rule.get("id"),
        "name": rule.get("name"),
        "status": rule.get("status"),
        "inline_hook": {"before": okta_api.attached_hook(rule), "after": hook_id},
    }


def rule_lines(change: dict[str, Any]) -> list[str]:
    before, after = change["inline_hook"]["before"], change["inline_hook"]["after"]
    target = f"the hook {after}" if after else "the hook it creates"
    head = f"The rule {change['name']!r} ({change['id']}, {change['status']})"
    if before is not None and before == after:
        lines = [f"{head} already calls {target}: unchanged."]
    elif before is None:
        lines = [f"{head} calls no inline hook: it would call {target}."]
    else:
        lines = [f"{head} calls the inline hook {before}: it would call {target} instead."]
    if change["status"] != "ACTIVE":
        lines.append("  Okta does not use a rule that is not ACTIVE: activate it.")
    return lines


def plan_data(plan: HookPlan, secret: str | None) -> dict[str, Any]:
    return {
        "action": plan.action,
        "id": None if plan.current is None else plan.current.get("id"),
        "changes": [asdict(change) for change in plan.changes],
        "secret": secret,
    }


def plan_lines(plan: HookPlan, name: str, secret: str | None) -> list[str]:
    """The difference, field by field; a secret is never shown, and Okta never returns it."""
    if plan.current is None:
        return [f"No token inline hook is named {name!r}: it is created."]
    hook_id = plan.current.get("id")
    lines = [f"The inline hook {name!r} exists (id {hook_id}): it is replaced whole."]
    lines += [f"  {c.field}: {c.before!r} -> {c.after!r}" for c in plan.changes]
    if not plan.changes:
        lines.append("  URL, channel and client: unchanged")
    if secret is not None:
        lines.append(
            f"  secret: set to {secret}; Okta never returns the one it holds, so whether it"
            " changes cannot be told"
        )
    return lines


@dataclass(frozen=True)
class DryRun:
    """A dry run's plan and requests. Without credentials the org is not ``read``: the
    arguments were checked, and ``plan`` creates the hook."""

    org: str
    name: str
    plan: HookPlan
    read: bool
    rule: str | None
    rule_change: dict[str, Any] | None
    secret: str | None
    authorization: str

    def requests(self) -> list[dict[str, Any]]:
        """The requests register would send, secrets masked."""
        rule = self.rule
        attaching = [okta_api.ApiCall("GET", rule), okta_api.ApiCall("PUT", rule)] if rule else []
        return [
            {
                "method": request.method,
                "url": self.org + request.path,
                "headers": {"Authorization": self.authorization},
                "body": okta_api.masked(request.body),
            }
            for request in [self.plan.call, *attaching]
        ]

    def as_dict(self) -> dict[str, Any]:
        hook = plan_data(self.plan, self.secret) if self.read else None
        return {
            "dry_run": True,
            "read": self.read,
            "hook": hook,
            "rule": self.rule_change,
            "requests": self.requests(),
        }

    def text(self) -> str:
        org, name = self.org, self.name
        if not self.read:
            lines = [
                f"Dry run without Okta credentials: {org} was not read; the arguments hold.",
                "With OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (or OKTA_API_TOKEN), it also reads"
                " the hook of that name and the rule.",
                f"register creates the token inline hook {name!r}, or replaces the one of"
                f" that name (PUT {org}/api/v1/inlineHooks/<its id>).",
            ]
        else:
            lines = [f"Dry run: {org} was only read.", *plan_lines(self.plan, name, self.secret)]
        lines += rule_lines(self.rule_change) if self.rule_change else []
        lines.append("\nThe requests it would send, secrets masked:")
        for request in self.requests():
            lines += [
                "",
                f"{request['method']} {request['url']}",
                f"Authorization: {self.authorization}",
            ]
            if request["body"] is not None:
                lines.append(indented(request["body"], prefix=""))
            elif request["method"] == "PUT":
                lines.append(
                    "(the rule as the GET returns it, with actions.token.inlineHook.id set)"
                )
        return "\n".join(lines)
