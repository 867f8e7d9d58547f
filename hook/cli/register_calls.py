"""The calls ``psc-hook register`` makes to Okta beyond saving the hook: find the hook of
that name (one at most, so that a second run updates it), read the id Okta gave the hook
it saved, and attach it to a rule."""

from __future__ import annotations

from typing import Any

from hook.cli import okta_api
from hook.cli.register_plan import HookPlan


def hook_plan(client: okta_api.OktaClient, name: str, channel: dict[str, Any]) -> HookPlan:
    """Find the token hook of that name (one at most), so that a second run updates it."""
    same = [hook for hook in client.listing(okta_api.TOKEN_HOOKS_PATH) if hook.get("name") == name]
    if len(same) > 1:
        raise okta_api.ApiError(
            f"{len(same)} token inline hooks are named {name!r}"
            f" ({', '.join(str(hook.get('id')) for hook in same)}): delete all but one"
            " (Workflow > Inline Hooks), or give another --name."
        )
    if not same:
        return HookPlan(okta_api.create_hook(name, channel), None, [])
    [current] = same
    call = okta_api.replace_hook(str(current.get("id")), name, channel)
    return HookPlan(call, current, okta_api.hook_changes(current, channel))


def saved_id(hook: dict[str, Any]) -> str:
    """The id of the hook Okta saved, which its answer must name."""
    if not isinstance(hook.get("id"), str) or not hook["id"]:
        raise okta_api.Malformed("Okta's answer names no id for the hook it saved.")
    return hook["id"]


def attach_rule(
    client: okta_api.OktaClient,
    rule: str,
    hook_id: str,
    *,
    rule_id: str | None,
    policy: str | None,
    auth_server: str | None,
) -> dict[str, Any]:
    """Read the rule, then put it back whole with its token action calling the hook."""
    current = client.call(okta_api.ApiCall("GET", rule))
    updated = client.call(okta_api.ApiCall("PUT", rule, okta_api.attach(current, hook_id)))
    return {
        "id": updated.get("id", rule_id),
        "name": updated.get("name"),
        "policy": policy,
        "authorization_server": auth_server,
        "inline_hook": okta_api.attached_hook(updated),
    }
