"""manifests/: valid Kubernetes objects, a kustomization kubectl can build, samples the CRDs accept.

Custom resources are checked against the CRDs' own openAPIV3Schema with jsonschema, so a bad
object is refused here the same way `kubectl apply` would refuse it.
"""

from __future__ import annotations

import copy
import pathlib
import shutil
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml

from controller.cli import main
from controller.operator import handlers
from controller.registry import custom_resources

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
KUBERNETES_VERSION = "1.30.0"
THIRD_PARTY_KINDS = {"ClusterKopfPeering", "KopfPeering"}
CRD_FILES = sorted((MANIFESTS / "crds").glob("*.yaml"))
OBJECT_FILES = [*CRD_FILES, *sorted(MANIFESTS.glob("*.yaml"))]
SAMPLES = sorted((MANIFESTS / "samples").glob("*.yaml"))


def load_all(path: pathlib.Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def crd_schema(kind: str) -> dict:
    for path in CRD_FILES:
        (crd,) = load_all(path)
        if crd["spec"]["names"]["kind"] == kind:
            (version,) = crd["spec"]["versions"]
            return version["schema"]["openAPIV3Schema"]
    raise LookupError(kind)


def validate_custom_resource(obj: dict) -> None:
    jsonschema.Draft7Validator(crd_schema(obj["kind"])).validate(obj)


@pytest.mark.parametrize("path", OBJECT_FILES, ids=lambda p: p.name)
def test_manifests_are_valid_kubernetes_objects(path):
    if path.name == "kustomization.yaml":
        return
    for obj in load_all(path):
        if obj["kind"] not in THIRD_PARTY_KINDS:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_kubectl_builds_the_kustomization():
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl must be on PATH for this test"
    built = subprocess.run(
        [kubectl, "kustomize", str(MANIFESTS)], check=True, capture_output=True, text=True
    ).stdout
    kinds = sorted(obj["kind"] for obj in yaml.safe_load_all(built) if obj)
    assert kinds == sorted(
        [
            "Namespace",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "ConfigMap",
            "ClusterKopfPeering",
            "Deployment",
        ]
    )


def test_the_deployment_runs_the_operator_locked_down():
    (deployment,) = load_all(MANIFESTS / "deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "run"
    assert "--peering=gcp-tasks-controller" in container["args"]
    assert (
        "--resync-configmap=gcp-tasks-controller/gcp-tasks-controller-resync" in container["args"]
    )
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    (peering,) = load_all(MANIFESTS / "peering.yaml")
    assert peering["metadata"]["name"] == "gcp-tasks-controller"
    (heartbeat,) = load_all(MANIFESTS / "resync-configmap.yaml")
    assert heartbeat["metadata"]["labels"][handlers.RESYNC_LABEL] == "true"


def test_the_service_account_asks_for_workload_identity():
    account = next(o for o in load_all(MANIFESTS / "rbac.yaml") if o["kind"] == "ServiceAccount")
    assert "iam.gke.io/gcp-service-account" in account["metadata"]["annotations"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_are_accepted_by_their_crd_or_are_valid_registries(path):
    for obj in load_all(path):
        if obj["kind"] == "ConfigMap":
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            registry = custom_resources.registry_configmap(obj)
            assert registry.scheduler_jobs and registry.subscriptions
            labels = obj["metadata"]["labels"]
            assert labels.items() >= custom_resources.REGISTRY_LABELS.items()
            continue
        validate_custom_resource(obj)
        assert custom_resources.custom_resource(obj).source.endswith(obj["metadata"]["name"])


@pytest.mark.parametrize("kind", ["PeriodicTask", "SubscriberTask"])
def test_crds_have_status_printer_columns_and_short_names(kind):
    path = next(p for p in CRD_FILES if load_all(p)[0]["spec"]["names"]["kind"] == kind)
    (crd,) = load_all(path)
    (version,) = crd["spec"]["versions"]
    assert crd["spec"]["group"] == custom_resources.GROUP
    assert version["name"] == custom_resources.VERSION
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    what = ("Schedule", ".spec.schedule") if kind == "PeriodicTask" else ("Topic", ".spec.topic")
    assert columns[what[0]] == what[1]
    assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Age"] == ".metadata.creationTimestamp"
    assert crd["spec"]["names"]["shortNames"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {"conditions", "observedGeneration", "cloudResourceName", "lastSyncTime"} <= set(status)


def sample(kind: str) -> dict:
    name = {"PeriodicTask": "periodictask.yaml", "SubscriberTask": "subscribertask.yaml"}[kind]
    (obj,) = load_all(MANIFESTS / "samples" / name)
    return obj


def without(obj: dict, key: str) -> dict:
    changed = copy.deepcopy(obj)
    del changed["spec"][key]
    return changed


def with_spec(obj: dict, **fields: object) -> dict:
    changed = copy.deepcopy(obj)
    changed["spec"].update(fields)
    return changed


@pytest.mark.parametrize(
    ("kind", "change", "complaint"),
    [
        ("PeriodicTask", lambda o: without(o, "schedule"), "'schedule' is a required property"),
        ("PeriodicTask", lambda o: without(o, "httpTarget"), "'httpTarget' is a required"),
        ("PeriodicTask", lambda o: with_spec(o, schedule="every day"), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, schedule="0 3 * *"), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, httpTarget={"uri": "ftp://x"}), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, httpTarget={}), "'uri' is a required property"),
        ("PeriodicTask", lambda o: with_spec(o, deletionPolicy="Keep"), "is not one of"),
        (
            "PeriodicTask",
            lambda o: with_spec(o, httpTarget={"uri": "https://a", "httpMethod": "GO"}),
            "is not one of",
        ),
        ("PeriodicTask", lambda o: with_spec(o, attemptDeadline=180), "is not of type 'string'"),
        ("PeriodicTask", lambda o: with_spec(o, attemptDeadline="3 minutes"), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, retryConfig={"retryCount": 9}), "greater than"),
        ("PeriodicTask", lambda o: with_spec(o, project="Shop"), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, name="has.dots"), "does not match"),
        ("PeriodicTask", lambda o: with_spec(o, paused="yes"), "is not of type 'boolean'"),
        ("SubscriberTask", lambda o: without(o, "topic"), "'topic' is a required property"),
        ("SubscriberTask", lambda o: without(o, "pushEndpoint"), "'pushEndpoint' is a required"),
        ("SubscriberTask", lambda o: with_spec(o, topic="9lives"), "does not match"),
        ("SubscriberTask", lambda o: with_spec(o, ackDeadlineSeconds=601), "greater than"),
        (
            "SubscriberTask",
            lambda o: with_spec(
                o, deadLetterPolicy={"deadLetterTopic": "dead", "maxDeliveryAttempts": 2}
            ),
            "less than",
        ),
        (
            "SubscriberTask",
            lambda o: with_spec(o, deadLetterPolicy={}),
            "'deadLetterTopic' is a required",
        ),
        ("SubscriberTask", lambda o: with_spec(o, labels={"team": "Check Out"}), "does not match"),
        ("SubscriberTask", lambda o: with_spec(o, deletionPolicy="Orphan"), "is not one of"),
    ],
)
def test_bad_custom_resources_are_refused_by_the_crd_schema(kind, change, complaint):
    with pytest.raises(jsonschema.ValidationError) as error:
        validate_custom_resource(change(sample(kind)))
    assert complaint in error.value.message


def test_the_image_runs_as_the_user_the_deployment_asks_for():
    # No Docker engine runs here, so the image is not built in CI; what can drift silently is
    # the Dockerfile's user and entrypoint against the Deployment's securityContext and args.
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    (user,) = [line.split()[1] for line in dockerfile if line.startswith("USER ")]
    (deployment,) = load_all(MANIFESTS / "deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert user == f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    assert 'ENTRYPOINT ["gcp-tasks-controller"]' in dockerfile
    # The image is the controller: it installs the extra the base package leaves out.
    assert any(f"'gcp-tasks-controller[{main.EXTRA}]'" in line for line in dockerfile)
    assert container["args"][0] == "run"
