"""The Helm chart: lints, renders valid manifests for every values file, refuses bad values.

helm-python-sdk wraps Helm's Go SDK (no helm binary); kubernetes-validate checks the rendered
objects against the Kubernetes API schemas offline.
"""

from __future__ import annotations

import pathlib

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from helm_python import errors as helm_errors

from controller.operator import handlers

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "gcp-tasks-controller"
MANIFESTS = ROOT / "manifests"
KUBERNETES_VERSION = "1.30.0"
# Kinds kubernetes-validate has no schema for; checked by the assertions below instead.
THIRD_PARTY_KINDS = {"ServiceMonitor", "ClusterKopfPeering", "KopfPeering"}
VALUES_FILES = [None, *sorted(p.name for p in (CHART / "ci").glob("*.yaml"))]
WARNING = 2  # helm lint severities: 1 info, 2 warning, 3 error


def values_of(name: str | None) -> dict:
    return yaml.safe_load((CHART / "ci" / name).read_text()) if name else {}


def render(values: dict) -> list[dict]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name="gtc", namespace="tasks", is_install=True)
    return [
        doc
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def test_there_are_ci_values_files():
    assert "all-features-values.yaml" in VALUES_FILES


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_lints_without_warnings(values_file):
    report = helm.lint(
        CHART, values_of(values_file), strict=True, kube_version=f"v{KUBERNETES_VERSION}"
    )
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= WARNING] == []


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_renders_valid_kubernetes_objects(values_file):
    objects = render(values_of(values_file))
    assert by_kind(objects, "Deployment"), "the controller Deployment is always rendered"
    for obj in objects:
        if obj["kind"] in THIRD_PARTY_KINDS:
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "gcp-tasks-controller"
        assert labels["app.kubernetes.io/instance"] == "gtc"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"


def test_crds_in_the_chart_are_the_manifests_crds_byte_for_byte():
    chart_crds = {p.name: p.read_bytes() for p in (CHART / "crds").glob("*.yaml")}
    manifest_crds = {p.name: p.read_bytes() for p in (MANIFESTS / "crds").glob("*.yaml")}
    assert chart_crds == manifest_crds
    assert set(chart_crds) >= {
        "periodictasks.gcptasks.dev.yaml",
        "subscribertasks.gcptasks.dev.yaml",
        "kopfpeerings.kopf.dev.yaml",
    }


def test_helm_loads_the_crds_from_the_crds_directory():
    with helm.Chart.load(CHART) as chart:
        names = {yaml.safe_load(crd["data"])["metadata"]["name"] for crd in chart.crds}
    assert {"periodictasks.gcptasks.dev", "subscribertasks.gcptasks.dev"} <= names


def test_default_values_leave_optional_features_off():
    objects = render({})
    kinds = {obj["kind"] for obj in objects}
    assert kinds == {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",  # patching its own heartbeat ConfigMap only
        "RoleBinding",
        "ConfigMap",  # the heartbeat the resync timer lives on
        "Deployment",
        "ClusterKopfPeering",
    }
    (deployment,) = by_kind(objects, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "resources" not in container
    args = container["args"]
    assert "--peering=gtc-gcp-tasks-controller" in args
    assert "--resync-configmap=tasks/gtc-gcp-tasks-controller-resync" in args
    assert "--metrics-port=8080" in args, "metrics off: the health port serves no metrics"
    assert [p["name"] for p in container["ports"]] == ["health"]
    assert not any(arg.startswith("--namespace") for arg in args)
    (heartbeat,) = by_kind(objects, "ConfigMap")
    assert heartbeat["metadata"]["name"] == "gtc-gcp-tasks-controller-resync"
    assert heartbeat["metadata"]["labels"][handlers.RESYNC_LABEL] == "true"


def test_the_pod_is_locked_down_and_probed():
    (deployment,) = by_kind(render({}), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert "--health-port=8080" in container["args"]


def test_all_features_render_monitoring_writers_and_workload_identity():
    objects = render(values_of("all-features-values.yaml"))
    (account,) = by_kind(objects, "ServiceAccount")
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == (
        "tasks-controller@shop-prod-123.iam.gserviceaccount.com"
    )
    (monitor,) = by_kind(objects, "ServiceMonitor")
    (service,) = by_kind(objects, "Service")
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    writers = {
        (r["metadata"]["namespace"], r["metadata"]["name"])
        for r in by_kind(objects, "Role")
        if r["metadata"]["name"].endswith("-registry-writer")
    }
    assert writers == {("shop", "shop-web-registry-writer"), ("blog", "blog-web-registry-writer")}
    shop_role = next(r for r in by_kind(objects, "Role") if r["metadata"]["namespace"] == "shop")
    assert {
        "resourceNames": ["shop-task-registry"],
        "verbs": ["get", "update", "patch"],
    }.items() <= (shop_role["rules"][1].items())


def test_namespace_scoping_uses_roles_instead_of_cluster_wide_access():
    objects = render(values_of("namespaced-values.yaml"))
    (cluster_role,) = by_kind(objects, "ClusterRole")
    cluster_resources = {res for rule in cluster_role["rules"] for res in rule["resources"]}
    assert cluster_resources == {"customresourcedefinitions", "namespaces"}
    roles = [r for r in by_kind(objects, "Role") if not r["metadata"]["name"].endswith("-resync")]
    # The release's own namespace is watched too: the heartbeat ConfigMap lives there.
    assert {r["metadata"]["namespace"] for r in roles} == {"shop", "blog", "tasks"}
    for role in roles:
        resources = {res for rule in role["rules"] for res in rule["resources"]}
        assert {"periodictasks", "configmaps", "events", "kopfpeerings"} <= resources
    peerings = by_kind(objects, "KopfPeering")
    assert {p["metadata"]["namespace"] for p in peerings} == {"shop", "blog", "tasks"}
    (deployment,) = by_kind(objects, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=shop" in args and "--namespace=blog" in args


def test_the_controller_may_write_only_status_finalizers_events_and_its_heartbeat():
    objects = render({})
    (cluster_role,) = by_kind(objects, "ClusterRole")
    writes = {
        (res, verb)
        for rule in cluster_role["rules"]
        for res in rule["resources"]
        for verb in rule["verbs"]
        if verb in {"create", "update", "patch", "delete", "deletecollection"}
    }
    (heartbeat_role,) = by_kind(objects, "Role")
    assert heartbeat_role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["gtc-gcp-tasks-controller-resync"],
            "verbs": ["patch"],
        }
    ]
    assert writes == {
        ("periodictasks", "patch"),
        ("subscribertasks", "patch"),
        ("periodictasks/status", "patch"),
        ("subscribertasks/status", "patch"),
        ("events", "create"),
        ("clusterkopfpeerings", "patch"),
    }


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"unknownKey": True}, "unknownKey"),
        ({"image": {"repository": "x", "pullPolicy": "Sometimes"}}, "pullPolicy"),
        ({"controller": {"project": "Not A Project"}}, "project"),
        ({"controller": {"resyncSeconds": 1}}, "resyncSeconds"),
        ({"controller": {"watchNamespaces": ["Bad_Namespace"]}}, "watchNamespaces"),
        ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "interval"),
        ({"registryWriters": [{"namespace": "shop"}]}, "serviceAccount"),
        ({"serviceAccount": {"gcpServiceAccount": "someone@gmail.com"}}, "gcpServiceAccount"),
        ({"replicaCount": -1}, "replicaCount"),
    ],
)
def test_invalid_values_are_refused_by_the_schema(values, complaint):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm_errors.HelmValuesError) as error:
        chart.validate_schema(values)
    assert complaint in str(error.value)


def test_an_invalid_values_file_is_refused_when_rendering_too(tmp_path):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm_errors.HelmError) as error:
        chart.render({"controller": {"logLevel": "CHATTY"}}, name="gtc", namespace="tasks")
    assert "logLevel" in str(error.value)


def test_a_service_monitor_without_its_service_is_a_clear_error():
    values = {"metrics": {"enabled": True, "serviceMonitor": {"enabled": True}}}
    with helm.Chart.load(CHART) as chart, pytest.raises(helm_errors.HelmRenderError) as error:
        chart.render(values, name="gtc", namespace="tasks")
    assert "metrics.service.enabled" in str(error.value)
