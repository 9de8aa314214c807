import pytest

from django_integration import names


@pytest.mark.parametrize(
    ("slug", "affix", "delimiter", "expected"),
    [
        ("nightly-report", "shop", "--", "shop--nightly-report"),
        ("nightly-report", None, "--", "nightly-report"),
        ("nightly-report", "shop", "_", "shop_nightly-report"),
    ],
)
def test_scheduler_job_names_follow_django_gcp(slug, affix, delimiter, expected):
    assert names.scheduler_job(slug, affix, delimiter) == expected


@pytest.mark.parametrize(
    ("topic", "slug", "affix", "expected"),
    [
        ("orders", "ordersubscriber", "shop", "shop--orders--ordersubscriber"),
        ("orders", "ordersubscriber", None, "orders--ordersubscriber"),
    ],
)
def test_subscription_names_follow_django_gcp(topic, slug, affix, expected):
    assert names.subscription(topic, slug, affix, "--") == expected


@pytest.mark.parametrize(
    ("affix", "expected"),
    [
        ("shop", "0123456789abcdef--rebuild--shop"),
        (None, "0123456789abcdef--rebuild"),
    ],
)
def test_task_ids_lead_with_the_hash_and_end_with_the_affix(affix, expected):
    assert names.task_id("0123456789abcdef", "rebuild", affix, "--") == expected


@pytest.mark.parametrize(
    ("affix", "delimiter"), [("my.shop", "--"), ("shop", "::"), ("x" * 500, "--"), ("shop\n", "--")]
)
def test_task_ids_cloud_tasks_would_refuse_are_a_clear_error(affix, delimiter):
    with pytest.raises(ValueError, match="not valid for Cloud Tasks"):
        names.task_id("0123456789abcdef", "rebuild", affix, delimiter)
