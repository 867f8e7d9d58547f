"""The Kubernetes manifests: valid against Kubernetes' schemas, consistent with the image and
the service, and passed by checkov with every skip explained."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kubernetes

from hook.config import ConfigError, load_settings
from hook.version import __version__
from tests.support import checkov
from tests.support.deploy_files import SPEC_VARIABLES
from tests.support.dockerfile import FINAL, only
from tests.support.settings import ROOT, SECRET

HERE = ROOT / "deploy" / "kubernetes"
KUSTOMIZATION = yaml.safe_load((HERE / "kustomization.yaml").read_text())
MANIFESTS = {
    (doc := yaml.safe_load((HERE / name).read_text()))["kind"]: doc
    for name in KUSTOMIZATION["resources"]
}
DEPLOYMENT = MANIFESTS["Deployment"]
POD = DEPLOYMENT["spec"]["template"]["spec"]
[CONTAINER] = POD["containers"]
#: The oldest Kubernetes minor still served by the main managed offers, up to the newest
#: whose schemas kubernetes-validate ships.
OLDEST_MINOR = 31
#: The one writable path of the pod (gunicorn's heartbeat files, metrics files).
WRITABLE = "/tmp"
#: checkov checks skipped on purpose; each skip carries its reason in the manifest.
SKIPPED = {"CKV_K8S_43", "CKV_K8S_35"}


def minors() -> list[str]:
    major, latest, _ = kubernetes.latest_version().split(".")
    return [f"{major}.{minor}.0" for minor in range(OLDEST_MINOR, int(latest) + 1)]


def settings_env() -> dict[str, str]:
    lines = (HERE / "settings.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def gunicorn_setting(name: str) -> Any:
    """A literal setting of hook/gunicorn_conf.py, read without running it."""
    tree = ast.parse((ROOT / "hook" / "gunicorn_conf.py").read_text())
    [value] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == [name]
    ]
    return ast.literal_eval(value)


def test_the_kustomization_lists_every_manifest_and_the_settings():
    files = {path.name for path in HERE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(KUSTOMIZATION["resources"]) == files
    assert KUSTOMIZATION["namespace"] == MANIFESTS["Namespace"]["metadata"]["name"]
    for kind, manifest in MANIFESTS.items():
        if kind != "Namespace":
            assert manifest["metadata"]["namespace"] == KUSTOMIZATION["namespace"], kind
    [generator] = [g for g in KUSTOMIZATION["configMapGenerator"] if "envs" in g]
    assert generator["envs"] == ["settings.env"]
    assert CONTAINER["envFrom"] == [{"configMapRef": {"name": generator["name"]}}]


@pytest.mark.parametrize("version", minors())
def test_every_manifest_fits_the_kubernetes_schema(version):
    for kind, manifest in MANIFESTS.items():
        try:
            kubernetes.validate(manifest, version, strict=True)
        except kubernetes.ValidationError as error:
            raise AssertionError(f"{kind} on Kubernetes {version}: {error.message}") from None


def test_the_image_is_the_projects_release_on_the_images_port_and_user():
    repository, tag = CONTAINER["image"].rsplit(":", 1)
    assert KUSTOMIZATION["images"] == [{"name": repository, "newTag": __version__}]
    assert tag == __version__
    [port] = CONTAINER["ports"]
    assert str(port["containerPort"]) == only(FINAL, "EXPOSE")
    assert {"name": "PORT", "value": only(FINAL, "EXPOSE")} in CONTAINER["env"]
    uid, gid = (int(part) for part in only(FINAL, "USER").split(":"))
    assert (POD["securityContext"]["runAsUser"], POD["securityContext"]["runAsGroup"]) == (uid, gid)


def test_probes_readiness_on_readyz_liveness_on_healthz():
    assert CONTAINER["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert CONTAINER["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert CONTAINER["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_pods_leave_the_service_before_sigterm_and_finish_their_calls_before_sigkill():
    command = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep" and int(command[1]) >= 3
    drain = int(command[1]) + gunicorn_setting("graceful_timeout")
    assert POD["terminationGracePeriodSeconds"] > drain


def test_the_pods_are_non_root_on_a_read_only_root_with_tmp_in_memory():
    context = CONTAINER["securityContext"]
    assert POD["securityContext"]["runAsNonRoot"] is True
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert POD["automountServiceAccountToken"] is False
    [mount] = [m for m in CONTAINER["volumeMounts"] if not m.get("readOnly")]
    [volume] = [v for v in POD["volumes"] if "emptyDir" in v]
    assert mount == {"name": volume["name"], "mountPath": WRITABLE}
    assert volume["emptyDir"]["medium"] == "Memory"


def test_the_tenants_file_is_a_config_map_mounted_read_only():
    generator = next(g for g in KUSTOMIZATION["configMapGenerator"] if "files" in g)
    assert generator["files"] == ["tenants.json"]
    [volume] = [v for v in POD["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == generator["name"]
    [mount] = [m for m in CONTAINER["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    path = f"{mount['mountPath']}/tenants.json"
    assert f"PSC_TENANTS={path}" in (HERE / "settings.env").read_text()
    env = {**settings_env(), "PSC_TENANTS": str(HERE / "tenants.json"), "HOOK_SECRETS": SECRET,
           "PSC_CLAIMS_ID_TOKEN": "tid,oid,kc_idp_hint"}  # fmt: skip
    assert [t.tid for t in load_settings(env).tenants.tenants] == [
        "OKTA_chu-exemple-a",
        "OKTA_chu-exemple-b",
    ]


def mebibytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_memory_is_sized_for_gunicorns_master_and_workers():
    """docs/performance.md: about 40 MB per worker; the master is about the same."""
    processes = 1 + gunicorn_setting("workers")
    resources = CONTAINER["resources"]
    assert mebibytes(resources["requests"]["memory"]) >= 40 * processes
    [tmp] = [volume for volume in POD["volumes"] if "emptyDir" in volume]
    tmp_limit = mebibytes(tmp["emptyDir"]["sizeLimit"])
    assert mebibytes(resources["limits"]["memory"]) >= 40 * processes + tmp_limit
    assert resources["requests"]["cpu"] and resources["limits"]["cpu"]


def test_two_pods_at_least_kept_through_disruptions_and_scaling():
    """The autoscaler alone sets the count: a replicas field would undo its scaling at
    every apply. A drain evicts one pod at a time, however many run."""
    assert "replicas" not in DEPLOYMENT["spec"]
    autoscaler = MANIFESTS["HorizontalPodAutoscaler"]["spec"]
    assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"]
    assert autoscaler["scaleTargetRef"]["name"] == DEPLOYMENT["metadata"]["name"]
    assert DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = MANIFESTS["PodDisruptionBudget"]["spec"]
    assert "minAvailable" not in budget
    assert budget["maxUnavailable"] == 1


def test_no_two_pods_of_a_revision_share_a_node():
    """What the Deployment's comment promises: a hard rule on the node, a soft one on zones."""
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    spread = {rule["topologyKey"]: rule for rule in POD["topologySpreadConstraints"]}
    node = spread["kubernetes.io/hostname"]
    assert (node["maxSkew"], node["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    for rule in spread.values():
        assert rule["labelSelector"]["matchLabels"].items() <= labels.items()
        assert rule["matchLabelKeys"] == ["pod-template-hash"]


def test_every_selector_picks_the_deployments_pods():
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    selectors = [
        DEPLOYMENT["spec"]["selector"]["matchLabels"],
        MANIFESTS["Service"]["spec"]["selector"],
        MANIFESTS["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        MANIFESTS["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"],
    ]
    for selector in selectors:
        assert selector.items() <= labels.items()
    [service_port] = MANIFESTS["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == CONTAINER["ports"][0]["name"]


def test_settings_and_secret_name_every_variable_and_make_a_valid_configuration():
    settings = settings_env()
    secret_refs = {
        entry["name"]: entry["valueFrom"]["secretKeyRef"]
        for entry in CONTAINER["env"]
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    assert secret_refs == {
        "HOOK_SECRETS": {"name": "psc-token-hook", "key": "HOOK_SECRETS"},
        "METRICS_TOKEN": {"name": "psc-token-hook", "key": "METRICS_TOKEN"},  # not optional
        "HOOK_LOG_USER_KEY": {
            "name": "psc-token-hook",
            "key": "HOOK_LOG_USER_KEY",
            "optional": True,
        },
    }
    assert set(settings) | set(secret_refs) == set(SPEC_VARIABLES)
    with pytest.raises(ConfigError, match=r"^PSC_TENANT_ID: required"):
        load_settings({**settings, "HOOK_SECRETS": SECRET})  # no example tenant goes live
    settings.update(PSC_TENANT_ID="OKTA_chu-exemple", HOOK_SECRETS=SECRET)
    loaded = load_settings(settings)
    assert loaded.auth_modes == ("header",)
    assert loaded.log_format == "json"


@pytest.mark.process
def test_checkov_leaves_no_failed_check_and_explains_every_skip():
    results = checkov.scan("kubernetes", "--directory", str(HERE.relative_to(ROOT)))
    assert checkov.unexplained(results) == []
    assert {check["check_id"] for check in results["skipped_checks"]} == SKIPPED
    passed = {check["check_id"] for check in results["passed_checks"]}
    # Among them: read-only root, non-root, high uid, no capabilities, seccomp, probes.
    assert {"CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_40", "CKV_K8S_37", "CKV_K8S_31"} <= passed
    assert {"CKV_K8S_8", "CKV_K8S_9"} <= passed
