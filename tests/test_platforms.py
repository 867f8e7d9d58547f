"""Each documented deploy path, built and started as its platform does.

A hospital's platform installs the lock (or the package), never this suite's .venv, and often
runs with no source tree beside the service. So each path gets a fresh virtual environment
with no test extras and no editable install, built from what the platform is given (the tree
as ``git push`` ships it; for the image, only what .dockerignore lets through) with the
platform's own build steps, read from its files. Then its own start command runs with PORT
and the required settings, and it must be ready, serve its OpenAPI document and answer every
shipped sample. The virtual environments are kept in .cache/platforms, one set per lock.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.deploy_files import PROCFILE, SERVICE, clever_env
from tests.support.dockerfile import (
    BUILD,
    FINAL,
    IMAGE_VENV,
    build_context,
    exec_form,
    image_env,
    only,
)
from tests.support.processes import Server, free_port, stop, wait_until_up
from tests.support.settings import BASE_ENV, ROOT, SECRET

pytestmark = pytest.mark.process

CACHE = ROOT / ".cache" / "platforms"
#: The interpreter the platforms' virtual environments are made from (the image's Python).
BASE_PYTHON = Path(sys.base_prefix)
#: Docker's PATH in an image that sets none (the base image's ENV).
DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KUBERNETES = ROOT / "deploy" / "kubernetes"
BWRAP = shutil.which("bwrap")
SAMPLES_WITH_COMMANDS = ("password-okta-verify-push",)
METRICS_TOKEN = "metrics-token-0123456789-abcdefghijklmnop"


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout


@pytest.fixture(scope="session")
def shipped(tmp_path_factory) -> Path:
    """The tree as git ships it to a platform: tracked files, with their uncommitted edits."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to ship")
    commit = git("stash", "create").decode().strip() or "HEAD"
    tree = tmp_path_factory.mktemp("shipped")
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", commit))) as archive:
        archive.extractall(tree, filter="tar")
    return tree


def lock_key(tree: Path) -> str:
    digest = hashlib.sha256((tree / "requirements.txt").read_bytes() + sys.version.encode())
    return digest.hexdigest()[:16]


def build_environment(venv: Path | str) -> dict[str, str]:
    """A build's environment: the virtual environment first, this machine's pip settings."""
    pip = {name: value for name, value in os.environ.items() if name.startswith("PIP_")}
    return {**pip, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
            "PATH": f"{venv}/bin:{BASE_PYTHON}/bin:/usr/bin:/bin"}  # fmt: skip


def run(command: list[str], cwd: Path | str, env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def platform_venv(name: str, tree: Path, make: bool = True) -> Path:
    """A virtual environment kept per lock: later builds find its packages installed.
    ``make=False`` leaves making it to the build (the image's, at its own path)."""
    venv = CACHE / lock_key(tree) / name
    if not (venv / "bin" / "python").exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.mkdir(parents=True)
        if make:
            run([str(BASE_PYTHON / "bin" / "python3"), "-m", "venv", str(venv)], ROOT, os.environ)
    return venv


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(venv: Path) -> set[str]:
    """The distributions in a virtual environment, by normalised name."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'] for d in "
         "m.distributions()))"],
        capture_output=True, text=True, check=True, timeout=60, cwd="/",
    )  # fmt: skip
    return {canonical(name) for name in done.stdout.split()}


def locked(tree: Path) -> set[str]:
    """The distributions the lock installs on this machine (markers evaluated)."""
    from packaging.requirements import Requirement

    names = set()
    for line in (tree / "requirements.txt").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = Requirement(line.rstrip(" \\"))
            if requirement.marker is None or requirement.marker.evaluate():
                names.add(canonical(requirement.name))
    return names


def settings() -> dict[str, str]:
    """What an operator sets on every platform: the required settings."""
    return {**BASE_ENV, "METRICS_TOKEN": METRICS_TOKEN}


def check_serves(server: Server, tree: Path) -> None:
    """Ready, its OpenAPI document, and every shipped sample answered as Okta needs."""
    assert requests.get(f"{server.url}/readyz", timeout=5).status_code == 200, server.log()
    document = requests.get(f"{server.url}/openapi.yaml", timeout=5)
    assert document.status_code == 200, server.log()
    assert document.content == (tree / "hook" / "openapi.yaml").read_bytes()
    samples = sorted((tree / "hook" / "samples").glob("*.json"))
    assert len(samples) >= 9
    for sample in samples:
        answer = requests.post(
            f"{server.url}/token-hook", data=sample.read_bytes(), timeout=5,
            headers={"Authorization": SECRET, "Content-Type": "application/json"},
        )  # fmt: skip
        assert answer.status_code in (200, 204), (sample.name, answer.text, server.log())
        if sample.stem in SAMPLES_WITH_COMMANDS:
            assert answer.json()["commands"], sample.name


@pytest.fixture
def serve(tmp_path) -> Iterator:
    """Start a platform's command and wait for it; stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(command: list[str], cwd: Path | str, env: dict[str, str], port: int) -> Server:
        output = tmp_path / f"platform-{port}.log"
        with output.open("w") as sink:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        started.append(process)
        server = Server(f"http://127.0.0.1:{port}", process, output)
        wait_until_up(server, deadline_s=30)
        return server

    yield start
    for process in started:
        stop(process)


# The Python buildpacks: Heroku, Scalingo and Clever Cloud install requirements.txt ---------


@pytest.fixture(scope="session")
def buildpack(shipped) -> Path:
    """What the Python buildpacks do: ``pip install -r requirements.txt`` in the app's tree."""
    venv = platform_venv("buildpack", shipped)
    run(["pip", "install", "-r", "requirements.txt"], shipped, build_environment(venv))
    return venv


def test_the_buildpacks_install_the_lock_and_nothing_else(buildpack, shipped):
    assert installed(buildpack) - {"pip", "setuptools"} == locked(shipped)


def runtime_environment(venv: Path, port: int) -> dict[str, str]:
    return {"PATH": f"{venv}/bin:/usr/bin:/bin", "PORT": str(port), **settings()}


@pytest.mark.parametrize("platform", ["heroku", "scalingo"])
def test_the_procfile_serves_from_the_buildpacks_install(buildpack, shipped, serve, platform):
    """Both run the Procfile's web command with bash, in the app's directory."""
    port = free_port()
    command = ["bash", "-c", PROCFILE.removeprefix("web: ")]
    server = serve(command, shipped, runtime_environment(buildpack, port), port)
    check_serves(server, shipped)


def test_clever_cloud_serves_from_its_documented_variables(buildpack, shipped, serve):
    """CC_RUN_COMMAND, with the Clever Cloud page's variables; PORT is the platform's (9000)."""
    port = free_port()
    documented = clever_env()
    assert documented["PORT"] == "9000"
    env = {**documented, **runtime_environment(buildpack, port)}
    server = serve(["bash", "-c", documented["CC_RUN_COMMAND"]], shipped, env, port)
    check_serves(server, shipped)


# Render: deploy/render.yaml's own buildCommand and startCommand ----------------------------


def test_render_builds_and_starts_with_its_blueprints_commands(shipped, serve):
    venv = platform_venv("render", shipped)
    run(["bash", "-c", SERVICE["buildCommand"]], shipped, build_environment(venv))
    assert "psc-token-hook" in installed(venv)
    assert installed(venv) - {"pip", "setuptools", "psc-token-hook"} == locked(shipped)
    port = free_port()
    defaults = {entry["key"]: str(entry["value"]) for entry in SERVICE["envVars"]
                if "value" in entry}  # fmt: skip
    env = {**defaults, **runtime_environment(venv, port)}
    server = serve(["bash", "-c", SERVICE["startCommand"]], shipped, env, port)
    check_serves(server, shipped)


# The container image: the build stage's steps, then the CMD as the image runs it ----------


def bwrap_available() -> None:
    if BWRAP is None:
        if os.environ.get("CI"):
            pytest.fail("bubblewrap (bwrap) is missing: make test installs it (Makefile)")
        pytest.skip("bubblewrap (bwrap) is missing: apt-get install bubblewrap")


def image_build(shipped: Path, venv: Path, context: Path) -> None:
    """The build stage's ENV, WORKDIR, COPY and RUN, in order, with /opt/venv the cache's."""
    workdir, env = "/", build_environment(BASE_PYTHON)  # the venv is not on the build's PATH
    src = context.parent / "workdir"
    src.mkdir()
    for keyword, args in BUILD[1:]:
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
        elif keyword == "WORKDIR":
            workdir = args
        elif keyword == "COPY":
            *sources, destination = args.split()
            for source in sources:
                found = context / source
                copy = shutil.copytree if found.is_dir() else shutil.copy2
                copy(found, src / destination / found.name if destination.endswith("/")
                     else src / destination)  # fmt: skip
        elif keyword == "RUN":
            sandbox = [BWRAP, "--bind", "/", "/", "--tmpfs", "/opt", "--bind", str(venv),
                       IMAGE_VENV, "--bind", str(src), workdir, "--proc", "/proc", "--dev",
                       "/dev", "--chdir", workdir, "--clearenv"]  # fmt: skip
            for name, value in env.items():
                sandbox += ["--setenv", name, value]
            run([*sandbox, "sh", "-c", args], ROOT, {})
        else:
            raise AssertionError(f"the test does not know the build stage's {keyword}")


def image_sandbox(venv: Path, env: dict[str, str]) -> list[str]:
    """bwrap as the image runs: its user, a read-only root with only /tmp writable (a
    tmpfs), HOME unset, in / (not writable), the source tree hidden, /opt/venv the image's."""
    user, _, group = only(FINAL, "USER").partition(":")
    sandbox = [BWRAP, "--ro-bind", "/", "/", "--tmpfs", str(ROOT), "--tmpfs", "/root"]
    if BASE_PYTHON.is_relative_to("/root"):  # the image's Python, readable by its user
        sandbox += ["--ro-bind", str(BASE_PYTHON), str(BASE_PYTHON)]
    sandbox += ["--tmpfs", "/opt", "--ro-bind", str(venv), IMAGE_VENV, "--tmpfs", "/tmp",
                "--proc", "/proc", "--dev", "/dev", "--unshare-user", "--uid", user, "--gid",
                group, "--die-with-parent", "--chdir", "/", "--clearenv"]  # fmt: skip
    for name, value in env.items():
        sandbox += ["--setenv", name, value]
    return sandbox


def kubernetes_container() -> dict:
    documents = yaml.safe_load_all((KUBERNETES / "deployment.yaml").read_text())
    [deployment] = [document for document in documents if document["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return {"pod": deployment["spec"]["template"]["spec"], **container}


def kubernetes_environment(container: dict) -> dict[str, str]:
    """The pod's environment: settings.env (its ConfigMap), its own env, its Secret's keys."""
    env = {}
    for line in (KUBERNETES / "settings.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    secrets = {"HOOK_SECRETS": SECRET, "METRICS_TOKEN": METRICS_TOKEN}  # as the docs create it
    for entry in container["env"]:
        name, reference = entry["name"], entry.get("valueFrom", {}).get("secretKeyRef", {})
        if name in secrets or not reference.get("optional"):  # an optional key it lacks: unset
            env[name] = entry.get("value") or secrets[name]
    return env


def test_the_image_builds_and_serves_as_it_runs_and_as_kubernetes_runs_it(shipped, serve, tmp_path):
    bwrap_available()
    venv = platform_venv("image", shipped, make=False)
    image_build(shipped, venv, build_context(shipped, tmp_path / "context"))
    assert not (venv / "bin" / "pip").exists()
    assert installed(venv) - {"setuptools", "psc-token-hook"} == locked(shipped)

    container = kubernetes_container()
    image = image_env()
    assert "command" not in container and "args" not in container  # the image's CMD runs
    [http] = container["ports"]
    assert str(http["containerPort"]) == image["PORT"] == kubernetes_environment(container)["PORT"]
    user, _, group = only(FINAL, "USER").partition(":")
    pod = container["pod"]["securityContext"]
    assert (str(pod["runAsUser"]), str(pod["runAsGroup"])) == (user, group)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    writable = {
        mount["mountPath"] for mount in container["volumeMounts"] if not mount.get("readOnly")
    }
    assert writable == {"/tmp"}  # the one writable path of the run below

    port = free_port()
    image["PATH"] = image["PATH"].replace("$PATH", DOCKER_PATH)
    env = {**image, **kubernetes_environment(container), "PSC_TENANT_ID": "OKTA_chu-exemple",
           "PORT": str(port)}  # fmt: skip
    assert "HOME" not in env
    command = exec_form(only(FINAL, "CMD"))
    server = serve([*image_sandbox(venv, env), *command], "/", {}, port)
    check_serves(server, shipped)
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        request = container[probe]["httpGet"]
        assert request["port"] == http["name"]
        assert requests.get(f"{server.url}{request['path']}", timeout=5).status_code == 200
    health = exec_form(only(FINAL, "HEALTHCHECK").split(" CMD ", 1)[1])
    probe = subprocess.run([*image_sandbox(venv, env), *health], timeout=30, check=False)
    assert probe.returncode == 0
    log = server.log()
    assert "Traceback" not in log and "Read-only file system" not in log, log
