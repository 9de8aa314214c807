import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_integration import conf

settings = conf.settings


@pytest.mark.parametrize(
    ("name", "attribute", "value", "expected"),
    [
        ("GCP_TASKS_DOMAIN", "domain", "https://x.example.com/", "https://x.example.com"),
        ("GCP_TASKS_DEFAULT_QUEUE_NAME", "default_queue_name", "q", "q"),
        ("GCP_TASKS_REGION", "region", "us-central1", "us-central1"),
        ("GCP_TASKS_RESOURCE_AFFIX", "resource_affix", "", None),
        ("GCP_TASKS_DELIMITER", "delimiter", "_", "_"),
        ("GCP_TASKS_EAGER_EXECUTE", "eager_execute", 1, True),
        ("GCP_TASKS_DISABLE_EXECUTE", "disable_execute", True, True),
        ("GCP_TASKS_EMULATOR_TARGET", "emulator_target", "127.0.0.1:1", "127.0.0.1:1"),
        ("GCP_TASKS_OIDC_AUDIENCE", "oidc_audience", "https://aud", "https://aud"),
        ("GCP_TASKS_OIDC_CERTS_URL", "oidc_certs_url", "http://certs", "http://certs"),
        ("GCP_TASKS_PROJECT", "project", "my-project", "my-project"),
        ("GCP_TASKS_REGISTRY_OWNER", "registry_owner", "team-a", "team-a"),
        ("GCP_TASKS_REGISTRY_CONFIGMAP", "registry_configmap", "ns/cm", "ns/cm"),
        ("GCP_TASKS_REGISTRY_FILE", "registry_file", "/tmp/r.json", "/tmp/r.json"),
        ("GCP_TASKS_KUBERNETES_API_URL", "kubernetes_api_url", "http://k", "http://k"),
    ],
)
def test_settings_are_read_at_every_access(name, attribute, value, expected):
    with override_settings(**{name: value}):
        assert getattr(settings, attribute) == expected


@pytest.mark.parametrize(
    ("attribute", "default"),
    [
        ("region", "europe-west1"),
        ("delimiter", "--"),
        ("eager_execute", False),
        ("disable_execute", False),
        ("auth_disabled", False),
        ("oidc_audience", None),
        ("oidc_certs_url", "https://www.googleapis.com/oauth2/v1/certs"),
        ("registry_configmap", None),
        ("registry_file", None),
        ("kubernetes_service_account_dir", "/var/run/secrets/kubernetes.io/serviceaccount"),
    ],
)
def test_defaults(attribute, default, monkeypatch):
    monkeypatch.delenv("GCP_TASKS_OIDC_CERTS_URL", raising=False)
    names = [
        "GCP_TASKS_REGION",
        "GCP_TASKS_DELIMITER",
        "GCP_TASKS_EAGER_EXECUTE",
        "GCP_TASKS_DISABLE_EXECUTE",
        "GCP_TASKS_DISABLE_AUTH",
        "GCP_TASKS_OIDC_AUDIENCE",
        "GCP_TASKS_OIDC_CERTS_URL",
        "GCP_TASKS_REGISTRY_CONFIGMAP",
        "GCP_TASKS_REGISTRY_FILE",
        "GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR",
    ]
    from django.conf import settings as django_settings

    with override_settings():
        for name in names:
            if hasattr(django_settings, name):
                delattr(django_settings, name)
        assert getattr(settings, attribute) == default


@pytest.mark.parametrize(("value", "disabled"), [(True, True), (1, False), ("yes", False)])
def test_only_an_explicit_true_disables_verification(value, disabled):
    with override_settings(GCP_TASKS_DISABLE_AUTH=value):
        assert settings.auth_disabled is disabled


def test_emulator_comes_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:9")
    with override_settings(GCP_TASKS_EMULATOR_TARGET=None):
        assert settings.emulator_target == "127.0.0.1:9" and settings.emulating
    with override_settings(GCP_TASKS_EMULATOR_TARGET="127.0.0.1:8"):
        assert settings.emulator_target == "127.0.0.1:8"
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST")
    with override_settings(GCP_TASKS_EMULATOR_TARGET=None):
        assert settings.emulator_target is None and not settings.emulating


def test_project_falls_back_to_google_cloud_project(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    with override_settings(GCP_TASKS_PROJECT=None):
        assert settings.project == "from-env"
    with override_settings(GCP_TASKS_PROJECT="from-settings"):
        assert settings.project == "from-settings"


def test_project_without_any_source_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GCLOUD_PROJECT", raising=False)
    # No credentials anywhere: google-auth finds none and the metadata server is not probed.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    conf._default_credentials_project.cache_clear()
    with (
        override_settings(GCP_TASKS_PROJECT=None),
        pytest.raises(ImproperlyConfigured, match="set GCP_TASKS_PROJECT or GOOGLE_CLOUD_PROJECT"),
    ):
        _ = settings.project
    conf._default_credentials_project.cache_clear()


def test_certs_url_comes_from_the_environment_when_not_set(monkeypatch):
    monkeypatch.setenv("GCP_TASKS_OIDC_CERTS_URL", "http://127.0.0.1:1/oauth2/v1/certs")
    with override_settings(GCP_TASKS_OIDC_CERTS_URL=None):
        assert settings.oidc_certs_url == "http://127.0.0.1:1/oauth2/v1/certs"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"tasks@test-project.iam.gserviceaccount.com"}),
        ({"GCP_INVOKER_SERVICE_ACCOUNT_EMAILS": ["shared@p.iam"]}, {"shared@p.iam"}),
        (
            {
                "GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS": ["tasks@p.iam"],
                "GCP_INVOKER_SERVICE_ACCOUNT_EMAILS": ["shared@p.iam"],
            },
            {"tasks@p.iam"},
        ),
        ({"GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS": []}, set()),
        ({"GCP_TASKS_SERVICE_ACCOUNT_EMAIL": None}, set()),
    ],
)
def test_invoker_allowlist_falls_back_like_django_gcp_then_to_our_account(overrides, expected):
    with override_settings(**overrides):
        assert settings.invoker_service_account_emails == expected


def test_invoker_allowlist_must_be_a_list():
    with (
        override_settings(GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS="a@b.c"),
        pytest.raises(ImproperlyConfigured, match="list of service account emails"),
    ):
        _ = settings.invoker_service_account_emails


@pytest.mark.parametrize(
    ("overrides", "owner"),
    [
        ({"GCP_TASKS_RESOURCE_AFFIX": "Shop"}, "shop"),
        ({"GCP_TASKS_RESOURCE_AFFIX": None}, "django"),
        ({"GCP_TASKS_REGISTRY_OWNER": "team-a"}, "team-a"),
    ],
)
def test_registry_owner(overrides, owner):
    with override_settings(**overrides):
        assert settings.registry_owner == owner
