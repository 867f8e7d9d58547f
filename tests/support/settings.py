"""The test environment's constants: the repository's root, the secrets and the base
settings every test starts from."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
OTHER_SECRET = "rotated-secret-9876543210-zyxwvutsrqponmlkjihgfedcba"
BASE_ENV = {
    "PSC_TENANT_ID": "OKTA_chu-exemple",
    "PSC_CPS_IDP_IDS": "0oa1cpsSmartCard0Idp7",  # the samples' CPS card reader
    "HOOK_AUTH_MODE": "header",
    "HOOK_SECRETS": SECRET,
    "LOG_FORMAT": "json",
}
