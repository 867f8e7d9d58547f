"""Which evidence of how the user authenticated a token request carries. Pure: no Flask.

The ID token's ``amr``, ``idp`` and ``auth_time`` describe the authentication its grant
came from (an ``auth_time`` that names no possible time leaves the age unknown). Okta's
session (``data.context.session``) is whatever session Okta attaches to the call: it counts
only when it names the token's own user, and never on a refresh grant, where it says how
that user signed in lately (a stronger Okta Verify or CPS session, say), not how the grant
being refreshed was obtained. A refresh without an ID token therefore carries no evidence.
"""

from __future__ import annotations

from hook.payload import HookRequest

#: Okta's ``grant_type`` of a refresh (``data.context.protocol.request.grant_type``).
REFRESH_GRANT = "refresh_token"
#: The last second ``datetime`` can name (9999-12-31T23:59:59Z). An ``auth_time`` past it or
#: before the epoch is no time: the token's age is then unknown (``10**400`` would overflow).
LAST_TIME = 253402300799
_NONE = frozenset((None,))
_NO_IDPS: frozenset[str] = frozenset()


#: What counts for one token: the amr labels, the IdPs, the times the user authenticated,
#: and whether nothing was recorded (a refresh without an ID token). A plain tuple, as this
#: runs on every call: a NamedTuple's constructor is one more Python call.
Evidence = tuple[tuple[str, ...], frozenset[str], tuple[float, ...], bool]


def gather(request: HookRequest, user_id: str, context_mismatch: bool) -> Evidence:
    """The evidence for ``user_id``'s token: the ID token's, and the session's when it is
    that user's own (its ``userId``, with no other user in the context) on a grant that is
    not a refresh."""
    refresh = request.grant_type == REFRESH_GRANT
    labels, idp, times = request.identity_amr, request.identity_idp, request.session_verified
    if not refresh and not context_mismatch and request.session_user_id == user_id:
        labels += request.session_amr
        idps = frozenset((idp, request.session_idp)) - _NONE
    else:
        idps = _NO_IDPS if idp is None else frozenset((idp,))
        times = ()
    auth_time = request.auth_time
    if auth_time is not None:  # the token's own word, even when it names no time
        times = (auth_time,) if 0 <= auth_time <= LAST_TIME else ()
    return labels, idps, times, refresh and not request.has_identity
