"""Two API processes on one database, as behind a load balancer: they agree on everything."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import PASSWORD, image_bytes
from tests.live.server import two_instances

pytestmark = pytest.mark.integration

# How often a write a busy machine answered 503 is sent again.
MAX_ATTEMPTS = 5


@pytest.fixture(scope="module")
def cluster(nx_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Start two servers with separate instance folders sharing the key, database and covers."""
    with two_instances(
        nx_server_url,
        tmp_path_factory,
        COVER_STORAGE="gridfs",
        RATELIMIT_ENABLED="true",
        RATELIMIT_LOGIN_PER_ACCOUNT="3 per hour",
    ) as servers:
        yield servers


def account(url: str, email: str) -> dict:
    """Sign up and log in on one server; return the login data."""
    body = {"name": "Ada Lovelace", "email": email, "password": PASSWORD}
    assert requests.post(url + "/users/", json=body, timeout=10).status_code == 201
    return requests.post(url + "/users/login", json=body, timeout=10).json()["data"]


def bearer(data: dict) -> dict[str, str]:
    """Return the Authorization header of a login."""
    return {"Authorization": f"Bearer {data['token']}"}


def test_a_token_from_one_instance_works_on_the_other(cluster):
    first, second = cluster
    data = account(first.url, "token@example.com")

    response = requests.get(second.url + "/users/", headers=bearer(data), timeout=10)

    assert response.status_code == 200
    assert response.json()["data"]["email"] == "token@example.com"


def test_a_cover_uploaded_through_one_is_served_by_the_other(cluster):
    first, second = cluster
    data = account(first.url, "cover@example.com")
    book = requests.post(
        first.url + "/books/",
        headers=bearer(data),
        data={"title": "Dune", "category": "science"},
        files={"cover_image": ("c.jpg", image_bytes(), "image/jpeg")},
        timeout=10,
    ).json()["data"]
    name = book["image_url"].rsplit("/", 1)[1]

    served = requests.get(f"{second.url}/static/books/{name}", timeout=10)

    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert not any((node.instance / "covers").exists() for node in cluster)


def test_logout_on_one_instance_holds_on_the_other(cluster):
    first, second = cluster
    data = account(first.url, "logout@example.com")

    requests.post(second.url + "/users/logout", headers=bearer(data), timeout=10)

    assert requests.get(first.url + "/users/", headers=bearer(data), timeout=10).status_code == 401
    refreshed = requests.post(
        first.url + "/users/token/refresh",
        json={"refresh_token": data["refresh_token"]},
        timeout=10,
    )
    assert refreshed.status_code == 401


def test_rate_limits_count_across_instances(cluster):
    first, second = cluster
    account(first.url, "limited@example.com")
    wrong = {"email": "limited@example.com", "password": "Wrong-Horse-1"}

    statuses = [
        requests.post(server.url + "/users/login", json=wrong, timeout=10).status_code
        for server in (first, second, first, second)
    ]

    assert statuses == [401, 401, 401, 429]


def test_a_burst_of_writes_over_both_instances_loses_nothing(cluster):
    first, second = cluster
    data = account(first.url, "burst@example.com")

    def create(number: int) -> str:
        # As a careful client does: one Idempotency-Key per book, and a 503 (the database
        # budget ran out on a busy machine) retried with it, so a retry never makes a second.
        headers = {**bearer(data), "Idempotency-Key": f"burst-{number}"}
        for attempt in range(MAX_ATTEMPTS):
            response = requests.post(
                cluster[(number + attempt) % 2].url + "/books/",
                headers=headers,
                data={"title": f"Book {number}", "category": "science"},
                files={"cover_image": ("c.jpg", image_bytes(size=(16, 16)), "image/jpeg")},
                timeout=30,
            )
            if response.status_code != 503:
                break
        assert response.status_code == 201, response.text
        return response.json()["data"]["_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = set(pool.map(create, range(40)))

    listed = requests.get(
        second.url + "/books/?per_page=100", headers=bearer(data), timeout=10
    ).json()
    assert len(created) == 40
    assert {book["_id"] for book in listed["data"]} == created
    assert listed["pagination"]["total"] == 40
