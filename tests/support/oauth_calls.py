"""The keys the OAuth tests sign with, and the reason the authenticator gives for refusing
a call."""

from __future__ import annotations

import pytest

from hook.auth import AuthFailure
from hook.oauth import OAuthAuthenticator
from tests.support.jwks_server import FIRST_KID, signing_key

KEY = signing_key(FIRST_KID)
NEXT_KEY = signing_key("key-2")
STRANGER = signing_key("key-stranger")


def rejection(authenticator: OAuthAuthenticator, headers: dict[str, str]) -> str:
    with pytest.raises(AuthFailure) as failure:
        authenticator.authenticate(headers)
    return failure.value.reason
