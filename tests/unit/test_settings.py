"""Settings come from the environment, once, with clear errors and safe defaults."""

from __future__ import annotations

import pytest

from system.errors import ConfigError
from system.retry import Backoff, backoff_delay
from system.settings import Settings


def test_defaults_work_on_a_laptop():
    settings = Settings.from_env({})
    assert settings.mode == "robust" and settings.mutations == ()
    assert settings.database_url.endswith("/job_db")


def test_values_are_parsed_from_their_variables():
    settings = Settings.from_env(
        {
            "LEASE_SECONDS": "2.5",
            "ALLOWED_HOSTS": "a, b,",
            "NOOP_JOBS": "yes",
            "WORKER_CONCURRENCY": "8",
        }
    )
    assert settings.lease_seconds == 2.5
    assert settings.allowed_hosts == ("a", "b")
    assert settings.noop is True and settings.worker_concurrency == 8


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEASE_SECONDS": "soon"}, "LEASE_SECONDS='soon'"),
        ({"SYSTEM_MODE": "fast"}, "SYSTEM_MODE='fast'"),
        ({"MUTATIONS": "no-fencing"}, "ENABLE_TEST_MUTATIONS=1"),
        ({"MUTATIONS": "typo", "ENABLE_TEST_MUTATIONS": "1"}, "unknown mutation 'typo'"),
        ({"NOOP_JOBS": "maybe"}, "expected true/false"),
        ({"WORKER_CONCURRENCY": "0"}, "at least 1"),
    ],
)
def test_bad_values_name_the_variable_and_value(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_mutations_need_the_testing_flag():
    settings = Settings.from_env(
        {"MUTATIONS": "no-fencing,early-ack", "ENABLE_TEST_MUTATIONS": "true"}
    )
    assert settings.mutated("no-fencing") and settings.mutated("early-ack")
    assert not settings.mutated("no-reconciler")


def test_the_public_view_hides_the_database_password():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:secret@h:5432/job_db"})
    assert "secret" not in str(settings.public())


def test_backoff_grows_and_is_capped():
    delays = [backoff_delay(n, base=0.1, cap=2.0) for n in range(1, 12)]
    assert all(0.05 <= d <= 2.0 for d in delays)
    assert max(delays[-3:]) > max(delays[:2])
    backoff = Backoff(base=0.1, cap=2.0)
    assert [backoff.next_delay() <= 2.0 for _ in range(20)] == [True] * 20
