# psc-token-hook container image. Build: docker build -t psc-token-hook .
# Run: docker run --read-only --tmpfs /tmp -p 8080:8080 -e PSC_TENANT_ID=... \
#        -e HOOK_AUTH_MODE=header -e HOOK_SECRETS=... psc-token-hook
# The Python minor version follows .python-version. For reproducible builds, pin the base
# image by digest in your registry (python:3.11-slim-trixie@sha256:...).

# Build stage: install the lock and the package into a virtual environment. Every
# dependency ships wheels for linux/amd64 and linux/arm64, so no compiler is needed here
# either; the final stage gets only the virtual environment.
FROM python:3.11-slim-trixie AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# The lock first (exact versions, every file's hash checked), in a layer of its own that
# a change of code does not rebuild; then the package itself, with no dependency of its own.
COPY requirements.txt ./
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --requirement requirements.txt
COPY pyproject.toml README.md ./
COPY hook ./hook
# pip installs the bytecode with the package, so nothing is written to the image at run
# time; pip itself is then removed: the final stage installs nothing.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
    && /opt/venv/bin/pip uninstall --yes pip

FROM python:3.11-slim-trixie
# A fixed numeric id, so that Kubernetes' runAsNonRoot can check it without a user database.
RUN groupadd --system --gid 10001 hook \
    && useradd --system --uid 10001 --gid hook --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin hook
COPY --from=build /opt/venv /opt/venv
# PORT: the platforms set it; gunicorn binds 0.0.0.0:$PORT (hook/gunicorn_conf.py).
# The root file system may be read-only: nothing is written but gunicorn's worker heartbeat
# files and the metrics files, which go to /tmp; mount a tmpfs or an emptyDir there.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8080
USER 10001:10001
EXPOSE 8080
# /readyz: the configuration is valid and, with OAuth, the keys are loaded; a container whose
# keys never load is unhealthy (Kubernetes uses /readyz for readiness, /healthz for liveness).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/readyz', timeout=2)"]
# The Procfile's command, unchanged.
CMD ["gunicorn", "-c", "python:hook.gunicorn_conf"]
