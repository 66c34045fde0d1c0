"""The HTTP API: submit jobs, read them back, health, readiness and metrics.

A 202 from ``POST /submit`` is sent only after the job row is committed. Handing the job to
Redis is best effort: if Redis is down the job stays PENDING and the reconciler enqueues it.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

import psycopg2
from fastapi import FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from system import jobs, metrics, naive, schema
from system.constants import MAX_BODY_BYTES, MAX_KEY_LENGTH, STATES
from system.db import CONNECTION_ERRORS, Database
from system.limits import RequestLimits
from system.queue import REDIS_ERRORS, StreamQueue, connect
from system.settings import Settings

log = logging.getLogger("system.api")

MAX_JOB_ID = 2**63 - 1
StateName = Literal["PENDING", "PROCESSING", "RETRY", "DONE", "FAILED", "CANCELLED"]
assert set(StateName.__args__) == set(STATES)


class SubmitRequest(BaseModel):
    image_url: str = Field(description="http(s) URL of the image to process")


class SubmitResponse(BaseModel):
    job_id: int
    status: str = Field(description="PENDING for a new job; the current state for a repeat")
    created: bool = Field(description="false when the Idempotency-Key named an existing job")


class ErrorResponse(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed Idempotency-Key header"},
    409: {"model": ErrorResponse, "description": "Idempotency-Key reused with another URL"},
    413: {"model": ErrorResponse, "description": "Request body over the size limit"},
    431: {"model": ErrorResponse, "description": "Request headers over the size limit"},
    422: {"model": ErrorResponse, "description": "Malformed body or URL"},
    503: {"model": ErrorResponse, "description": "Database unavailable; retry with the same key"},
}


class RedisGate:
    """Skips Redis for a second after it failed, so an outage does not slow every submit."""

    def __init__(self, pause: float = 1.0) -> None:
        self.pause = pause
        self.closed_until = 0.0

    def open(self) -> bool:
        return time.monotonic() >= self.closed_until

    def failed(self) -> None:
        self.closed_until = time.monotonic() + self.pause


def create_app(settings: Settings) -> FastAPI:
    db = Database(
        settings.database_url,
        size=settings.db_pool_size,
        connect_timeout=settings.connect_timeout_seconds,
    )
    client = connect(settings.redis_url, socket_timeout=1.0)
    queue = StreamQueue(client)
    gate = RedisGate()
    ready = threading.Event()
    stop = threading.Event()
    counters = metrics.Counters()

    def prepare() -> None:
        try:
            schema.prepare(db, stop=stop)
            ready.set()
            log.info(
                "API ready (mode=%s, mutations=%s)",
                settings.mode,
                ",".join(settings.mutations) or "none",
            )
        except CONNECTION_ERRORS:
            pass  # stopping

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        threading.Thread(target=prepare, name="schema", daemon=True).start()
        yield
        stop.set()
        db.close()

    app = FastAPI(
        title="image-jobs",
        version="0.1.0",
        description="Image-processing jobs: accepted durably, processed exactly once.",
        lifespan=lifespan,
    )

    app.add_middleware(RequestLimits, limit=MAX_BODY_BYTES)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return JSONResponse({"detail": f"invalid request: {problems}"}, status_code=422)

    @app.exception_handler(psycopg2.OperationalError)
    @app.exception_handler(psycopg2.InterfaceError)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("DB connection lost, reconnecting... (%s)", str(exc).strip()[:200])
        return JSONResponse(
            {"detail": "database unavailable; retry with the same Idempotency-Key"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.post("/submit", status_code=202, response_model=SubmitResponse, responses=ERRORS)
    def submit(
        body: SubmitRequest,
        response: Response,
        idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
    ) -> SubmitResponse:
        """Accept a job. Repeating a request with the same Idempotency-Key returns the same job."""
        url = body.image_url.strip()
        problem = url_problem(url, settings.max_url_length)
        if problem:
            raise HTTPException(422, problem)
        if idempotency_key is not None:
            problem = key_problem(idempotency_key)
            if problem:
                raise HTTPException(400, problem)
        _require_ready()
        if settings.mode == "naive":
            job_id = db.execute(lambda cur: naive.insert_job(cur, url))
            created, status = True, "PENDING"
        else:
            key = None if settings.mutated("no-idempotency") else idempotency_key
            job_id, created, known_url = db.execute(lambda cur: jobs.submit(cur, url, key))
            if not created and known_url != url:
                raise HTTPException(
                    409,
                    f"Idempotency-Key {idempotency_key!r} was used for "
                    f"another image_url ({known_url!r})",
                )
            status = "PENDING"
        if created:
            counters.submitted += 1
            _hand_to_queue(job_id)
        else:
            counters.repeated += 1
            status = db.execute(lambda cur: jobs.status_of(cur, job_id))[0]
        response.headers["Location"] = f"/jobs/{job_id}"
        return SubmitResponse(job_id=job_id, status=status, created=created)

    def _hand_to_queue(job_id: int) -> None:
        if not gate.open():
            return
        try:
            if settings.mode == "naive":
                naive.push(client, job_id)
            else:
                queue.enqueue([job_id])
        except REDIS_ERRORS as exc:
            gate.failed()
            log.warning(
                "Redis connection lost: %s (job %d stays PENDING for the reconciler)", exc, job_id
            )
            if settings.mode == "naive":
                # The seed design answered an error here although the row was committed.
                raise HTTPException(503, "queue unavailable") from None

    def _require_ready() -> None:
        if not ready.is_set():
            raise HTTPException(503, "starting: database schema not ready yet")

    @app.get("/jobs/{job_id}", responses={404: {"model": ErrorResponse}, **ERRORS})
    def get_job(job_id: int = Path(ge=1, le=MAX_JOB_ID)) -> dict[str, Any]:
        """One job with its state, attempts, lease, timestamps and result reference."""
        _require_ready()
        job = db.execute(lambda cur: jobs.get(cur, job_id))
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    @app.get(
        "/jobs/{job_id}/result", responses={404: {"model": ErrorResponse}}, response_class=Response
    )
    def get_result(job_id: int = Path(ge=1, le=MAX_JOB_ID)) -> Response:
        """The job's output image (PNG), once the job is DONE."""
        _require_ready()
        data = db.execute(lambda cur: _result(cur, job_id))
        if data is None:
            raise HTTPException(404, f"job {job_id} has no result")
        return Response(bytes(data), media_type="image/png")

    @app.get("/jobs", responses=ERRORS)
    def list_jobs(
        status: StateName | None = Query(default=None),
        limit: int = Query(default=50, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """The latest jobs, newest first, optionally only those in one state."""
        _require_ready()
        return db.execute(lambda cur: jobs.listing(cur, status, limit))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorResponse}})
    def readyz() -> dict[str, str]:
        """The API can accept jobs: the schema is ready and Postgres answers."""
        if not ready.is_set() or not db.ping():
            raise HTTPException(503, "database not reachable")
        return {"status": "ready"}

    @app.get("/metrics", response_class=PlainTextResponse)
    def get_metrics() -> str:
        """Prometheus text format: jobs by state, throughput counters, queue depth, durations."""
        return metrics.render(db, client, settings, counters)

    return app


def _result(cur, job_id: int):
    cur.execute("SELECT data FROM job_results WHERE job_id = %s", (job_id,))
    row = cur.fetchone()
    return row[0] if row else None


def url_problem(url: str, max_length: int) -> str | None:
    """Why ``url`` cannot be accepted, or None."""
    if not url:
        return "image_url is empty"
    if len(url) > max_length:
        return f"image_url is {len(url)} characters long; the limit is {max_length}"
    try:
        url.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"image_url is not valid Unicode: a lone surrogate at position {exc.start}"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "image_url contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        return f"image_url {url[:100]!r} is malformed: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"image_url must be http or https, got {parts.scheme or 'no scheme'!r}"
    if "\\" in parts.netloc:
        return "image_url must not contain a backslash in its host part"
    if "@" in parts.netloc:
        return "image_url must not carry a user name or password (user@host)"
    if not parts.hostname:
        return f"image_url {url[:100]!r} has no host"
    return None


def key_problem(key: str) -> str | None:
    """Why an Idempotency-Key header cannot be used, or None."""
    if not key:
        return "Idempotency-Key is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"Idempotency-Key is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
    if not all(33 <= ord(ch) <= 126 for ch in key):
        return "Idempotency-Key must be printable ASCII without spaces"
    return None
