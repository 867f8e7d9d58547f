"""What the evidence dossier says, in French (by default: its reader is an ANS referent
or a French security officer) and in English: one key a sentence, the same keys in both."""

from __future__ import annotations

FR: dict[str, str] = {
    "title": "Dossier de preuve de conformité : psc-token-hook",
    "intro": (
        "Ce dossier décrit le hook qu'Okta appelle pour ajouter aux jetons les claims de Pro"
        " Santé Connect (`tid`, `oid`, `amr`, `kc_idp_hint`) : la version, la configuration,"
        " les règles `amr` en vigueur, le résultat de chaque parcours de connexion et l'audit"
        " de l'org Okta. Établi le {date} à {time} UTC par `psc-hook evidence` {version}."
    ),
    "private": (
        "Il ne contient ni donnée personnelle ni secret : les personnes des exemples sont"
        " fictives et masquées (`****`), un secret n'apparaît que par son empreinte."
        " `evidence.json` porte les mêmes informations pour une machine ; pour vérifier que"
        " rien n'a changé depuis : `sha256sum -c SHA256SUMS`."
    ),
    "release": "1. Version",
    "version": "Version de psc-token-hook : {version}.",
    "lock": (
        "Fichier de verrouillage des dépendances (`{file}`, empreintes vérifiées) :"
        " sha256 `{sha256}`."
    ),
    "no_lock": (
        "Fichier de verrouillage des dépendances : non disponible. psc-hook a été installé"
        " depuis un paquet, qui ne le contient pas ; comparez les versions ci-dessous avec le"
        " `{file}` de la version {version} publiée."
    ),
    "running": (
        "C'est la version de l'outil qui a établi ce dossier : vérifiez que le service déployé"
        " exécute la même (métrique `psc_hook_build_info`)."
    ),
    "dependencies": "Dépendances installées :",
    "plan": "2. Configuration",
    "tid": "`tid` : {tid} (`PSC_TENANT_ID`).",
    "tenants": "Établissements (`PSC_TENANTS`), reconnus à la claim {claim} ou au client :",
    "tenant_head": "| `tid` | `kc_idp_hint` | valeurs de la claim | clients |",
    "hint": "`kc_idp_hint` : {hint} (`PSC_KC_IDP_HINT`).",
    "no_hint": "`kc_idp_hint` : non fixé, jamais émis.",
    "clients": "Clients concernés (`PSC_CLIENT_IDS`) : {clients}.",
    "all_clients": "tous ceux du serveur d'autorisation (`PSC_CLIENT_IDS` n'est pas fixé)",
    "header": (
        "Canal d'Okta vers le hook : un secret dans l'en-tête {name} ({count} accepté(s) ;"
        " le plus récent, que détient Okta : {first})."
    ),
    "header_unread": (
        "Canal d'Okta vers le hook : un secret dans l'en-tête {name} (`HOOK_SECRETS` n'est"
        " pas lu pour le dossier : les secrets restent sur le service)."
    ),
    "oauth": (
        "Canal d'Okta vers le hook : un jeton OAuth 2.0 de {issuer} pour l'audience"
        " {audience}, clés de {jwks}, scopes {scopes}, clients {clients}, algorithmes"
        " {algorithms}."
    ),
    "claims": "Claims par jeton :",
    "claim_head": "| claim | valeur | jeton d'identité | jeton d'accès |",
    "oid_value": "l'identifiant Okta de l'utilisateur (`sub`, ou `uid`) ; aucun sans utilisateur",
    "amr_value": "les méthodes relevées par Okta, enrichies par les règles `amr`",
    "per_tenant": "celui de l'établissement du jeton",
    "gates": "Garde-fous :",
    "min_assurance": "assurance minimale (`PSC_MIN_ASSURANCE`) : {value}",
    "cps": "IdP de carte CPS (`PSC_CPS_IDP_IDS`) : {value}",
    "no_cps": "aucun : une carte CPS ne donne pas le niveau élevé",
    "age": "âge maximal de l'authentification (`PSC_MAX_AUTH_AGE`) : {value}",
    "no_gate": "aucun",
    "warnings": "Avertissements de la configuration :",
    "amr": "3. Règles `amr` en vigueur",
    "amr_intro": (
        "La règle la plus forte dont tous les libellés sont présents donne l'`amr` envoyé à"
        " PSC ; sinon les libellés d'Okta passent tels quels et rien n'est ajouté."
    ),
    "amr_head": "| règle | se déclenche sur | via les IdP | `amr` envoyé | niveau | origine |",
    "any_idp": "tout IdP",
    "shipped": "fournie avec psc-token-hook",
    "extension": "`PSC_AMR_RULES` (fichier de l'établissement)",
    "source": "source du jeu",
    "no_source": "aucune source donnée",
    "why": "justification",
    "override": "niveau au-delà des facteurs constatés",
    "aliases": "Autres graphies : {aliases}.",
    "flows": "4. Parcours joués à travers cette configuration",
    "flows_intro": (
        "Chaque exemple fourni avec psc-token-hook (des personnes fictives) est joué comme"
        " lors de l'exécution de test de `psc-hook doctor` : au nom du client PSC, comme une"
        " connexion qui vient d'avoir lieu ; la réponse du hook passe ensuite par le même"
        " applicateur, fidèle au comportement d'Okta, que `psc-hook preview`. Les noms,"
        " e-mails et identifiants de connexion sont masqués (`****`) ; les identifiants"
        " opaques d'Okta (`sub`, `uid`, `oid`) restent visibles."
    ),
    "client": "Client : {client}.",
    "answer": "Réponse du hook : HTTP {status} ({outcome}).",
    "refusal": "Le hook refuse la connexion : {error}.",
    "nothing": "Rien à modifier.",
    "patch": "Le patch :",
    "applied": "Okta applique la réponse.",
    "voided": (
        "Okta refuserait le patch ({reason}) : les jetons seraient émis sans les claims de PSC."
    ),
    "not_minted": "Okta n'émet aucun jeton : le client reçoit `server_error`.",
    "token": "Claims du jeton {name} après application :",
    "identity": "d'identité",
    "access": "d'accès",
    "identity_token": "jeton d'identité",
    "access_token": "jeton d'accès",
    "audit": "5. Audit de l'org Okta",
    "audit_of": (
        "Org {org}, environnement PSC {env} ({issuer}), System Log lu sur les"
        " {hours:g} dernières heures."
    ),
    "quoted": (
        "Les constats et vérifications sont cités tels que `psc-hook doctor` les écrit, en"
        " anglais ; chaque code est expliqué dans la documentation (docs/fr/going-live.md)."
    ),
    "found": "{count} constat(s) à corriger.",
    "all_hold": "Aucun constat : tout tient.",
    "todo": "À faire :",
    "note": "*À savoir :*",
    "no_org": (
        "Cette partie manque : `psc-hook evidence` a été lancé sans `--org` et n'a donc pas lu"
        " l'org Okta. Manquent : {parts}. Relancez-le avec `--org` et les accès en lecture de"
        " `psc-hook doctor` pour les inclure."
    ),
    "no_hook": "Sans hook dans l'org, l'audit n'a pu lire : {parts}.",
    "log": "System Log d'Okta, du {since} au {until} :",
    "log_rows": (
        "| appels d'Okta au hook | dont échoués | réponses traitées | dont non appliquées |"
    ),
    "partial": "Lecture arrêtée à sa limite ; événements lus jusqu'au {until}.",
    "yes": "oui",
    "no": "—",
}
EN: dict[str, str] = {
    "title": "Evidence of conformity: psc-token-hook",
    "intro": (
        "This dossier describes the hook Okta calls to add Pro Santé Connect's claims (`tid`,"
        " `oid`, `amr`, `kc_idp_hint`) to its tokens: the release, the configuration, the"
        " `amr` rules in force, what each sign-in flow gives, and the audit of the Okta org."
        " Written on {date} at {time} UTC by `psc-hook evidence` {version}."
    ),
    "private": (
        "It holds no personal data and no secret: the samples' people are fictitious and"
        " masked (`****`), a secret appears only as its fingerprint. `evidence.json` holds"
        " the same for a machine; to check nothing changed since: `sha256sum -c SHA256SUMS`."
    ),
    "release": "1. Release",
    "version": "psc-token-hook release: {version}.",
    "lock": "Dependency lock (`{file}`, hashes checked): sha256 `{sha256}`.",
    "no_lock": (
        "Dependency lock: not available. psc-hook was installed from a package, which does"
        " not hold it; compare the versions below with release {version}'s `{file}`."
    ),
    "running": (
        "This is the release of the tool that wrote this dossier: check that the deployed"
        " service runs the same (its `psc_hook_build_info` metric)."
    ),
    "dependencies": "Installed dependencies:",
    "plan": "2. Configuration",
    "tid": "`tid`: {tid} (`PSC_TENANT_ID`).",
    "tenants": "Establishments (`PSC_TENANTS`), matched on the {claim} claim or the client:",
    "tenant_head": "| `tid` | `kc_idp_hint` | claim values | clients |",
    "hint": "`kc_idp_hint`: {hint} (`PSC_KC_IDP_HINT`).",
    "no_hint": "`kc_idp_hint`: not set, never emitted.",
    "clients": "Clients in scope (`PSC_CLIENT_IDS`): {clients}.",
    "all_clients": "every client of the authorization server (`PSC_CLIENT_IDS` is not set)",
    "header": (
        "Okta's channel to the hook: a secret in the {name} header ({count} accepted; the"
        " newest, which Okta holds: {first})."
    ),
    "header_unread": (
        "Okta's channel to the hook: a secret in the {name} header (`HOOK_SECRETS` is not"
        " read for the dossier: the secrets stay on the service)."
    ),
    "oauth": (
        "Okta's channel to the hook: an OAuth 2.0 token from {issuer} for audience"
        " {audience}, keys at {jwks}, scopes {scopes}, clients {clients}, algorithms"
        " {algorithms}."
    ),
    "claims": "Claims per token:",
    "claim_head": "| claim | value | ID token | access token |",
    "oid_value": "the user's Okta id (`sub`, or `uid`); none without a user",
    "amr_value": "the methods Okta saw, enriched by the `amr` rules",
    "per_tenant": "the token's establishment's",
    "gates": "Gates:",
    "min_assurance": "minimum assurance (`PSC_MIN_ASSURANCE`): {value}",
    "cps": "CPS card IdPs (`PSC_CPS_IDP_IDS`): {value}",
    "no_cps": "none: a CPS card gives no eleve",
    "age": "maximum authentication age (`PSC_MAX_AUTH_AGE`): {value}",
    "no_gate": "none",
    "warnings": "Configuration warnings:",
    "amr": "3. The `amr` rules in force",
    "amr_intro": (
        "The strongest rule whose labels are all present gives the `amr` sent to PSC;"
        " otherwise Okta's labels pass through and nothing is added."
    ),
    "amr_head": "| rule | fires on | through IdPs | `amr` sent | assurance | origin |",
    "any_idp": "any IdP",
    "shipped": "shipped with psc-token-hook",
    "extension": "`PSC_AMR_RULES` (the establishment's file)",
    "source": "source of the set",
    "no_source": "no source given",
    "why": "why",
    "override": "assurance beyond the factors seen",
    "aliases": "Other spellings: {aliases}.",
    "flows": "4. Flows played through this configuration",
    "flows_intro": (
        "Each sample shipped with psc-token-hook (fictitious people) is played as"
        " `psc-hook doctor`'s test run plays it: as PSC's client, as a sign-in that just"
        " happened; the hook's answer then goes through the same Okta-faithful applier as"
        " `psc-hook preview`. Names, emails and logins are masked (`****`); Okta's opaque ids"
        " (`sub`, `uid`, `oid`) stay visible."
    ),
    "client": "Client: {client}.",
    "answer": "The hook's answer: HTTP {status} ({outcome}).",
    "refusal": "The hook refuses the sign-in: {error}.",
    "nothing": "Nothing to patch.",
    "patch": "The patch:",
    "applied": "Okta applies the answer.",
    "voided": "Okta would refuse the patch ({reason}): the tokens would carry no PSC claim.",
    "not_minted": "Okta mints no token: the client gets `server_error`.",
    "token": "The {name} token's claims once applied:",
    "identity": "ID",
    "access": "access",
    "identity_token": "ID token",
    "access_token": "access token",
    "audit": "5. Audit of the Okta org",
    "audit_of": (
        "Org {org}, PSC environment {env} ({issuer}), System Log read over the last"
        " {hours:g} hours."
    ),
    "quoted": "Findings and checks are quoted as `psc-hook doctor` writes them.",
    "found": "{count} finding(s) to fix.",
    "all_hold": "No finding: everything holds.",
    "todo": "To do:",
    "note": "*Worth knowing:*",
    "no_org": (
        "This part is missing: `psc-hook evidence` ran without `--org`, so it did not read the"
        " Okta org. Missing: {parts}. Run it again with `--org` and `psc-hook doctor`'s"
        " read-only access to include them."
    ),
    "no_hook": "Without a hook in the org, the audit could not read: {parts}.",
    "log": "Okta's System Log, from {since} to {until}:",
    "log_rows": "| Okta's calls to the hook | failed | answers processed | not applied |",
    "partial": "The reading stopped at its bound; events read back to {until}.",
    "yes": "yes",
    "no": "—",
}
TEXTS = {"fr": FR, "en": EN}
AREA_NAMES = {
    "fr": {
        "hook": "Le hook et son canal",
        "rules": "La règle qui l'appelle et ses clients",
        "system-log": "Ce qu'Okta a fait des appels (System Log)",
        "test-run": "L'exécution de test du hook par Okta",
        "idps": "L'IdP de la carte CPS",
        "apps": "L'application PSC et ses URI de redirection",
        "policies": "Les politiques d'authentification des applications PSC",
    },
    "en": {
        "hook": "The hook and its channel",
        "rules": "The rule that calls it and its clients",
        "system-log": "What Okta did with the calls (System Log)",
        "test-run": "The test run of the hook by Okta",
        "idps": "The CPS card IdP",
        "apps": "The PSC app and its redirect URIs",
        "policies": "The PSC apps' authentication policies",
    },
}
FLOW_NAMES = {
    "password-okta-verify-push": "Mot de passe puis notification Okta Verify",
    "password-okta-verify-totp": "Mot de passe puis code Okta Verify",
    "cps-smart-card": "Carte CPS, par l'IdP carte à puce d'Okta",
    "password-only": "Mot de passe seul",
    "fastpass": "Okta Verify FastPass, sans mot de passe",
    "refresh": "Renouvellement (refresh token)",
    "client-credentials": "Client credentials : pas d'utilisateur",
    "id-token-only": "Jeton d'identité seul (flux implicite)",
    "access-token-only": "Jeton d'accès seul",
}
