"""The doctor's audit of the org's identity providers: the smart-card (X509) IdPs that
read CPS cards, against PSC_CPS_IDP_IDS, and the AMR values Okta records for them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hook.cli import okta_api
from hook.cli.report import Report
from hook.config import Settings
from hook.psc_amr_sets import of_assurance, published


def _idp_label(idp: Mapping[str, Any]) -> str:
    return f"{idp.get('name')!r} ({idp.get('id')})"


def smart_card_findings(idps: list[dict[str, Any]], settings: Settings, report: Report) -> None:
    """PSC_CPS_IDP_IDS against the org's smart-card (X509) IdPs: only a CPS reader gives eleve."""
    cards = {idp["id"]: idp for idp in idps
             if idp.get("type") == "X509" and isinstance(idp.get("id"), str)}  # fmt: skip
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


def smart_card_amr(additional: list[str]) -> frozenset[str]:
    """The amr Okta itself records for a sign-in through a smart-card IdP whose
    ``properties.additionalAmr`` is ``additional``: ``sc`` and ``swk`` by default, ``hwk``
    in place of ``swk``, and the other values added (Okta's "configure AMR claims mapping")."""
    added = set(additional)
    return frozenset({"sc", "hwk" if "hwk" in added else "swk"} | added)


def cps_amr_findings(idps: list[dict[str, Any]], settings: Settings, report: Report) -> None:
    """Each active CPS card reader of PSC_CPS_IDP_IDS makes Okta itself record PSC's élevé
    set, which the ID token can only get from Okta (its amr is reserved to Okta)."""
    eleve = of_assurance("eleve")
    for idp in idps:
        if idp.get("id") not in settings.cps_idp_ids or idp.get("status") != "ACTIVE":
            continue
        additional = okta_api.strings(okta_api.at(idp, "properties", "additionalAmr"))
        recorded = smart_card_amr(additional)
        if published(recorded) == eleve:
            report.holds.append(
                f"The smart-card IdP {_idp_label(idp)} has the AMR values {', '.join(additional)}:"
                f" Okta itself records {' '.join(sorted(recorded))}, PSC's élevé set,"
                " in both tokens."
            )
            continue
        # Okta's AMR values are sc, hwk, pin, mfa: short of PSC's set, some are missing
        missing = sorted(eleve.amr - recorded) or sorted(eleve.amr - {"sc"})
        report.add(
            "cps-idp-amr-incomplete",
            f"The smart-card IdP {_idp_label(idp)} has the AMR values"
            f" {', '.join(additional) or 'none'} (additionalAmr), without {', '.join(missing)}:"
            " Okta records a CPS card's"
            f" sign-in as {' '.join(sorted(recorded))}, not PSC's élevé set"
            f" ({' '.join(sorted(eleve.amr))}), in the ID token, whose amr only Okta writes.",
            "Security > Identity Providers > the IdP > Edit > AMR values: add"
            f" {', '.join(missing)}; Okta then records {' '.join(sorted(eleve.amr))} in both"
            " tokens.",
        )


def audit_idps(client: okta_api.OktaClient, settings: Settings, report: Report) -> None:
    """The org's smart-card IdPs (every page) against PSC_CPS_IDP_IDS and PSC's élevé set."""
    report.begin("idps")
    idps = client.listing(okta_api.SMART_CARD_IDPS_PATH)
    smart_card_findings(idps, settings, report)
    cards = [idp for idp in idps if idp.get("type") == "X509" and isinstance(idp.get("id"), str)]
    cps_amr_findings(cards, settings, report)
