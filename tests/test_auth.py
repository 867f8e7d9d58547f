"""The header authenticator on its own: every secret of HOOK_SECRETS is accepted (a rotation
holds two), nothing else is, and the reason stays in the log; and the union of channels."""

from __future__ import annotations

import hmac

import pytest

from hook.auth import AnyOf, AuthFailure, HeaderAuthenticator
from tests.support.settings import OTHER_SECRET, SECRET

SECRETS = (SECRET.encode(), OTHER_SECRET.encode())
THIRD = "third-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def header() -> HeaderAuthenticator:
    return HeaderAuthenticator("Authorization", (*SECRETS, THIRD.encode()))


@pytest.mark.parametrize("secret", [SECRET, OTHER_SECRET, THIRD])
def test_each_secret_of_the_list_is_accepted_wherever_it_stands(header, secret):
    """New and old during a rotation: the first, the middle and the last entry alike."""
    header.authenticate({"Authorization": secret})


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "header-missing"),
        ({"Authorization": ""}, "header-missing"),
        ({"Authorization": SECRET[:-1]}, "header-mismatch"),
        ({"Authorization": SECRET + "x"}, "header-mismatch"),
        ({"Authorization": f"Bearer {SECRET}"}, "header-mismatch"),
        ({"Authorization": SECRET.upper()}, "header-mismatch"),
        ({"Authorization": f"{SECRET},{OTHER_SECRET}"}, "header-mismatch"),
        ({"X-Okta-Secret": SECRET}, "header-missing"),
        ({"Authorization": "é" + SECRET[1:]}, "header-mismatch"),
    ],
)
def test_anything_else_is_refused_with_its_reason(header, headers, reason):
    with pytest.raises(AuthFailure) as failure:
        header.authenticate(headers)
    assert failure.value.reason == reason
    assert SECRET not in str(failure.value)


def test_the_configured_header_is_the_one_read():
    custom = HeaderAuthenticator("X-Okta-Secret", SECRETS)
    custom.authenticate({"X-Okta-Secret": OTHER_SECRET})
    with pytest.raises(AuthFailure):
        custom.authenticate({"Authorization": SECRET})


def test_every_secret_is_compared_in_constant_time(monkeypatch):
    """No early exit: a match on the first secret still compares the others, so the time
    does not tell which entry matched."""
    compared, compare = [], hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(b)
        return compare(a, b)

    monkeypatch.setattr("hook.auth.hmac.compare_digest", counting)
    HeaderAuthenticator("Authorization", SECRETS).authenticate({"Authorization": SECRET})
    assert compared == list(SECRETS)


def test_the_union_names_the_channel_that_accepted_and_every_reason_otherwise():
    first = HeaderAuthenticator("Authorization", (SECRET.encode(),))
    second = HeaderAuthenticator("X-Okta-Secret", (OTHER_SECRET.encode(),))
    union = AnyOf([first, second])
    assert union.mode == "header,header"
    assert union.authenticate({"X-Okta-Secret": OTHER_SECRET}) == "header"
    with pytest.raises(AuthFailure) as failure:
        union.authenticate({"Authorization": OTHER_SECRET})
    assert failure.value.reason == "header:header-mismatch header:header-missing"
    assert union.ready() is None
