"""Workers as real processes: correct output, retries, dead letters, hostile input."""

from __future__ import annotations

import pytest

from chaos.fixtures.images import expected_result

pytestmark = pytest.mark.integration


def test_submitted_job_is_done_with_the_expected_output(stack):
    stack.start_api()
    stack.start_worker()
    job_id = stack.submit("images/photo.jpg").json()["job_id"]
    (job,) = stack.wait_for([job_id])
    expected = expected_result("photo.jpg")
    assert job["status"] == "DONE"
    assert (job["result_sha256"], job["result_size"]) == (expected.sha256, expected.size)
    assert job["attempts"] == 1 and job["completions"] == 1
    assert stack.events(job_id) == ["claimed", "done"]


def test_transient_errors_retry_with_backoff_then_dead_letter(stack):
    stack.start_api()
    stack.start_worker(MAX_ATTEMPTS="3")
    job_id = stack.submit("status/503").json()["job_id"]
    (job,) = stack.wait_for([job_id])
    assert job["status"] == "FAILED"
    assert job["attempts"] == 3
    assert "HTTP 503" in job["last_error"]
    assert stack.events(job_id) == [
        "claimed",
        "retry",
        "requeued",
        "claimed",
        "retry",
        "requeued",
        "claimed",
        "failed",
    ]


def test_a_flaky_server_succeeds_on_a_later_attempt(stack):
    stack.start_api()
    stack.start_worker()
    job_id = stack.submit("flaky/2/small.jpg?k=flaky-test").json()["job_id"]
    (job,) = stack.wait_for([job_id])
    assert job["status"] == "DONE" and job["attempts"] == 3
    assert job["result_sha256"] == expected_result("small.jpg").sha256


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("status/404", "HTTP 404"),
        ("notimage", "not an image"),
        ("bomb.png", "decompression bomb"),
        ("huge/3", "too big"),
        ("http://169.254.169.254/latest/meta-data/", "internal address"),
        ("http://10.1.2.3/a.jpg", "internal address"),
    ],
)
def test_permanent_errors_fail_at_once_with_a_clear_error(stack, image, error):
    stack.start_api()
    stack.start_worker(MAX_DOWNLOAD_BYTES=str(2 * 1024 * 1024))
    job_id = stack.submit(image).json()["job_id"]
    (job,) = stack.wait_for([job_id])
    assert job["status"] == "FAILED"
    assert job["attempts"] == 1
    assert error in job["last_error"]


def test_a_slow_server_times_out_instead_of_holding_the_worker(stack):
    stack.start_api()
    stack.start_worker(READ_TIMEOUT_SECONDS="0.5", MAX_ATTEMPTS="2")
    slow = stack.submit("slow/5/small.jpg").json()["job_id"]
    fast = stack.submit("images/small.jpg").json()["job_id"]
    jobs = stack.wait_for([slow, fast], timeout=20)
    assert jobs[0]["status"] == "FAILED" and "timed out" in jobs[0]["last_error"]
    assert jobs[1]["status"] == "DONE"


def test_sigterm_finishes_the_current_job_and_exits_cleanly(stack):
    stack.start_api()
    worker = stack.start_worker()
    job_id = stack.submit("slow/1.5/small.jpg").json()["job_id"]
    stack.wait_for([job_id], states=("PROCESSING",))
    assert worker.terminate(timeout=30) == 0
    assert stack.job(job_id)["status"] == "DONE"
    assert "stopped: done=1" in worker.log_path.read_text()


def test_sigterm_releases_a_job_that_cannot_finish_within_the_drain(stack):
    stack.start_api()
    worker = stack.start_worker(DRAIN_SECONDS="0.5")
    job_id = stack.submit("slow/4/small.jpg").json()["job_id"]
    stack.wait_for([job_id], states=("PROCESSING",))
    assert worker.terminate(timeout=30) == 0
    job = stack.job(job_id)
    assert job["status"] == "PENDING" and job["attempts"] == 0
    stack.start_worker("worker-1")
    (job,) = stack.wait_for([job_id])
    assert job["status"] == "DONE" and job["completions"] == 1
