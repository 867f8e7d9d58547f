"""An org wired as docs/okta-setup.md says, in the fake Okta, and ``psc-hook doctor`` run
against it: shared by the doctor's, the System Log's and the evidence's tests (their
fixtures, the org and the service it calls, are in ``tests/conftest.py``)."""

from __future__ import annotations

from hook import samples
from hook.cli import okta_api
from hook.psc_environments import ENVIRONMENTS, broker_endpoint, environment
from tests.support.cli_runner import run
from tests.support.fake_okta import CPS_ADDITIONAL_AMR, TOKEN, FakeOkta, FakeOktaServer
from tests.support.settings import BASE_ENV, SECRET

PSC_CLIENT = samples.load("password-okta-verify-push")["data"]["context"]["protocol"]["client"][
    "id"
]
HINT = "OKTA_chu-exemple"
CPS_IDP = BASE_ENV["PSC_CPS_IDP_IDS"]
SERVER, POLICY, RULE = "aus1psc0hook0example7", "00p1pscPolicy0Example7", "0pr1pscRule00Example7"
AUTH_POLICY = "rst1pscAuthPolicy0ex7"
HOOK_URL = "https://psc-hook.chu-exemple.fr/token-hook"
SANDBOX, PRODUCTION = environment("sandbox"), environment("production")
[FORMER] = [psc for psc in ENVIRONMENTS if psc.former]
BROKER = broker_endpoint(SANDBOX.issuer, HINT)
LOCAL_ENV = {**BASE_ENV, "PSC_CLIENT_IDS": PSC_CLIENT, "PSC_KC_IDP_HINT": HINT,
             "OKTA_API_TOKEN": TOKEN}  # fmt: skip


def header_hook(url: str = HOOK_URL, header: str = "Authorization", secret: str = SECRET):
    return okta_api.header_channel(url, header, secret)


def wire(fake: FakeOkta, channel=None, clients=(PSC_CLIENT,), redirect_uris=(BROKER,)) -> dict:
    """An org set up as docs/okta-setup.md says: the hook on PSC's rule, its app redirecting,
    and one sign-in through it."""
    hook = fake.add_hook(channel or header_hook())
    fake.add_server(SERVER)
    fake.add_policy(SERVER, POLICY, list(clients))
    fake.add_rule(SERVER, POLICY, RULE, hook_id=hook["id"])
    fake.add_app(PSC_CLIENT, list(redirect_uris))
    fake.add_authentication_policy(PSC_CLIENT, AUTH_POLICY)  # the password, then a push
    # the samples' CPS card reader (BASE_ENV names it), making Okta record PSC's élevé set
    fake.add_idp(CPS_IDP, "Carte CPS", additional_amr=CPS_ADDITIONAL_AMR)
    fake.add_hook_calls(hook["id"])  # a sign-in went through, as Okta's System Log says
    return hook


def doctor(capsys, okta: FakeOktaServer, *extra: str):
    return run(capsys, "doctor", "--org", okta.url, *extra)


def codes(capsys, okta: FakeOktaServer, *extra: str) -> list[str]:
    result = doctor(capsys, okta, "--json", *extra)
    assert result.code == (1 if result.json()["findings"] else 0), result.err
    return [finding["code"] for finding in result.json()["findings"]]


PASSWORD = {"methods": ["password"], "required": True}


def possession(*methods: str, **demands: str) -> dict:
    return {**({"methods": list(methods)} if methods else {}), "required": True, **demands}
