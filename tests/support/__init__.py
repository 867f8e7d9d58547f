"""What the tests share besides fixtures (those are in ``tests/conftest.py``): the test
environment's constants (``settings``), launching gunicorn (``processes``), the fakes of
Okta (``fake_okta``, ``fake_okta_auth``, with Okta's schemas in ``okta_schemas`` and
``tests/okta/``), a JWKS server (``jwks_server``), hostile and slow peers, the apps gunicorn
loads for failure tests, and readers of the repository's docs, Dockerfile and metrics.
No test file imports another test file: what two of them share lives here.

The ``process`` marker: a test is a process test when it starts another process (gunicorn,
a subprocess of ``psc-hook`` or of a tool) or a server on a loopback socket (a thread
serving JWKS, a fake Okta over HTTP, a hostile peer), directly or through a fixture;
``make test-fast`` runs the others (``pytest -m "not process"``).
"""
