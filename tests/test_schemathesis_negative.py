"""Schemathesis negative testing: whatever breaks openapi.yaml is refused with a 4xx.

Schemathesis generates, from the document, calls that do not fit it: bodies of the
wrong shape or type, a wrong ``eventType``, unsupported or malformed content types,
undocumented methods. They are sent authenticated, so that a refusal is about the call
itself, to the app in-process through WSGI. Every answer must match the document, and
every such call to the hook must be refused with a 4xx.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from hook import create_app
from hook.config import load_settings
from tests.support.settings import BASE_ENV, SECRET

schema = schemathesis.openapi.from_wsgi("/openapi.yaml", create_app(load_settings(BASE_ENV)))
schema.config.generation.update(modes=[GenerationMode.NEGATIVE])
hook_call = schema.include(path="/token-hook")


@hook_call.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_calls_that_break_the_document_are_refused(case) -> None:
    # Schemathesis's own rejection check does not count 413 (a body over the limit) as a
    # refusal; the assertion below accepts every 4xx, which is what the service promises.
    response = case.call_and_validate(
        headers={"Authorization": SECRET}, excluded_checks=[negative_data_rejection]
    )
    assert 400 <= response.status_code < 500, case.meta.phase
    assert "Traceback" not in response.text
