"""The evidence dossier written out for a person, in French (its usual reader is an ANS
referent or a French security officer) or in English.

Rendered from the same data as ``evidence.json``, so the two cannot say different things.
Text the project did not write (names from the org, Okta's reasons, the configuration's
values) is escaped, so that it cannot turn into a link, an image or markup in a viewer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hook.cli.dossier_words import AREA_NAMES, FLOW_NAMES, TEXTS
from hook.config import CLAIM_NAMES
from hook.okta import COMMAND_TYPES
from hook.refusals import span

TOKEN_KINDS = ("identity", "access")
#: What could turn text into a link, an image, HTML, code or a table cell.
MARKUP = re.compile(r"([\\`*\[\]<|])")


def escaped(text: Any) -> str:
    """Text written as data: no character of it turns into markup."""
    return MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def code(text: Any) -> str:
    """Inline code, whatever backticks the text holds."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if "`" in text else f"`{text}`"


def block(text: str, language: str = "") -> list[str]:
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [f"{fence}{language}", text, fence]


def listed(values: list[Any]) -> str:
    return ", ".join(code(value) for value in values) or "—"


def _release(data: dict[str, Any], t: dict[str, str]) -> list[str]:
    release = data["release"]
    lock = release["lock"]
    lines = [f"## {t['release']}", "", "- " + t["version"].format(version=release["version"])]
    if lock["available"]:
        lines.append("- " + t["lock"].format(**lock))
    else:
        lines.append("- " + t["no_lock"].format(file=lock["file"], version=release["version"]))
    lines += ["- " + t["running"], "", t["dependencies"], ""]
    lines += [f"- {d['name']} {d['version'] or '—'}" for d in release["dependencies"]]
    return [*lines, ""]


def _plan(plan: dict[str, Any], t: dict[str, str]) -> list[str]:
    lines = [f"## {t['plan']}", ""]
    if plan["tenants"]:
        lines += [t["tenants"].format(claim=code(plan["tenant_claim"])), "", t["tenant_head"]]
        lines.append("|---|---|---|---|")
        for tenant in plan["tenants"]:
            cells = (code(tenant["tid"]), code(tenant["kc_idp_hint"] or "—"))
            lists = (listed(tenant["match"]), listed(tenant["client_ids"]))
            lines.append(f"| {' | '.join(cells + lists)} |")
        lines.append("")
    else:
        lines.append("- " + t["tid"].format(tid=code(plan["tid"])))
    hint = plan["kc_idp_hint"]
    lines.append("- " + (t["hint"].format(hint=code(hint)) if hint else t["no_hint"]))
    clients = listed(plan["clients"]) if plan["clients"] else t["all_clients"]
    lines.append("- " + t["clients"].format(clients=clients))
    auth = plan["auth"]
    if (header := auth.get("header")) and header["first"] is None:
        lines.append("- " + t["header_unread"].format(name=code(header["name"])))
    elif header:
        lines.append(
            "- "
            + t["header"].format(
                name=code(header["name"]), count=header["secrets"], first=code(header["first"])
            )
        )
    if oauth := auth.get("oauth"):
        values = {key: code(oauth[key]) for key in ("issuer", "audience")}
        lines.append(
            "- "
            + t["oauth"].format(
                **values,
                jwks=code(oauth["jwks_uri"]),
                scopes=listed(oauth["scopes"]),
                clients=listed(oauth["client_ids"]),
                algorithms=listed(oauth["algorithms"]),
            )
        )
    lines += ["", t["claims"], "", t["claim_head"], "|---|---|---|---|"]
    fixed = {"tid": plan["tid"], "kc_idp_hint": hint}
    for claim in CLAIM_NAMES:
        placed = [t["yes"] if claim in plan["claims"][kind] else t["no"] for kind in TOKEN_KINDS]
        if claim in fixed:
            value = code(fixed[claim]) if fixed[claim] else t["per_tenant"]
        else:
            value = t[f"{claim}_value"]
        lines.append(f"| `{claim}` | {value} | {' | '.join(placed)} |")
    age = plan["max_auth_age"]
    cps = listed(plan["cps_idp_ids"]) if plan["cps_idp_ids"] else t["no_cps"]
    lines += [
        "",
        t["gates"],
        "",
        "- " + t["min_assurance"].format(value=code(plan["min_assurance"])),
        "- " + t["cps"].format(value=cps),
        "- " + t["age"].format(value=span(age) if age else t["no_gate"]),
    ]
    if plan["warnings"]:
        lines += ["", t["warnings"], ""] + [f"- {escaped(w)}" for w in plan["warnings"]]
    return [*lines, ""]


def _amr(plan: dict[str, Any], t: dict[str, str]) -> list[str]:
    lines = [f"## {t['amr']}", "", t["amr_intro"], "", t["amr_head"], "|---|---|---|---|---|---|"]
    notes = []
    for rule in plan["amr_rules"]:
        through = rule["through_idps"]
        idps = t["any_idp"] if through is None else listed(through)
        origin = t["shipped"] if rule["origin"] == "hook/amr_rules.json" else t["extension"]
        cells = [
            code(rule["name"]),
            " + ".join(map(code, rule["when"])),
            idps,
            code(" ".join(rule["amr"])),
            rule["assurance"],
            origin,
        ]
        lines.append(f"| {' | '.join(cells)} |")
        source = escaped(rule["source"]) if rule["source"] else t["no_source"]
        notes.append(f"- {code(rule['name'])}: {t['source']}: {source}")
        if rule["why"]:
            notes.append(f"  {t['why']}: {escaped(rule['why'])}")
        if rule["assurance_override"]:
            notes.append(f"  {t['override']}: {escaped(rule['assurance_override'])}")
    aliases = ", ".join(f"{code(k)} = {code(v)}" for k, v in plan["amr_aliases"].items())
    return [*lines, "", *notes, "", t["aliases"].format(aliases=aliases or "—"), ""]


def _ops(commands: list[dict[str, Any]], t: dict[str, str]) -> str:
    names = {command_type: t[f"{kind}_token"] for kind, command_type in COMMAND_TYPES.items()}
    lines = []
    for command in commands:
        lines.append(f"{names.get(command.get('type'), command.get('type'))}:")
        for op in command.get("value") or []:
            value = json.dumps(op.get("value"), ensure_ascii=False)
            lines.append(f"  {op.get('op')} {op.get('path')} = {value}")
    return "\n".join(lines)


def _verdict(answer: dict[str, Any], okta: dict[str, Any], t: dict[str, str]) -> list[str]:
    """What the hook answered, and what Okta does with it."""
    lines = ["- " + t["answer"].format(status=answer["status"], outcome=answer["outcome"])]
    if answer["error"]:
        lines.append("- " + t["refusal"].format(error=code(answer["error"])))
    elif not answer["commands"]:
        lines.append("- " + t["nothing"])
    if okta["voided"]:
        lines.append("- " + t["voided"].format(reason=escaped(okta["voided"])))
    elif not okta["minted"]:
        lines.append("- " + t["not_minted"])
    elif answer["commands"]:
        lines.append("- " + t["applied"])
    return lines


def _flows(data: dict[str, Any], t: dict[str, str], lang: str) -> list[str]:
    lines = [f"## {t['flows']}", "", t["flows_intro"], ""]
    for flow in data["flows"]:
        title = FLOW_NAMES.get(flow["flow"]) if lang == "fr" else None
        answer = flow["answer"]
        lines += [f"### {flow['flow']}: {escaped(title or flow['description'])}", ""]
        if flow["client"]:
            lines.append("- " + t["client"].format(client=code(flow["client"])))
        lines += _verdict(answer, flow["okta"], t)
        if answer["commands"]:
            lines += ["", t["patch"], "", *block(_ops(answer["commands"], t))]
        for kind, claims in flow["tokens"].items():
            text = json.dumps(claims, indent=2, ensure_ascii=False)
            lines += ["", t["token"].format(name=t[kind]), "", *block(text, "json")]
        lines.append("")
    return lines


def _system_log(log: dict[str, Any], t: dict[str, str]) -> list[str]:
    counts = (log["calls"], log["failed_calls"], log["processed"], log["refused_answers"])
    lines = ["", t["log"].format(since=log["since"], until=log["until"]), "", t["log_rows"]]
    lines += ["|---|---|---|---|", "| " + " | ".join(map(str, counts)) + " |"]
    if not log["complete"]:
        lines += ["", t["partial"].format(until=escaped(log["read_until"]))]
    return lines


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _audit(data: dict[str, Any], t: dict[str, str], lang: str) -> list[str]:
    audit, names = data["audit"], AREA_NAMES[lang]
    lines = [f"## {t['audit']}", ""]
    parts = "; ".join(_lower_first(names.get(area, area)) for area in audit["missing"])
    if not audit["done"]:
        return [*lines, t["no_org"].format(parts=parts), ""]
    lines.append(
        t["audit_of"].format(
            org=code(audit["org"]),
            env=code(audit["psc_env"]),
            issuer=code(audit["psc_issuer"]),
            hours=audit["since_hours"],
        )
    )
    count = audit["findings"]
    lines += ["", t["found"].format(count=count) if count else t["all_hold"], "", t["quoted"]]
    for area in audit["areas"]:
        lines += ["", f"### {escaped(names.get(area['area'], area['area']))}", ""]
        for finding in area["findings"]:
            lines.append(f"- ✗ {code(finding['code'])} {escaped(finding['problem'])}")
            lines.append(f"  *{t['todo']}* {escaped(finding['fix'])}")
        lines += [f"- ✓ {escaped(hold)}" for hold in area["holds"]]
        lines += [f"- {t['note']} {escaped(note)}" for note in area["notes"]]
        if area["area"] == "system-log" and audit["system_log"]:
            lines += _system_log(audit["system_log"], t)
    if audit["missing"]:
        lines += ["", t["no_hook"].format(parts=parts)]
    return [*lines, ""]


def markdown(data: dict[str, Any]) -> str:
    """``evidence.md``: the dossier in its language."""
    lang = data["lang"]
    t = TEXTS[lang]
    date, time = data["generated"][:10], data["generated"][11:16]
    version = data["release"]["version"]
    lines = [f"# {t['title']}", "", t["intro"].format(date=date, time=time, version=version)]
    lines += ["", t["private"], ""]
    lines += _release(data, t) + _plan(data["plan"], t) + _amr(data["plan"], t)
    lines += _flows(data, t, lang) + _audit(data, t, lang)
    return "\n".join(lines).rstrip() + "\n"
