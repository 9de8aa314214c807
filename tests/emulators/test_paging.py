import base64

import grpc
import pytest

from emulators import paging, serving

ITEMS = list(range(7))


def all_pages(items: list[int], size: int) -> list[list[int]]:
    pages, token = [], ""
    while True:
        shown, token = paging.page(items, size, token, default_size=3, max_size=4)
        pages.append(shown)
        if not token:
            return pages


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [
        (ITEMS, 2, [[0, 1], [2, 3], [4, 5], [6]]),
        (ITEMS, 7, [[0, 1, 2, 3], [4, 5, 6]]),  # clamped to max_size
        (ITEMS, 0, [[0, 1, 2], [3, 4, 5], [6]]),  # default_size
        (ITEMS[:4], 4, [[0, 1, 2, 3]]),  # exactly one page: no token
        ([], 2, [[]]),
    ],
)
def test_pages_cover_every_item_once(
    items: list[int], size: int, expected: list[list[int]]
) -> None:
    assert all_pages(items, size) == expected


def test_tokens_are_opaque() -> None:
    _, token = paging.page(ITEMS, 2, "", default_size=3, max_size=4)
    assert token and not token.isdigit()


@pytest.mark.parametrize(
    ("size", "token"),
    [
        (-1, ""),
        (2, "not-a-token"),
        (2, "3"),
        (2, base64.urlsafe_b64encode(b"emulator-page:x").decode()),
        (2, base64.urlsafe_b64encode(b"emulator-page:99").decode()),  # beyond the end
        (2, "%%%"),
    ],
)
def test_bad_page_size_or_token_is_invalid_argument(size: int, token: str) -> None:
    with pytest.raises(serving.ApiError) as caught:
        paging.page(ITEMS, size, token, default_size=3, max_size=4)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "prefix",
    ["", "projects/p/", "projects/p/locations/l/jobs/", "projects/p2/", "projects/q/", "z"],
)
def test_names_under_a_prefix_are_the_sorted_names_starting_with_it(prefix: str) -> None:
    given = [
        "projects/p/locations/l/jobs/b",
        "projects/p/locations/l/jobs/a",
        "projects/p/locations/l2/jobs/a",
        "projects/p2/locations/l/jobs/a",
        "projects/p/locations/l/jobsx",
        "projects/p/locations/l/jobs/",
        "projects/p0",
        "projects/q/subscriptions/s",
    ]
    names = paging.Names()
    for name in given:
        names.add(name)
    names.remove("projects/p/locations/l/jobs/b")
    given.remove("projects/p/locations/l/jobs/b")

    assert names.under(prefix) == sorted(n for n in given if n.startswith(prefix))
    with pytest.raises(KeyError):
        names.remove("projects/p/locations/l/jobs/b")
