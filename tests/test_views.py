"""The HTTP edge in-process: limits that are easier to pin down without a socket."""

from __future__ import annotations

import io
import json

import pytest

from hook import create_app, samples
from hook.config import load_settings


@pytest.fixture
def small_limit_client(env):
    env["HOOK_MAX_BODY_BYTES"] = "4096"
    return create_app(load_settings(env)).test_client()


def padded(size: int) -> bytes:
    body = samples.load("password-only")
    body["padding"] = ""
    missing = size - len(json.dumps(body).encode())
    body["padding"] = "p" * missing
    encoded = json.dumps(body).encode()
    assert len(encoded) == size
    return encoded


@pytest.mark.parametrize(("size", "status"), [(4096, 200), (4097, 413)])
def test_body_limit_is_exact(small_limit_client, auth_headers, size, status) -> None:
    response = small_limit_client.post(
        "/token-hook", data=padded(size), headers=auth_headers, content_type="application/json"
    )
    assert response.status_code == status


def test_chunked_body_over_the_limit_is_413(small_limit_client, auth_headers) -> None:
    response = small_limit_client.post(
        "/token-hook",
        input_stream=io.BytesIO(padded(5000)),
        headers={**auth_headers, "Transfer-Encoding": "chunked"},
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_ready_without_oauth(client) -> None:
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_unexpected_error_is_a_problem_without_trace(
    app, client, auth_headers, monkeypatch
) -> None:
    def explode(*_args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("hook.views.build_answer", explode)
    response = client.post("/token-hook", json=samples.load("password-only"), headers=auth_headers)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_that_ends_early_is_a_400_not_a_500(client, auth_headers, framing) -> None:
    """What a client that went away, or was cut off by hook/worker.py's deadline, sent."""
    body = json.dumps(samples.load("password-only")).encode()[:100]
    if framing == "length":
        headers, overrides = auth_headers, {"CONTENT_LENGTH": "4000"}
    else:
        headers = {**auth_headers, "Transfer-Encoding": "chunked"}
        overrides = {"wsgi.input": Truncated(body), "wsgi.input_terminated": True}
    response = client.post(
        "/token-hook",
        data=body,
        headers=headers,
        content_type="application/json",
        environ_overrides=overrides,
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "ended before" in response.get_json()["detail"]


class Truncated(io.BytesIO):
    """A chunked body whose connection ended mid-chunk: gunicorn's reader raises OSError
    once what arrived is read."""

    def readinto(self, buffer: bytearray | memoryview) -> int:  # werkzeug reads this way
        read = super().readinto(buffer)
        if not read:
            raise OSError("No more data")
        return read
