"""The API against real Postgres and Redis: durable acceptance, idempotency, bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from system.api import create_app
from system.queue import StreamQueue

pytestmark = pytest.mark.integration
JSON = {"headers": {"Content-Type": "application/json"}}


@pytest.fixture
def client(settings, db):
    with TestClient(create_app(settings)) as test_client:
        # The schema is prepared on a background thread at start-up.
        for _ in range(100):
            if test_client.get("/readyz").status_code == 200:
                break
        yield test_client


def submit(client, url="http://127.0.0.1:1/images/photo.jpg", key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/submit", json={"image_url": url}, headers=headers)


def test_submit_commits_the_job_and_enqueues_it(client, db, redis_client):
    response = submit(client)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING" and body["created"] is True
    job = client.get(f"/jobs/{body['job_id']}").json()
    assert job["status"] == "PENDING"
    queued = StreamQueue(redis_client).queued_job_ids()
    assert queued == {body["job_id"]}


def test_same_idempotency_key_twice_makes_one_job(client, db):
    first = submit(client, key="abc-1").json()
    second = submit(client, key="abc-1").json()
    assert first["job_id"] == second["job_id"]
    assert second["created"] is False
    assert len(client.get("/jobs").json()) == 1


def test_key_reused_for_another_url_is_a_conflict(client, db):
    submit(client, url="http://127.0.0.1:1/a.jpg", key="k")
    response = submit(client, url="http://127.0.0.1:1/b.jpg", key="k")
    assert response.status_code == 409
    assert "another image_url" in response.json()["detail"]


def test_redis_down_does_not_fail_a_submission(settings, db):
    app = create_app(settings.with_changes(redis_url="redis://127.0.0.1:1/0"))
    with TestClient(app) as client:
        for _ in range(100):
            if client.get("/readyz").status_code == 200:
                break
        response = submit(client)
        assert response.status_code == 202
        assert client.get(f"/jobs/{response.json()['job_id']}").json()["status"] == "PENDING"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "reason"),
    [
        ({"content": b"not json", "headers": {"Content-Type": "application/json"}}, 422, "JSON"),
        ({"json": {}}, 422, "image_url"),
        ({"json": {"image_url": 42}}, 422, "image_url"),
        ({"json": {"image_url": ""}}, 422, "empty"),
        ({"json": {"image_url": "ftp://example.com/a.jpg"}}, 422, "http or https"),
        ({"json": {"image_url": "http:///nohost.jpg"}}, 422, "no host"),
        ({"json": {"image_url": "http://example.com:99999/a.jpg"}}, 422, "malformed"),
        ({"json": {"image_url": "http://example.com/" + "a" * 3000}}, 422, "limit"),
        ({"content": b'{"image_url": "http://x.com/\\ud800"}', **JSON}, 422, "surrogate"),
        ({"content": b'{"image_url": "http://x.com/\xff"}', **JSON}, 400, "parsing the body"),
        ({"json": {"image_url": "http://x.com/a\u0000"}}, 422, "control"),
        ({"json": {"image_url": "http://127.0.0.1:1\\@x.com/a"}}, 422, "backslash"),
        ({"json": {"image_url": "http://u:p@x.com/a.jpg"}}, 422, "user name"),
        ({"json": {"image_url": "http://[::1/a.jpg"}}, 422, "malformed"),
        (
            {
                "json": {"image_url": "http://x.com/a.jpg"},
                "headers": {"Idempotency-Key": "k" * 201},
            },
            400,
            "limit",
        ),
        (
            {"json": {"image_url": "http://x.com/a.jpg"}, "headers": {"Idempotency-Key": "a b"}},
            400,
            "printable",
        ),
    ],
)
def test_malformed_submissions_get_a_4xx_with_a_reason(client, db, request_kwargs, status, reason):
    response = client.post("/submit", **request_kwargs)
    assert response.status_code == status
    assert reason in response.json()["detail"]


def test_an_oversized_body_is_refused_before_parsing(client, db):
    big = b'{"image_url": "http://x.com/' + b"a" * 200_000 + b'"}'
    response = client.post("/submit", content=big, headers=JSON["headers"])
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_an_oversized_chunked_body_is_refused_before_parsing(client, db):
    def chunks():
        yield b'{"image_url": "http://x.com/'
        for _ in range(20):
            yield b"a" * 10_000
        yield b'"}'

    response = client.post("/submit", content=chunks(), headers=JSON["headers"])
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_oversized_headers_are_refused_with_431(client, db):
    headers = {**JSON["headers"], "X-Padding": "p" * 20_000}
    response = client.post("/submit", json={"image_url": "http://x.com/a.jpg"}, headers=headers)
    assert response.status_code == 431
    assert "headers too large" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/jobs/abc", 422),
        ("/jobs/0", 422),
        ("/jobs/99999999999999999999", 422),
        ("/jobs/12345", 404),
        ("/jobs?status=BOGUS", 422),
        ("/jobs?limit=0", 422),
        ("/jobs/12345/result", 404),
    ],
)
def test_bad_reads_get_a_4xx_with_a_reason(client, db, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


def test_listing_filters_by_status_newest_first(client, db):
    ids = [submit(client, key=f"k{i}").json()["job_id"] for i in range(3)]
    listed = client.get("/jobs?status=PENDING&limit=2").json()
    assert [job["id"] for job in listed] == sorted(ids, reverse=True)[:2]
    assert client.get("/jobs?status=DONE").json() == []


def test_metrics_and_openapi_describe_the_service(client, db):
    submit(client)
    text = client.get("/metrics").text
    assert 'image_jobs_jobs{status="PENDING"} 1' in text
    assert "image_jobs_queue_depth 1" in text
    assert "image_jobs_processing_seconds_bucket" in text
    spec = client.get("/openapi.json").json()
    assert {"/submit", "/jobs/{job_id}", "/jobs", "/healthz", "/readyz", "/metrics"} <= set(
        spec["paths"]
    )
    assert {"202", "400", "409", "422", "503"} <= set(spec["paths"]["/submit"]["post"]["responses"])


def test_readiness_fails_while_postgres_is_down(settings, db, postgres_server):
    with TestClient(create_app(settings)) as client:
        for _ in range(100):
            if client.get("/readyz").status_code == 200:
                break
        postgres_server.process.kill()
        try:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 503
            response = submit(client, key="while-down")
            assert response.status_code == 503
            assert "retry" in response.json()["detail"]
        finally:
            postgres_server.start()
