"""The doctor's audit of the org's identity providers: the smart-card (X509) IdPs that
read CPS cards, against PSC_CPS_IDP_IDS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hook.cli.report import Report
from hook.config import Settings


def _idp_label(idp: Mapping[str, Any]) -> str:
    return f"{idp.get('name')!r} ({idp.get('id')})"


def smart_card_findings(idps: list[dict[str, Any]], settings: Settings, report: Report) -> None:
    """PSC_CPS_IDP_IDS against the org's smart-card (X509) IdPs: only a CPS reader gives eleve."""
    cards = {idp.get("id"): idp for idp in idps if idp.get("type") == "X509"}
    known = ", ".join(map(_idp_label, cards.values())) or "none"
    if not settings.cps_idp_ids:
        if cards:
            report.add(
                "cps-idps-unset",
                f"PSC_CPS_IDP_IDS is not set: a CPS card gives no eleve, though the org has"
                f" smart-card IdPs: {known}.",
                "Set PSC_CPS_IDP_IDS to the id of the IdP that reads CPS cards (Security >"
                " Identity Providers), here and on the service.",
            )
        return
    for idp_id in sorted(settings.cps_idp_ids):
        idp = cards.get(idp_id)
        if idp is None or idp.get("status") != "ACTIVE":
            state = "is not a smart-card IdP of the org" if idp is None else "is not ACTIVE"
            report.add(
                "cps-idp-not-found",
                f"PSC_CPS_IDP_IDS names {idp_id}, which {state} (smart-card IdPs: {known}):"
                " its CPS cards give no eleve.",
                "Set PSC_CPS_IDP_IDS to the id of the active smart-card IdP that reads CPS"
                " cards (Security > Identity Providers > the IdP), here and on the service.",
            )
        else:
            report.holds.append(
                f"The smart-card IdP {_idp_label(idp)} reads CPS cards (PSC_CPS_IDP_IDS)."
            )
    others = [idp for idp_id, idp in cards.items() if idp_id not in settings.cps_idp_ids]
    if others:
        report.holds.append(
            f"Other smart-card IdPs give no eleve: {', '.join(map(_idp_label, others))}."
        )
