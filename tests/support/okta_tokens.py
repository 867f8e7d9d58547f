"""Tokens as Okta would mint them after applying the service's answer to a shipped sample,
signed with a test key, and ``psc-hook check-token``'s verdicts on them."""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any

import jwt
import pytest

from hook import payload, samples
from hook.answer import build_answer
from hook.cli.okta_applier import apply_answer
from hook.config import load_settings
from tests.support.cli_runner import run
from tests.support.jwks_server import FIRST_KID, SigningKey, signing_key
from tests.support.settings import BASE_ENV


def minted(sample: str, kind: str, env: dict[str, str] = BASE_ENV) -> dict[str, Any]:
    """The claims of a token Okta would mint after applying the service's answer."""
    request = samples.load(sample)
    answer = build_answer(payload.parse(json.dumps(request).encode()), load_settings(env))
    outcome = apply_answer(request, answer.status, answer.body)
    assert outcome.voided is None
    return outcome.tokens[kind]


def sign(
    claims: dict[str, Any],
    *,
    key: SigningKey | None = None,
    issued: int | None = None,
    lifetime: int = 3600,
    **changes: Any,
) -> str:
    """A token as Okta signs it; a change to None removes a claim."""
    issued = int(time.time()) if issued is None else issued
    body = {**claims, "iat": issued, "exp": issued + lifetime}
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    key = key or signing_key(FIRST_KID)
    return jwt.encode(body, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})


def check(capsys, token: str, *extra: str):
    """check-token on a token pasted on standard input, as the docs say to give it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(token))
        return run(capsys, "check-token", "-", *extra)


def verdicts(capsys, token: str, *extra: str) -> dict[str, tuple[bool, str]]:
    result = check(capsys, token, "--json", *extra)
    shown = result.json()
    assert result.code == (0 if shown["accepted"] else 1)
    return {item["name"]: (item["ok"], item["detail"]) for item in shown["checks"]}
