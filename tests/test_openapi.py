"""openapi.yaml is a valid OpenAPI document, and the app answers as it says (schemathesis)."""

from __future__ import annotations

from pathlib import Path

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from hook import create_app
from hook.config import load_settings
from tests.support.settings import BASE_ENV, ROOT, SECRET

SPEC = ROOT / "openapi.yaml"


def test_openapi_document_is_valid() -> None:
    validate(yaml.safe_load(SPEC.read_text()))


def test_served_document_is_the_root_file(client) -> None:
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert response.data == Path(SPEC).read_bytes()


schema = schemathesis.openapi.from_wsgi("/openapi.yaml", create_app(load_settings(BASE_ENV)))


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_app_conforms_to_its_openapi(case) -> None:
    """Authenticated calls: every answer matches the document, none is a 5xx."""
    case.call_and_validate(headers={"Authorization": SECRET})
