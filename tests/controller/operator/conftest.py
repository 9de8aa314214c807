"""The operator's test rig: kopf in-process against kmock, plus the Google emulators.

kmock's `KubernetesEmulator` keeps objects as plain JSON; `ApiServer` adds the few things a real
API server does that kopf and kubectl rely on: resourceVersion and generation, uid and
creationTimestamp, the status subresource, JSON patches with `test`, server-side apply creating
objects, and a finalizer holding a deletion. It is the one boundary we patch: everything else
(kopf, Google's clients, the emulators, kubectl) is the real thing.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import aiohttp.web
import attrs
import jsonpatch
import kmock
import pytest
import yaml

from controller.gcp import clients as gcp_clients
from controller.operator import running
from controller.registry import custom_resources
from emulators import testing

PROJECT = "operator-tests"
LOCATION = "europe-west1"
CRD = {kind: f"gcptasks.dev/v1/{plural}" for kind, plural in custom_resources.PLURALS.items()}
_APPLY_PATCH = "application/apply-patch+yaml"


def _merge_patch(old: Any, new: Any) -> Any:
    """The RFC 7386 merge patch turning `old` into `new` (None deletes a key)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old or old[key] != value:
            patch[key] = _merge_patch(old.get(key), value)
    return patch


def _apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge recursively, None deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _apply_merge_patch(merged.get(key), value)
    return merged


@attrs.define(kw_only=True)
class ApiServer(kmock.KubernetesEmulator):
    """kmock's emulator with the API-server behaviour the operator and kubectl rely on."""

    _version: int = attrs.field(default=0, init=False)
    namespaces: set[str] = attrs.field(factory=lambda: {"default", "shop", "blog"}, init=False)

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # kmock cannot parse the cluster-wide namespace list (its path has no namespace after
        # "namespaces"); kopf reads it when scoped to namespaces, so answer it here.
        if raw_request.path.rstrip("/") == "/api/v1/namespaces":
            return await self._serve_namespaces(raw_request)
        return await super().__call__(raw_request)

    async def _serve_namespaces(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if raw.query.get("watch") != "true":
            names = self.namespaces | {ns for _, ns, _ in self.objects if ns}
            items = [{"metadata": {"name": name}} for name in sorted(names)]
            listed = {"kind": "NamespaceList", "apiVersion": "v1", "items": items}
            listed["metadata"] = {"resourceVersion": str(self._version)}
            return aiohttp.web.json_response(listed)
        stream = aiohttp.web.StreamResponse()
        await stream.prepare(raw)
        await asyncio.Event().wait()  # no namespace ever changes; held open until cancelled
        return stream

    async def _handle(self, request: kmock.Request) -> Any:
        original = request
        if request.resource is not None and request.name and request.action is not None:
            request = self._prepared(request)
        elif request.resource is not None and request.action == kmock.action.CREATE:
            request = attrs.evolve(request, data=self._created(request.data, request.namespace))
        if request is not original:
            # kmock matches reactions against the requests it logged, by identity.
            index = next(i for i, logged in enumerate(self._requests) if logged is original)
            self._requests[index] = request
        return await super()._handle(request)

    def _created(self, data: dict[str, Any], namespace: str | None) -> dict[str, Any]:
        data = copy.deepcopy(data)
        metadata = data.setdefault("metadata", {})
        if "name" not in metadata and "generateName" in metadata:  # e.g. kopf's Events
            metadata["name"] = f"{metadata['generateName']}{uuid.uuid4().hex[:10]}"
        if namespace:
            metadata.setdefault("namespace", namespace)
        metadata.update(
            uid=str(uuid.uuid4()),
            resourceVersion=self._next(),
            generation=1,
            creationTimestamp=_now(),
        )
        metadata.pop("managedFields", None)
        return data

    def _prepared(self, request: kmock.Request) -> kmock.Request:
        key = (request.resource, request.namespace, request.name)
        exists = key in self.objects and not self.objects[key].deleted
        content_type = request.headers.get("Content-Type", "")
        applying = request.action == kmock.action.UPDATE and content_type.startswith(_APPLY_PATCH)
        if applying and not exists:  # server-side apply creates what is missing
            data = self._created(request.data, request.namespace)
            return attrs.evolve(request, action=kmock.action.CREATE, data=data)
        if not exists:
            return request  # kmock answers 404
        current = copy.deepcopy(self.objects[key].raw)
        if request.action == kmock.action.DELETE:
            if (
                current["metadata"].get("finalizers")
                and "deletionTimestamp" not in current["metadata"]
            ):
                patch = {"metadata": {"deletionTimestamp": _now(), "resourceVersion": self._next()}}
                return attrs.evolve(request, action=kmock.action.UPDATE, data=patch)
            return request
        if request.action != kmock.action.UPDATE:
            return request
        if isinstance(request.data, list):
            try:
                wanted = jsonpatch.apply_patch(current, request.data)
            except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPatchTestFailed) as error:
                raise kmock.KubernetesError(422, "Invalid", str(error)) from error
        else:
            wanted = _apply_merge_patch(current, request.data or {})
        wanted = copy.deepcopy(dict(wanted))
        info = self.resources[request.resource]
        if request.subresource == "status":
            wanted = {**current, "status": wanted.get("status")}
        elif "status" in info.subresources:
            wanted["status"] = current.get("status")
        wanted["metadata"] = {**wanted.get("metadata", {}), "resourceVersion": self._next()}
        for immutable in ("uid", "creationTimestamp", "name", "namespace", "deletionTimestamp"):
            if immutable in current["metadata"]:
                wanted["metadata"][immutable] = current["metadata"][immutable]
        if wanted.get("spec") != current.get("spec"):
            wanted["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        wanted["metadata"].pop("managedFields", None)
        return attrs.evolve(request, data=_merge_patch(current, wanted))

    def _next(self) -> str:
        self._version += 1
        return str(self._version)

    async def _serve_list(self, request: kmock.Request) -> Any:
        listed = await super()._serve_list(request)
        listed["metadata"]["resourceVersion"] = str(self._version)
        return listed

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        # kmock replays every existing object to a new watch; a real API server sends only
        # what changed after the `resourceVersion` the client listed at.
        since = request.params.get("resourceVersion", "")
        async for item in super()._serve_watch(request):
            if isinstance(item, dict) and item.get("type") == "ADDED" and since.isdigit():
                version = item["object"].get("metadata", {}).get("resourceVersion", "0")
                if int(version) <= int(since):
                    continue
            yield item


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def declare_resources(server: kmock.KubernetesEmulator) -> None:
    """What discovery shows: the core kinds kopf uses, our CRDs and kopf's peering kinds."""
    info = kmock.ResourceInfo
    verbs = {"get", "list", "watch", "create", "update", "patch", "delete"}
    server.resources["v1/namespaces"] = info(kind="Namespace", namespaced=False, verbs=verbs)
    server.resources["v1/configmaps"] = info(kind="ConfigMap", namespaced=True, verbs=verbs)
    server.resources["v1/events"] = info(kind="Event", namespaced=True, verbs=verbs)
    server.resources["apiextensions.k8s.io/v1/customresourcedefinitions"] = info(
        kind="CustomResourceDefinition", namespaced=False, verbs=verbs
    )
    for kind, resource in CRD.items():
        server.resources[resource] = info(
            kind=kind,
            singular=kind.lower(),
            namespaced=True,
            verbs=verbs,
            shortnames={"ptask" if kind == "PeriodicTask" else "stask"},
            categories={"gcptasks"},
            subresources={"status"},
        )
    server.resources["kopf.dev/v1/clusterkopfpeerings"] = info(
        kind="ClusterKopfPeering", namespaced=False, verbs=verbs
    )
    server.resources["kopf.dev/v1/kopfpeerings"] = info(
        kind="KopfPeering", namespaced=True, verbs=verbs
    )


class Kube:
    """A thin client for tests: what `kubectl apply/patch/delete` would send."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server

    def _url(self, body: dict[str, Any], *, named: bool = True) -> str:
        resource = CRD.get(body["kind"], "v1/configmaps")
        group_version, plural = resource.rsplit("/", 1)
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        url = f"{prefix}/namespaces/{body['metadata']['namespace']}/{plural}"
        return f"{url}/{body['metadata']['name']}" if named else url

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession(base_url=str(self.server.url)) as session,
            session.request(method, url, **kwargs) as response,
        ):
            payload: dict[str, Any] = await response.json()
            assert response.status < 300, json.dumps(payload, indent=1)[:3000]
            return payload

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", self._url(body, named=False), json=body)

    async def patch(self, body: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/merge-patch+json"}
        return await self._call("PATCH", self._url(body), json=patch, headers=headers)

    async def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("DELETE", self._url(body))

    def get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        resource = kmock.resource(CRD.get(body["kind"], "v1/configmaps"))
        key = (resource, body["metadata"]["namespace"], body["metadata"]["name"])
        if key not in self.server.objects or self.server.objects[key].deleted:
            return None
        return copy.deepcopy(self.server.objects[key].raw)

    def events(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The Events posted about an object, oldest first."""
        found = []
        for (resource, _, _), stored in list(self.server.objects.items()):
            if resource != "v1/events" or stored.deleted:
                continue
            involved = stored.raw.get("involvedObject", {})
            if (involved.get("name"), involved.get("namespace")) == (
                body["metadata"]["name"],
                body["metadata"]["namespace"],
            ) and involved.get("kind") == body["kind"]:
                found.append(stored.raw)
        return found


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], timeout: float = 15.0
) -> Any:
    """Poll `check` without blocking the event loop until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not met within {timeout:g}s; last result: {result!r}")
        await asyncio.sleep(0.05)


@pytest.fixture
def kmock_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    # Every test here runs against ApiServer, not kmock's plain emulator.
    return {"cls": ApiServer}


@pytest.fixture
def kube(kmock: ApiServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Kube:
    """kmock as the cluster, with a kubeconfig (for kopf and kubectl) pointing at it."""
    declare_resources(kmock)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "kmock", "cluster": {"server": str(kmock.url).rstrip("/")}}],
                "users": [{"name": "tests", "user": {"token": "not-checked"}}],
                "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "tests"}}],
                "current-context": "kmock",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return Kube(kmock)


@pytest.fixture
def gcp(cloud_scheduler_emulator: Any, pubsub_emulator: Any) -> Any:
    """Google's clients on the emulators (the same ones the operator builds for itself)."""
    with gcp_clients.Clients.from_environment() as clients:
        yield clients


class Operator:
    """The operator in its own thread and event loop, as kopf's embedding guide does it.

    kopf treats every task created after its start as its own and cancels them when it stops;
    its own loop keeps it away from the test's tasks (and kmock's server).
    """

    def __init__(self, **options: Any) -> None:
        self.ready, self.stop = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, kwargs=options, daemon=True)

    def _run(self, **options: Any) -> None:
        try:
            asyncio.run(running.operate(ready_flag=self.ready, stop_flag=self.stop, **options))
        except BaseException as error:  # reported to the test by `started` / `stopped`
            self.error = error

    async def started(self) -> Operator:
        self.thread.start()
        await asyncio.to_thread(self.ready.wait, 15)
        if self.error is not None:
            raise self.error
        assert self.ready.is_set(), "the operator did not become ready within 15s"
        return self

    async def stopped(self) -> None:
        self.stop.set()  # a graceful stop: kopf runs its cleanup and closes its sessions
        await asyncio.to_thread(self.thread.join, 20)
        assert not self.thread.is_alive(), "the operator did not stop within 20s"
        if self.error is not None:
            raise self.error


Start = Callable[..., Awaitable[Operator]]


@pytest.fixture
async def start_operator(kube: Kube, gcp: Any) -> AsyncIterator[Start]:
    """Start the operator (`await start_operator(resync_seconds=1)`); stopped at the end."""
    started: list[Operator] = []

    async def start(**options: Any) -> Operator:
        options = {"project": PROJECT, "location": LOCATION, "resync_seconds": 60.0, **options}
        operator = Operator(**options)
        started.append(operator)
        return await operator.started()

    yield start
    for operator in reversed(started):
        await operator.stopped()


@pytest.fixture
def scheduler(cloud_scheduler_emulator: Any) -> Any:
    client = testing.scheduler_client(cloud_scheduler_emulator.host)
    yield client
    client.transport.close()
