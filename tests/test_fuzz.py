"""Hostile payloads: Okta's request shapes (the shipped samples), then broken every way.

Hypothesis starts from a sample and drops keys, swaps types, puts nulls, huge strings and
arrays, deep nesting, odd unicode and duplicate keys (written into the raw JSON text,
where Python's parser keeps the last one) into it. Whatever comes in, the service must
never answer a 5xx, never give Okta an answer Okta would void, and never put into ``amr``
a factor the input did not evidence. In OAuth mode, forged and oddly built bearer tokens
are never a 5xx, and a token is accepted only when it passes every check. The Flask test
client keeps this fast; the number of examples is bounded.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hook import create_app, samples
from hook.amr import AmrTable
from hook.cli.okta_applier import apply_answer
from hook.config import Settings, load_settings
from tests.support.jwks_server import (
    AUDIENCE,
    CLIENT_ID,
    FIRST_KID,
    ISSUER,
    SCOPE,
    JwksServer,
    claims,
    oauth_environment,
    signing_key,
)
from tests.support.okta_schemas import validate
from tests.support.read_paths import READ_PATHS
from tests.support.settings import BASE_ENV, SECRET

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AUTH = {"Authorization": SECRET}
SAMPLES = {name: samples.load(name) for name in samples.DESCRIPTIONS}
VARIANTS = {
    "defaults": {},
    "every-claim": {
        "PSC_CLAIMS_ID_TOKEN": "tid,oid,kc_idp_hint",
        "PSC_CLAIMS_ACCESS_TOKEN": "tid,oid,amr,kc_idp_hint",
        "PSC_KC_IDP_HINT": "OKTA_chu-exemple",
    },
    "gated": {"PSC_MIN_ASSURANCE": "substantiel", "PSC_CLIENT_IDS": "0oa1pscClient0Example7"},
    "aged": {"PSC_MAX_AUTH_AGE": "4h", "PSC_MIN_ASSURANCE": "eleve"},
}
SETTINGS = {name: load_settings({**BASE_ENV, **extra}) for name, extra in VARIANTS.items()}
CLIENTS = {name: create_app(value).test_client() for name, value in SETTINGS.items()}

AMR_PATHS = (("data", "identity", "claims", "amr"), ("data", "context", "session", "amr"))

#: Labels of the amr table and Okta's documentation, and hostile spellings of them.
AMR_WORDS = ("pwd", "PASSWORD", "sc", "okta_verify", "swk", "hwk", "mfa", "pin", "otp", "phr")
HOSTILE_LABELS = (
    " SC ",
    "Okta_Verify",
    "\uff30\uff37\uff24",  # fullwidth PWD: not an amr value
    "\u017fc",  # long s
    "\u212aba",  # Kelvin sign, lower-cases to ASCII "k"
    "pwd\u0000",
    "pwd\u200b",
    "sc pin",
    "sc,pin",
    "",
    "x" * 300,
)
AMR_LABELS = st.sampled_from(AMR_WORDS + HOSTILE_LABELS) | st.text(max_size=12)


class Raw(str):
    """JSON text written into the body as it is (deep nesting, lone surrogate escapes)."""


class Pairs(list):
    """A JSON object written from its (key, value) pairs as given, duplicate keys included."""


def encode(node: Any) -> str:
    """The JSON text of a mutated document, with its Raw and Pairs parts as they are."""
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, Pairs):
        return "{" + ",".join(f"{json.dumps(key)}:{encode(value)}" for key, value in node) + "}"
    if type(node) is dict:
        return encode(Pairs(node.items()))
    if type(node) is list:
        return "[" + ",".join(encode(item) for item in node) + "]"
    return json.dumps(node, ensure_ascii=False)


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if type(node) is dict:
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif type(node) is list:
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def dig(node: Any, path: tuple) -> Any:
    """The value at ``path``, or None when the way there is missing or not a container."""
    for step in path:
        in_dict = type(node) is dict and step in node
        in_list = type(node) is list and isinstance(step, int) and step < len(node)
        if not (in_dict or in_list):
            return None
        node = node[step]
    return node


def put(document: Any, path: tuple, value: Any) -> Any:
    """Set (or, with ``value`` DROP, delete) the value at ``path``; returns the new root."""
    if not path:
        return {} if value is DROP else value
    parent, last = dig(document, path[:-1]), path[-1]
    if type(parent) is dict or (type(parent) is list and isinstance(last, int)):
        if value is DROP:
            if type(parent) is dict:
                parent.pop(last, None)
            elif last < len(parent):
                del parent[last]
        elif type(parent) is dict or last < len(parent):
            parent[last] = value
    return document


DROP = object()
SCALARS = {
    "null": st.none(),
    "boolean": st.booleans(),
    "number": st.integers() | st.floats(),
    "string": st.text(max_size=20),
}
ANY_JSON = st.recursive(
    st.one_of(*SCALARS.values()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
KINDS = {
    **SCALARS,
    "array": st.lists(ANY_JSON, max_size=4),
    "object": st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=4),
}


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "string")


Mutation = Callable[[st.DrawFn, Any], Any]


def swapped(draw: st.DrawFn, current: Any) -> Any:
    other = draw(st.sampled_from(sorted(set(KINDS) - {kind(current)})))
    return draw(KINDS[other])


def huge_string(draw: st.DrawFn, _current: Any) -> Any:
    unit = draw(st.text(min_size=1, max_size=3))
    return unit * draw(st.sampled_from([255, 256, 4096, 100_000]))


def huge_array(draw: st.DrawFn, _current: Any) -> Any:
    """Copies, not one item shared: a later mutation inside one element (a 100,000-character
    string) would otherwise grow all 30,000 at once, and the test's own JSON text with them
    (gigabytes: a run was killed for want of memory)."""
    item = draw(AMR_LABELS | ANY_JSON)
    return [copy.deepcopy(item) for _ in range(draw(st.sampled_from([64, 65, 1000, 30_000])))]


def deep(draw: st.DrawFn, _current: Any) -> Any:
    depth = draw(st.sampled_from([32, 200, 5000, 100_000]))
    if draw(st.booleans()):
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "null" + "}" * depth)


def odd_unicode(draw: st.DrawFn, _current: Any) -> Any:
    return draw(
        st.sampled_from(HOSTILE_LABELS)
        | st.text(st.characters(codec=None), min_size=1, max_size=40)
        | st.sampled_from([Raw('"\\ud800"'), Raw('"pwd\\udfff"'), Raw('"\\u0000"')])
    )


def duplicate_key(draw: st.DrawFn, current: Any) -> Any:
    if type(current) is not dict or not current:
        return current
    key = draw(st.sampled_from(sorted(current)))
    pairs = list(current.items())
    pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(ANY_JSON)))
    return Pairs(pairs)


MUTATIONS: dict[str, Mutation] = {
    "drop": lambda _draw, _current: DROP,
    "null": lambda _draw, _current: None,
    "swap-type": swapped,
    "huge-string": huge_string,
    "huge-array": huge_array,
    "deep-nesting": deep,
    "unicode": odd_unicode,
    "duplicate-key": duplicate_key,
    "amr-labels": lambda draw, _current: draw(st.lists(AMR_LABELS, max_size=8)),
}


@st.composite
def broken_payloads(draw: st.DrawFn) -> bytes:
    """A sample, then one to four mutations, each on a field the service reads or any."""
    document = copy.deepcopy(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(READ_PATHS) | st.sampled_from(list(paths(document))))
        mutation = MUTATIONS[draw(st.sampled_from(sorted(MUTATIONS)))]
        document = put(document, path, mutation(draw, dig(document, path)))
    return encode(document).encode("utf-8", "surrogatepass")


@st.composite
def amr_payloads(draw: st.DrawFn) -> bytes:
    """A user's sample with random method labels in the token and the session."""
    name = draw(st.sampled_from(sorted(n for n in SAMPLES if n != "client-credentials")))
    document = copy.deepcopy(SAMPLES[name])
    for path in AMR_PATHS:
        labels = draw(st.none() | st.lists(AMR_LABELS | st.sampled_from(AMR_WORDS), max_size=6))
        document = put(document, path, DROP if labels is None else labels)
    if draw(st.booleans()):
        document = put(document, ("data", "context", "session", "userId"), "00uSomeoneElse")
    return json.dumps(document).encode()


def normalised(labels: Any, table: AmrTable) -> set[str]:
    """The input's labels as the table spells them: trimmed, lower-cased, aliased."""
    if not isinstance(labels, list):
        return set()
    folded = (label.strip().lower() for label in labels if isinstance(label, str))
    return {table.aliases.get(label, label) for label in folded}


def evidenced(request: dict, table: AmrTable) -> set[str]:
    """Every amr value the input evidences.

    The evidence is the token's own ``data.identity.claims.amr``, and Okta's session
    ``data.context.session.amr`` when that session is this user's: neither
    ``context.session.userId`` nor ``context.user.id`` names another user than the token's
    (``sub``, else the access token's ``uid``), on a grant that is not a refresh (there the
    session is a later one, not the grant's). An output label is evidenced when it is one
    of those labels, normalised, or belongs to the ``amr`` of a rule of the table whose
    ``when`` labels are all among them.
    """
    user = dig(request, ("data", "identity", "claims", "sub")) or dig(
        request, ("data", "access", "claims", "uid")
    )
    context = ("data", "context")
    others = {dig(request, (*context, "session", "userId")), dig(request, (*context, "user", "id"))}
    refresh = dig(request, (*context, "protocol", "request", "grant_type")) == "refresh_token"
    sources = AMR_PATHS if not others - {None, user} and not refresh else AMR_PATHS[:1]
    present = set().union(*(normalised(dig(request, path), table) for path in sources))
    implied = (set(rule.amr) for rule in table.rules if rule.when <= present)
    return present.union(*implied)


def check_claims(request: dict, answer: dict, settings_: Settings) -> None:
    """tid is the tenant, oid the token's own user, and amr holds only evidenced factors."""
    users = {
        dig(request, ("data", "identity", "claims", "sub")),
        dig(request, ("data", "access", "claims", "uid")),
    }
    for command in answer.get("commands", []):
        for op in command["value"]:
            name, value = op["path"].removeprefix("/claims/"), op["value"]
            if name == "tid":
                assert value == settings_.tenant_id
            elif name == "oid":
                assert value in users
            elif name == "amr":
                assert value, "an empty amr is never emitted"
                invented = set(value) - evidenced(request, settings_.amr_table)
                assert not invented, f"amr {value} invents {invented}"
            else:
                assert name == "kc_idp_hint" and value == settings_.kc_idp_hint


def check(variant: str, body: bytes) -> int:
    """Post ``body`` and assert everything the service promises about the answer."""
    response = CLIENTS[variant].post(
        "/token-hook", data=body, headers=AUTH, content_type="application/json"
    )
    status, text = response.status_code, response.get_data(as_text=True)
    assert status in (200, 204, 400, 413), status
    assert "Traceback" not in text and 'File "' not in text
    if status >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    elif status == 204:
        assert text == ""
    else:
        answer = response.get_json()
        validate("TokenHookResponse", answer)
        request = json.loads(body)
        assert apply_answer(request, status, answer).voided is None
        check_claims(request, answer, SETTINGS[variant])
    return status


@FUZZ
@given(variant=st.sampled_from(sorted(VARIANTS)), body=broken_payloads())
def test_broken_payloads_never_fail_the_service_or_okta(variant: str, body: bytes) -> None:
    event(f"HTTP {check(variant, body)}")


AUTH_TIME = ("data", "identity", "claims", "auth_time")
#: auth_time as a value or JSON text: integers (past 64 bits too), then every other type.
INTEGERS = st.one_of(
    st.integers(),
    st.integers(-(10**450), 10**450),
    st.sampled_from([Raw("1" + "0" * 400), Raw("-1" + "0" * 200)]),
)
NOT_INTEGERS = st.one_of(
    st.floats(),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.sampled_from([Raw("1e400"), Raw("-1e400"), Raw("1.0")]),
)


@FUZZ
@given(variant=st.sampled_from(sorted(VARIANTS)), sample=st.sampled_from(sorted(SAMPLES)),
       integral=st.booleans(), data=st.data())  # fmt: skip
def test_any_auth_time_is_an_answer_or_a_400_never_a_5xx(variant, sample, integral, data) -> None:
    """10**400 overflowed the age's arithmetic, -10**200 its summary's length: 500s. An
    integer is an answer (without an age when it is no time); another type, a 400."""
    auth_time = data.draw(INTEGERS if integral else NOT_INTEGERS)
    document = put(copy.deepcopy(SAMPLES[sample]), AUTH_TIME, auth_time)
    status = check(variant, encode(document).encode())
    event(f"HTTP {status}")
    if integral:
        assert status in (200, 204)


@FUZZ
@given(variant=st.sampled_from(sorted(VARIANTS)), body=amr_payloads())
def test_amr_never_holds_a_factor_the_input_did_not_evidence(variant: str, body: bytes) -> None:
    event(f"HTTP {check(variant, body)}")


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=512)
    | st.sampled_from(sorted(SAMPLES)).flatmap(
        lambda name: st.integers(0, len(json.dumps(SAMPLES[name])) - 1).map(
            lambda cut: json.dumps(SAMPLES[name])[:cut].encode()
        )
    )
)
def test_bytes_and_truncated_json_are_400(body: bytes) -> None:
    assert check("defaults", body) == 400


MARK = "\u0000mark\u0000"
STRING_PATHS = [
    path for path in READ_PATHS if path[-1] in ("eventId", "grant_type", "id", "userId", "sub")
]


@FUZZ
@given(
    name=st.sampled_from(sorted(SAMPLES)),
    path=st.sampled_from([*STRING_PATHS, ("skipped",)]),
    raw=st.binary(min_size=1, max_size=8).filter(lambda raw: b'"' not in raw and b"\\" not in raw),
)
def test_raw_bytes_inside_a_string_are_never_a_5xx(name: str, path: tuple, raw: bytes) -> None:
    """Bytes as a client may send them inside a string, valid UTF-8 or not, read or skipped."""
    document = put(copy.deepcopy(SAMPLES[name]), path, MARK)
    body = json.dumps(document).encode().replace(json.dumps(MARK)[1:-1].encode(), raw)
    event(f"HTTP {check('defaults', body)}")


def test_the_checks_see_every_answer_the_hook_gives() -> None:
    """Not vacuous: the checks above run on patches, refusals, skips, 400s and 413s."""
    other_client = put(
        copy.deepcopy(SAMPLES["password-only"]),
        ("data", "context", "protocol", "client", "id"),
        "0oaSomeOtherApp",
    )
    cases = [
        ("defaults", SAMPLES["password-only"], 200),
        ("gated", SAMPLES["password-only"], 200),
        ("gated", other_client, 204),
        ("defaults", put(copy.deepcopy(SAMPLES["fastpass"]), ("data",), None), 400),
        ("defaults", {**SAMPLES["fastpass"], "pad": "x" * 300_000}, 413),
    ]
    for variant, document, status in cases:
        assert check(variant, encode(document).encode()) == status


def test_evidence_is_the_input_or_a_satisfied_rule() -> None:
    table = SETTINGS["defaults"].amr_table
    request = {"data": {"identity": {"claims": {"amr": [" PASSWORD", "okta_verify"]}}}}
    assert evidenced(request, table) == {"pwd", "okta_verify", "swk", "mfa"}
    card_in_session = {"data": {"context": {"session": {"amr": ["SC"]}}}}
    assert {"sc", "pin", "mfa", "hwk"} <= evidenced(card_in_session, table)
    assert evidenced({"data": {"identity": {"claims": {"amr": "sc"}}}}, table) == set()
    someone_elses = {
        "data": {
            "identity": {"claims": {"sub": "00uA", "amr": ["pwd"]}},
            "context": {"session": {"userId": "00uB", "amr": ["sc"]}},
        }
    }
    assert evidenced(someone_elses, table) == {"pwd"}


def test_duplicate_keys_keep_the_last_as_the_service_reads_them() -> None:
    body = encode(
        Pairs(
            [
                ("eventType", "com.okta.oauth2.tokens.transform"),
                ("data", SAMPLES["password-only"]["data"]),
                ("eventType", "com.okta.user.pre-registration"),
            ]
        )
    )
    assert check("defaults", body.encode()) == 400


LEEWAY_S = 30


@pytest.fixture(scope="module")
def oauth_client(jwks: JwksServer) -> FlaskClient:
    return create_app(load_settings({**BASE_ENV, **oauth_environment(jwks)})).test_client()


def segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


TOKEN_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "none", "HS256", "ES256", "PS256", "EdDSA"]) | ANY_JSON,
        "kid": st.just(FIRST_KID) | ANY_JSON,
        "typ": st.just("JWT") | ANY_JSON,
        "crit": ANY_JSON,
        "jku": st.just("http://127.0.0.1:1/keys") | ANY_JSON,
        "jwk": ANY_JSON,
    },
)
NOW = int(time.time())
#: For each claim, the valid value first, then wrong ones; None removes the claim.
CLAIM_CHOICES = {
    "iss": [ISSUER, ISSUER + "/", "https://evil.example/oauth2/default", None, 1],
    "aud": [AUDIENCE, [AUDIENCE], ["api://other", AUDIENCE], "api://default", None, []],
    "scp": [[SCOPE], [SCOPE, "openid"], ["openid"], SCOPE, None, {"psc.hook": True}],
    "cid": [CLIENT_ID, "0oa-other", None, [CLIENT_ID]],
    "exp": [NOW + 3600, NOW - 3600, None, "never", True, float("inf")],
    "iat": [NOW, NOW + 3600, None, "now", -1],
    "nbf": [NOW - 10, NOW + 3600, "soon"],
}
TOKEN_CLAIMS = st.fixed_dictionaries(
    {name: st.sampled_from(choices) for name, choices in CLAIM_CHOICES.items()}
).map(lambda chosen: claims(**{name: value for name, value in chosen.items()}))


def forged_tokens() -> st.SearchStrategy[str]:
    """JWT-shaped strings signed by no one, and text that only looks like a token."""
    three_parts = st.builds(
        lambda header, body, signature: f"{segment(header)}.{segment(body)}.{signature}",
        TOKEN_HEADERS | ANY_JSON,
        TOKEN_CLAIMS | ANY_JSON,
        st.binary(max_size=300).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    )
    text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=200)
    return three_parts | text


def passes_every_check(token_claims: dict[str, Any]) -> bool:
    """What an accepted token must hold (an allowed algorithm, exp, iat, iss, aud, 60 s of
    leeway at most: SECURITY.md), written independently of hook.oauth."""

    def number(name: str) -> bool:
        value = token_claims.get(name)
        return isinstance(value, int | float) and not isinstance(value, bool)

    audience = token_claims.get("aud")
    now = time.time()
    return (
        token_claims.get("iss") == ISSUER
        and (audience == AUDIENCE or (isinstance(audience, list) and AUDIENCE in audience))
        and isinstance(token_claims.get("scp"), list)
        and SCOPE in token_claims["scp"]
        and token_claims.get("cid") == CLIENT_ID
        and number("exp")
        and token_claims["exp"] > now - LEEWAY_S
        and number("iat")
        and token_claims["iat"] <= now + LEEWAY_S
        and ("nbf" not in token_claims or (number("nbf") and token_claims["nbf"] <= now + LEEWAY_S))
    )


def call_with(client: FlaskClient, token: str) -> int:
    response = client.post(
        "/token-hook",
        data=json.dumps(SAMPLES["fastpass"]),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert "Traceback" not in response.get_data(as_text=True)
    return response.status_code


@pytest.mark.process
@FUZZ
@given(token=forged_tokens())
def test_forged_bearer_tokens_are_refused(oauth_client: FlaskClient, token: str) -> None:
    assert call_with(oauth_client, token) == 401


@pytest.mark.process
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=TOKEN_HEADERS, token_claims=TOKEN_CLAIMS)
def test_a_signed_token_is_accepted_only_when_it_passes_every_check(
    oauth_client: FlaskClient, header: dict[str, Any], token_claims: dict[str, Any]
) -> None:
    """Signed with the real key, whatever its header and claims: 200 only if all checks pass."""
    key = signing_key(FIRST_KID)
    extra = {name: value for name, value in header.items() if name not in ("alg", "kid")}
    try:
        token = jwt.encode(
            token_claims, key.private_key, algorithm="RS256", headers={"kid": FIRST_KID, **extra}
        )
    except (TypeError, ValueError):
        return  # PyJWT will not even encode it (a header value JSON cannot hold)
    status = call_with(oauth_client, token)
    event(f"HTTP {status}")
    assert status in (200, 401)
    if status == 200:
        assert passes_every_check(token_claims), token_claims


@pytest.fixture(scope="module")
def jwks() -> Iterator[JwksServer]:
    """One JWKS server serving the first key for the whole module (conftest's is per test)."""
    server = JwksServer([signing_key(FIRST_KID)])
    yield server
    server.close()
