"""Writing the registry where the controller reads it: a Kubernetes ConfigMap, or a file.

Plain `requests` with the pod's service-account token and CA (no Kubernetes client dependency).
The ConfigMap is read first and written only when its content or label differs; a file is
replaced atomically. The document is the app's desired state with the admin's pauses (`pausing`).
On startup a failure is logged and never raised: the app must start even when the cluster API or
the database does not answer.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests
import structlog
from django.apps import apps
from django.db import connections

from controller.registry import custom_resources, documents
from django_integration import conf, pausing

logger = structlog.get_logger()
log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # RFC 1123 label: namespaces
_SUBDOMAIN = re.compile(rf"{_LABEL.pattern}(\.{_LABEL.pattern})*")  # object names


class ExportError(Exception):
    """The ConfigMap could not be read or written; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where the Kubernetes API is and how to authenticate to it."""

    api_url: str
    token: str | None = None
    ca_file: str | None = None  # None: the system's CAs (or plain http, in tests)
    namespace: str | None = None  # the pod's own namespace, when known


def in_cluster() -> Cluster:
    """The in-cluster API from `KUBERNETES_SERVICE_HOST/PORT` and the mounted service account;
    `GCP_TASKS_KUBERNETES_API_URL` and `GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR` override them."""
    settings = conf.settings
    api_url = settings.kubernetes_api_url
    if not api_url:
        host = os.environ.get("KUBERNETES_SERVICE_HOST")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise ExportError("not in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is not set)")
        api_url = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    account = Path(settings.kubernetes_service_account_dir)
    ca = account / "ca.crt"
    return Cluster(
        api_url=api_url.rstrip("/"),
        token=_read(account / "token"),
        ca_file=str(ca) if ca.is_file() else None,
        namespace=_read(account / "namespace"),
    )


def parse_target(value: str, default_namespace: str | None = None) -> tuple[str, str]:
    """`"namespace/name"` or `"name"` (in `default_namespace`) as (namespace, name)."""
    namespace, _, name = value.rpartition("/")
    namespace = namespace or default_namespace or ""
    if not _SUBDOMAIN.fullmatch(name) or len(name) > 253:
        raise ValueError(f"{value!r}: {name!r} is not a valid ConfigMap name")
    if namespace and not _LABEL.fullmatch(namespace):
        raise ValueError(f"{value!r}: {namespace!r} is not a valid namespace")
    return namespace, name


def export(document: str, namespace: str, name: str, cluster: Cluster) -> str:
    """Make the ConfigMap hold `document`: "created", "updated" or "unchanged"."""
    if not namespace:
        raise ExportError(f"no namespace for ConfigMap {name!r}: write it as 'namespace/name'")
    with _session(cluster) as session:
        return _reconcile(session, document, namespace, name, cluster.api_url)


def _reconcile(
    session: requests.Session, document: str, namespace: str, name: str, api_url: str
) -> str:
    collection = f"{api_url}/api/v1/namespaces/{namespace}/configmaps"
    item = f"{collection}/{name}"
    for _ in range(2):  # a second round when another replica created it concurrently
        current = _call(session, "GET", item, allow=(404,))
        if current is None:
            body = _configmap(document, namespace, name)
            if _call(session, "POST", collection, json=body, allow=(409,)) is not None:
                return "created"
            continue
        wanted = _configmap(document, namespace, name)
        data = current.get("data") or {}
        labels = (current.get("metadata") or {}).get("labels") or {}
        if data.get(custom_resources.REGISTRY_KEY) == document and (
            labels.items() >= custom_resources.REGISTRY_LABELS.items()
        ):
            return "unchanged"
        patch = {"metadata": {"labels": wanted["metadata"]["labels"]}, "data": wanted["data"]}
        _call(session, "PATCH", item, json=patch, content_type="application/merge-patch+json")
        return "updated"
    raise ExportError(f"ConfigMap {namespace}/{name} kept changing while being written")


def export_configured(document: str) -> str | None:
    """Export to `GCP_TASKS_REGISTRY_CONFIGMAP` when it is set; raises `ExportError`."""
    target = conf.settings.registry_configmap
    if not target:
        return None
    cluster = in_cluster()
    try:
        namespace, name = parse_target(target, cluster.namespace)
    except ValueError as error:
        raise ExportError(f"GCP_TASKS_REGISTRY_CONFIGMAP {error}") from error
    outcome = export(document, namespace, name, cluster)
    logger.info("registry_exported", configmap=f"{namespace}/{name}", outcome=outcome)
    return outcome


def write_file(path: str, document: str) -> None:
    """Replace the file at `path` with `document` in one step."""
    # A reader (the controller's file source) never sees a half-written registry.
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".registry-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(document)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def export_desired() -> list[str]:
    """Export the app's desired state, pauses included, to the configured file and ConfigMap:
    what was written (empty when neither is configured). Raises `OSError` (the file),
    `ExportError` (the ConfigMap) or `pausing.PausesUnreadable` (then nothing is written)."""
    settings = conf.settings
    if not (settings.registry_file or settings.registry_configmap):
        return []
    document = documents.render(pausing.desired())
    written = []
    if settings.registry_file:
        write_file(settings.registry_file, document)
        logger.info("registry_exported", file=settings.registry_file)
        written.append(f"file {settings.registry_file}")
    outcome = export_configured(document)
    if outcome is not None:
        written.append(f"ConfigMap {settings.registry_configmap} {outcome}")
    return written


def export_on_startup() -> None:
    """Called from `AppConfig.ready()`: export once the app registry is ready (reading the pauses
    queries the database, which Django advises against while apps are still loading)."""
    if not (conf.settings.registry_file or conf.settings.registry_configmap):
        return
    if apps.ready:
        _export_logged()
        return
    threading.Thread(target=_export_when_ready, name="registry-export", daemon=True).start()


def _export_when_ready() -> None:
    apps.ready_event.wait()
    try:
        _export_logged()
    finally:
        connections.close_all()  # this thread's own connections


def _export_logged() -> None:
    """Export, logging and swallowing every failure: the app must start whatever happens here."""
    settings = conf.settings
    targets = {"configmap": settings.registry_configmap, "file": settings.registry_file}
    where = {kind: target for kind, target in targets.items() if target}
    try:
        export_desired()
    except pausing.PausesUnreadable as error:
        log.error("The task registry was not exported: %s", error)
        logger.error("registry_export_skipped", reason=str(error), **where)
    except Exception:
        logger.exception("registry_export_failed", **where)


def _configmap(document: str, namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(custom_resources.REGISTRY_LABELS),
        },
        "data": {custom_resources.REGISTRY_KEY: document},
    }


def _session(cluster: Cluster) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # the cluster API is never reached through a developer's proxy
    if cluster.token:
        session.headers["Authorization"] = f"Bearer {cluster.token}"
    session.verify = cluster.ca_file or True
    return session


def _call(
    session: requests.Session,
    method: str,
    url: str,
    *,
    json: Any = None,
    content_type: str = "application/json",
    allow: tuple[int, ...] = (),
) -> dict[str, Any] | None:
    """The JSON answer, None for an allowed error status; anything else is an `ExportError`."""
    headers = {"Content-Type": content_type} if json is not None else {}
    try:
        response = session.request(method, url, json=json, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise ExportError(f"{method} {url}: {error}") from error
    if response.status_code in allow:
        return None
    if not response.ok:
        reason = response.text[:300]
        raise ExportError(f"{method} {url}: HTTP {response.status_code}: {reason}")
    try:
        answer = response.json()
    except ValueError as error:
        raise ExportError(f"{method} {url}: the answer is not JSON") from error
    return answer if isinstance(answer, dict) else {}


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
