"""The Periodic tasks page against the Cloud Scheduler emulator: live state in one List, Run now,
Pause and Resume as desired state (applied by a controller pass), permissions and bad input."""

from __future__ import annotations

import asyncio
import html
import json
import re

import pytest
from django.test import Client, override_settings

from django_integration import models, registry, tasks
from emulators import running

pytestmark = pytest.mark.django_db

PAGE = "/admin/django_integration/declaredperiodictask/"
HOURLY = "test--hourlytask"
PATH = f"projects/test-project/locations/europe-west1/jobs/{HOURLY}"


def jobs_in_cloud(emulator: running.Service) -> dict[str, str]:
    return {job.name.rsplit("/", 1)[1]: job.state.name for job in emulator.state.jobs()}


def text(response) -> str:
    return html.unescape(response.content.decode())


def rows(response) -> dict[str, str]:
    """Each row's text by job name, whitespace collapsed."""
    page = text(response)
    found = {}
    for match in re.finditer(r'<tr class="gcptasks-row" data-job="([^"]+)">(.*?)</tr>', page, re.S):
        cells = re.sub(r"<[^>]+>", " ", match[2])
        found[match[1]] = " ".join(cells.split())
    return found


def test_every_declared_task_is_listed_with_its_live_state(admin_client, controller_pass):
    controller_pass()

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    listed = rows(response)
    assert set(listed) == {job.name for _, job in registry.periodic_jobs()}
    assert "HourlyTask" in listed[HOURLY] and "0 * * * *" in listed[HOURLY]
    assert "Enabled ENABLED never" in listed[HOURLY]
    assert "In line" not in listed[HOURLY] and " yes " in f" {listed[HOURLY]} "
    sweep = listed["test--sweep"]  # a periodic django.tasks function
    assert "Europe/Paris" in sweep and "*/5 * * * *" in sweep


def test_the_page_makes_one_list_call_however_many_tasks(
    admin_client, controller_pass, cloud_scheduler_emulator, isolated_registrations
):
    for number in range(40):
        type(
            f"Extra{number}",
            (tasks.PeriodicTask,),
            {"run_every": "0 4 * * *", "__module__": __name__},
        )
    controller_pass()
    cloud_scheduler_emulator.requests.clear()

    response = admin_client.get(PAGE)

    assert len(rows(response)) == len(registry.periodic_jobs()) > 40
    assert [r.method for r in cloud_scheduler_emulator.requests.entries] == ["ListJobs"]


def test_jobs_not_created_yet_say_so(admin_client, cloud_scheduler_emulator):
    listed = rows(admin_client.get(PAGE))

    assert "missing" in listed[HOURLY]
    assert "not in the cloud yet: the controller creates it" in listed[HOURLY]


def test_a_cloud_error_is_shown_on_the_page_not_a_500(admin_client, monkeypatch):
    monkeypatch.setenv(running.SCHEDULER_ENV, "127.0.0.1:9")  # nothing listens there

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    assert "Cloud Scheduler could not be read: UNAVAILABLE" in text(response)
    assert "unknown" in rows(response)[HOURLY]  # still listed, from code


def test_run_now_fires_the_job(admin_client, controller_pass, cloud_scheduler_emulator):
    controller_pass()
    cloud_scheduler_emulator.requests.clear()

    response = admin_client.post(f"{PAGE}run/", {"job": HOURLY}, follow=True)

    assert [(r.method, r.resource) for r in cloud_scheduler_emulator.requests.writes()] == [
        ("RunJob", PATH)
    ]
    assert f"Run now: {HOURLY} fires now" in text(response)


def test_run_now_of_a_job_not_created_yet_explains(admin_client, cloud_scheduler_emulator):
    response = admin_client.post(f"{PAGE}run/", {"job": HOURLY}, follow=True)

    assert f"Not run: {HOURLY} is not in Cloud Scheduler yet" in text(response)


def test_pause_is_stored_exported_and_applied_by_the_controller(
    admin_client, controller_pass, cloud_scheduler_emulator
):
    controller_pass()
    form = admin_client.get(f"{PAGE}pause/", {"job": HOURLY})
    assert form.status_code == 200 and "Reason" in text(form)

    response = admin_client.post(
        f"{PAGE}pause/", {"job": HOURLY, "reason": "floods the mailer"}, follow=True
    )

    pause = models.JobPause.objects.get()
    assert (pause.job, pause.task, pause.paused_by) == (HOURLY, "HourlyTask", "admin")
    assert pause.reason == "floods the mailer"
    page = text(response)
    assert "No export is configured" in page  # said plainly: nothing will reach a controller
    listed = rows(response)[HOURLY]
    assert "Paused by admin" in listed and "floods the mailer" in listed
    assert "still enabled in the cloud: the controller pauses it" in listed
    assert jobs_in_cloud(cloud_scheduler_emulator)[HOURLY] == "ENABLED"  # the page never pauses

    controller_pass()
    controller_pass()  # a resync keeps it paused

    assert jobs_in_cloud(cloud_scheduler_emulator)[HOURLY] == "PAUSED"
    assert " yes " in f" {rows(admin_client.get(PAGE))[HOURLY]} "


def test_resume_removes_the_pause_and_the_controller_resumes(
    admin_client, controller_pass, cloud_scheduler_emulator
):
    admin_client.post(f"{PAGE}pause/", {"job": HOURLY, "reason": ""})
    controller_pass()

    response = admin_client.post(f"{PAGE}resume/", {"job": HOURLY}, follow=True)

    assert not models.JobPause.objects.exists()
    assert "paused in the cloud, not here: the controller resumes it" in rows(response)[HOURLY]
    controller_pass()
    assert jobs_in_cloud(cloud_scheduler_emulator)[HOURLY] == "ENABLED"


def test_a_task_paused_in_code_cannot_be_resumed_here(admin_client, isolated_registrations):
    type("Dormant", (tasks.PeriodicTask,), {"run_every": "0 4 * * *", "paused": True})

    response = admin_client.post(f"{PAGE}resume/", {"job": "test--dormant"}, follow=True)

    assert "Not resumed: test--dormant is paused in code" in text(response)
    assert "Paused in code" in rows(response)["test--dormant"]


@pytest.mark.parametrize("view", ["run/", "pause/", "resume/"])
def test_an_unknown_job_is_refused_and_changes_nothing(
    admin_client, cloud_scheduler_emulator, view
):
    response = admin_client.post(f"{PAGE}{view}", {"job": "test--nope"}, follow=True)

    assert "No declared periodic task has job 'test--nope'" in text(response)
    assert cloud_scheduler_emulator.requests.writes() == []
    assert not models.JobPause.objects.exists()


def test_viewers_see_the_page_without_buttons(user_with, controller_pass):
    controller_pass()
    response = user_with("view_declaredperiodictask").get(PAGE)

    assert response.status_code == 200
    assert HOURLY in rows(response)
    assert "Run now" not in text(response) and "Pause" not in rows(response)[HOURLY]


@pytest.mark.parametrize(
    ("codenames", "view", "data"),
    [
        (["view_declaredperiodictask"], "run/", {"job": HOURLY}),
        (["view_declaredperiodictask", "pause_declaredperiodictask"], "run/", {"job": HOURLY}),
        (["view_declaredperiodictask"], "pause/", {"job": HOURLY, "reason": "x"}),
        (["view_declaredperiodictask", "run_declaredperiodictask"], "pause/", {"job": HOURLY}),
        (["view_declaredperiodictask"], "resume/", {"job": HOURLY}),
        ([], "run/", {"job": HOURLY}),
    ],
)
def test_without_the_permission_nothing_is_run_or_paused(
    user_with, controller_pass, cloud_scheduler_emulator, codenames, view, data
):
    controller_pass()
    models.JobPause.objects.create(job="test--sweep", task="sweep", paused_by="alice")
    cloud_scheduler_emulator.requests.clear()

    response = user_with(*codenames).post(f"{PAGE}{view}", {**data, "job": data["job"]})

    assert response.status_code == 403
    assert cloud_scheduler_emulator.requests.entries == []
    assert list(models.JobPause.objects.values_list("job", flat=True)) == ["test--sweep"]


def test_a_user_without_view_permission_cannot_see_the_page(user_with):
    assert user_with().get(PAGE).status_code == 403


def test_posts_need_the_csrf_token(admin_user, controller_pass, cloud_scheduler_emulator):
    controller_pass()
    cloud_scheduler_emulator.requests.clear()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(f"{PAGE}run/", {"job": HOURLY})

    assert response.status_code == 403
    assert cloud_scheduler_emulator.requests.entries == []


def test_the_page_is_in_the_admin_index(admin_client):
    index = text(admin_client.get("/admin/"))

    assert PAGE in index and "Periodic tasks" in index
    assert "/admin/django_integration/declaredsubscribertask/" in index


@override_settings(GCP_TASKS_RESOURCE_AFFIX=None)
def test_missing_settings_are_shown_not_raised(admin_client):
    response = admin_client.get(PAGE)

    assert response.status_code == 200
    assert "GCP_TASKS_RESOURCE_AFFIX must be set" in text(response)


@pytest.mark.django_db(transaction=True)
async def test_a_pause_is_exported_at_once(admin_client, kmock, tmp_path):
    kmock.resources["v1/namespaces"] = {"namespaced": False}
    kmock.resources["v1/configmaps"] = {"namespaced": True, "kind": "ConfigMap"}
    (tmp_path / "token").write_text("sa-token")
    with override_settings(
        GCP_TASKS_REGISTRY_CONFIGMAP="shop/shop-registry",
        GCP_TASKS_KUBERNETES_API_URL=str(kmock.url),
        GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path),
    ):
        response = await asyncio.to_thread(
            admin_client.post, f"{PAGE}pause/", {"job": HOURLY, "reason": "r"}, follow=True
        )
        exported = json.loads(
            kmock.objects["v1/configmaps", "shop", "shop-registry"]["data"]["registry.json"]
        )
        paused = {job["name"]: job["paused"] for job in exported["spec"]["schedulerJobs"]}
        assert paused[HOURLY] is True and paused["test--sweep"] is False
        assert "Registry exported (ConfigMap shop/shop-registry created)" in text(response)

        await asyncio.to_thread(admin_client.post, f"{PAGE}resume/", {"job": HOURLY})

        exported = json.loads(
            kmock.objects["v1/configmaps", "shop", "shop-registry"]["data"]["registry.json"]
        )
        assert {job["name"]: job["paused"] for job in exported["spec"]["schedulerJobs"]}[
            HOURLY
        ] is False


def test_an_export_failure_is_shown_and_the_pause_kept(admin_client):
    with override_settings(
        GCP_TASKS_REGISTRY_CONFIGMAP="shop/shop-registry",
        GCP_TASKS_KUBERNETES_API_URL="http://127.0.0.1:9",
    ):
        response = admin_client.post(f"{PAGE}pause/", {"job": HOURLY, "reason": ""}, follow=True)

    assert "Stored, but the registry could not be exported" in text(response)
    assert models.JobPause.objects.filter(job=HOURLY).exists()


def test_without_an_affix_a_crafted_pause_is_stored_and_the_export_error_shown(
    admin_client, tmp_path
):
    registry_file = tmp_path / "registry.json"
    with override_settings(GCP_TASKS_RESOURCE_AFFIX=None, GCP_TASKS_REGISTRY_FILE=registry_file):
        [job] = [j.name for task, j in registry.periodic_jobs() if task == "HourlyTask"]
        response = admin_client.post(f"{PAGE}pause/", {"job": job, "reason": ""}, follow=True)

    assert response.status_code == 200
    page = text(response)
    assert "Stored, but the registry could not be exported" in page
    assert "GCP_TASKS_RESOURCE_AFFIX must be set" in page
    assert models.JobPause.objects.filter(job=job).exists() and not registry_file.exists()
