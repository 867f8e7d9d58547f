"""What became of one call of the hook, in the one word its log line and its metrics give.

Written once, here: the answer, the views, the canonical line, the metrics and the docs'
tests use these members, and their values are the labels operators' dashboards and alerts
match on (docs/operations.md lists them), so a value never changes. Pure: no Flask.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A call's outcome: the decision's (hook/answer.py), or why the call got no decision
    (hook/views.py)."""

    PATCHED = "patched"
    NOTHING_TO_PATCH = "nothing-to-patch"
    OUT_OF_SCOPE_CLIENT = "out-of-scope-client"
    REFUSED_ASSURANCE = "refused-assurance"
    TENANT_UNMATCHED = "tenant-unmatched"
    TENANT_AMBIGUOUS = "tenant-ambiguous"
    AUTH_TOO_OLD = "auth-too-old"
    AUTH_AGE_UNKNOWN = "auth-age-unknown"
    USER_MISMATCH = "user-mismatch"
    UNAUTHENTICATED = "unauthenticated"
    INVALID_PAYLOAD = "invalid-payload"
    TOO_LARGE = "too-large"
    INCOMPLETE_BODY = "incomplete-body"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    #: A 5xx before any outcome was recorded: the metrics count it so, from the status.
    ERROR = "error"


#: The outcomes of a call whose establishment is known (PSC_TENANTS), counted by tid too.
TENANT_OUTCOMES = (
    Outcome.PATCHED,
    Outcome.NOTHING_TO_PATCH,
    Outcome.REFUSED_ASSURANCE,
    Outcome.AUTH_TOO_OLD,
    Outcome.AUTH_AGE_UNKNOWN,
)
#: ... and those of a call refused before one is chosen, counted with tid "none".
NO_TENANT_OUTCOMES = (Outcome.TENANT_UNMATCHED, Outcome.TENANT_AMBIGUOUS, Outcome.USER_MISMATCH)
