"""Background jobs: long work (big imports, ontology loads, exports, the re-index) runs in a job
worker outside the web request, and timed work runs there too (periodic tasks).

The queue is huey's (``SqliteHuey`` in a file under ``instance/`` on the embedded default,
``RedisHuey`` when ``JOBS_URL`` names a Redis server); it carries only a job's id. The job
itself — who asked, what for, its input file, its state, its result or its problem report —
is a row of the ``jobs`` table, so that the web workers answer ``GET /api/v1/jobs/{id}`` from
the database and nothing is lost with the queue. Live progress (phase, done/total) goes to
huey's key-value store rather than to the database: the job's own transaction may hold the
database's write lock (SQLite) for as long as it runs, and progress must not wait for it.

Rules a caller can rely on:

- A job's work is one transaction: it commits whole (state ``succeeded``, with its result) or
  writes nothing (state ``failed``, with an RFC 9457 problem report, e.g. an import's problems
  by row and column).
- A job is never silently lost: a worker that starts finds the jobs left ``running`` by a
  worker of its host that died and queues them again (once; a job that was already retried is
  marked failed with the reason), and the periodic tidy-up does the same for any host after
  ``JOBS_STALE_MINUTES``.
- Only the job's owner and administrators see it; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, get_session, utcnow, writing
from core.errors import NotFound, ServiceError
from core.models import User, enum_column, new_public_id
from core.policies import SYSTEM, Actor, is_admin, is_user
from core.text import plural

log = logging.getLogger("harmony.jobs")

MAX_ATTEMPTS = 2  # a job whose worker died twice is marked failed, not queued a third time


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED = (JobState.SUCCEEDED, JobState.FAILED)


class Job(Base):
    """One piece of long work asked for by a user (or the system), with its outcome."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, "job_state", length=16),
        default=JobState.QUEUED,
        index=True,
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The uploaded file, kept until the job has finished (the worker may be on another host).
    input: Mapped[bytes | None] = mapped_column(LargeBinary)
    phase: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    # a file the job wrote (an export) under instance/jobs/, removed by the tidy-up
    file_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


# --- what a job does ------------------------------------------------------------------------


class Progress:
    """What a running job reports: its phase and how far it is (``done`` of ``total``)."""

    def __init__(self, huey: Huey, job_id: str):
        self._huey = huey
        self._key = progress_key(job_id)
        self.phase: str | None = None
        self.done = 0
        self.total = 0

    def __call__(self, phase: str | None = None, done: int | None = None, total: int | None = None):
        if phase is not None:
            self.phase = phase
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        self._huey.put(self._key, {"phase": self.phase, "done": self.done, "total": self.total})

    def phases(self, names: list[str]) -> Callable[[str], None]:
        """A callback for work that names its phases: each one reached counts as one step."""
        self(total=len(names) + 1, done=0)

        def reached(name: str) -> None:
            self(name, names.index(name) if name in names else self.done)

        return reached


@dataclass
class JobContext:
    """What a handler gets: the job's owner as an actor, its parameters and file, progress."""

    job_id: str
    actor: Actor
    params: dict[str, Any]
    data: bytes | None
    progress: Progress
    file: Path | None = None  # a file the job wrote (an export): kept, then tidied away

    def output_path(self, suffix: str) -> Path:
        """Where the job writes its file: under ``instance/jobs/``, named after the job."""
        directory = exports_dir()
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{self.job_id}{suffix}"


Handler = Callable[[JobContext], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``func(context) -> result`` as the work of jobs of ``kind``. The handler does
    its work in the session of :func:`core.db.get_session` and commits once, at its end; it
    raises a :class:`~core.errors.ServiceError` to fail with a problem report (an exception
    with a ``report`` whose ``as_json()`` is a dict adds it to the report)."""

    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


def progress_key(job_id: str) -> str:
    return f"harmony-job-progress:{job_id}"


# --- the queue ------------------------------------------------------------------------------


def make_huey(config: dict[str, Any], instance_path: str) -> Huey:
    """The queue from the configuration: immediate (tests), Redis, or a SQLite file."""
    url = str(config.get("JOBS_URL") or "")
    if config.get("JOBS_IMMEDIATE"):
        return MemoryHuey("harmony", immediate=True, utc=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("harmony", url=url, utc=True)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"JOBS_URL must be a redis:// or sqlite:/// address, not {url!r}")
    path = url.removeprefix("sqlite:///") if url else str(Path(instance_path) / "jobs.sqlite3")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("harmony", filename=path, utc=True)


def init_app(app: Flask) -> None:
    """The app's queue, its tasks (``run_job`` and the periodic tidy-up) and the jobs pages."""
    huey = make_huey(app.config, app.instance_path)

    # A job writes (SQLite: its transactions take the write lock when they begin, so that a web
    # request committing meanwhile cannot fail it half-way; see core.db.writing).
    def run_job_task(job_id: str) -> None:
        with app.app_context(), writing():
            run_job(job_id)

    def tidy_task() -> None:
        with app.app_context(), writing():
            tidy_jobs()

    minutes = int(app.config.get("JOBS_TIDY_MINUTES", 10))
    app.extensions["harmony_jobs"] = {
        "huey": huey,
        "run_job": huey.task(name="harmony.run_job")(run_job_task),
        "tidy": huey.periodic_task(crontab(minute=f"*/{minutes}"), name="harmony.tidy_jobs")(
            tidy_task
        ),
    }


def queue() -> Huey:
    huey: Huey = current_app.extensions["harmony_jobs"]["huey"]
    return huey


def _enqueue(job_id: str) -> None:
    current_app.extensions["harmony_jobs"]["run_job"](job_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- use cases ------------------------------------------------------------------------------


def submit_job(
    actor: Actor,
    kind: str,
    title: str,
    params: dict[str, Any] | None = None,
    data: bytes | None = None,
) -> Job:
    """Record a job of ``kind`` for ``actor`` (commit), then queue it. The caller has checked
    that the actor may do the work (the handler checks again, as the owner, when it runs).
    In immediate mode (tests) the job has run when this returns."""
    if kind not in _HANDLERS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    session = get_session()
    owner = actor.id if isinstance(actor, User) else None
    job = Job(kind=kind, title=title[:300], owner_id=owner, params=params or {}, input=data)
    session.add(job)
    session.commit()
    job_id = job.id
    _enqueue(job_id)
    session.expire(job)
    return job


def run_job(job_id: str) -> None:
    """The worker's side: run the job's handler in one transaction and record its outcome.
    A job that is not queued (finished already, or taken by another worker) is left alone."""
    session = get_session()
    job = session.get(Job, job_id, populate_existing=True)
    if job is None or job.state is not JobState.QUEUED:
        log.info("job %s is not queued; skipped", job_id)
        return
    job.state = JobState.RUNNING
    job.started_at = utcnow()
    job.attempts += 1
    job.worker = worker_name()
    owner = session.get(User, job.owner_id) if job.owner_id else None
    kind, params, data = job.kind, dict(job.params or {}), job.input
    session.commit()
    progress = Progress(queue(), job_id)
    context = JobContext(
        job_id=job_id, actor=owner if owner is not None else SYSTEM, params=params,
        data=data, progress=progress,
    )  # fmt: skip
    try:
        result = _HANDLERS[kind](context)
    except Exception as exc:
        session.rollback()
        if context.file is not None:
            context.file.unlink(missing_ok=True)
        _finish(job_id, JobState.FAILED, progress, error=problem_report(exc))
        return
    _finish(job_id, JobState.SUCCEEDED, progress, result=result, file=context.file)


def _finish(
    job_id: str,
    state: JobState,
    progress: Progress,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    file: Path | None = None,
) -> None:
    session = get_session()
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        return
    job.state = state
    job.finished_at = utcnow()
    job.result = result
    job.error = error
    job.input = None
    job.file_path = str(file) if file is not None else None
    job.phase = "done" if state is JobState.SUCCEEDED else progress.phase
    job.total = progress.total or 1
    job.done = job.total if state is JobState.SUCCEEDED else progress.done
    session.commit()
    try:
        queue().get(progress_key(job_id))  # read and removed
    except Exception as exc:  # the store only mirrors the row's progress
        log.warning("job %s: progress not removed from the queue's store: %s", job_id, exc)


def problem_report(exc: BaseException) -> dict[str, Any]:
    """An RFC 9457 problem for a failed job: a service error as the request would have
    answered it (with an import's report), anything else as an error on our side (logged)."""
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {
            "type": "https://harmony-alliance.eu/problems/" + exc.slug,
            "title": exc.title,
            "status": exc.status,
            "detail": exc.detail,
        }
        if exc.errors:
            body["errors"] = exc.errors
        report = getattr(exc, "report", None)
        if report is not None and hasattr(report, "as_json"):
            body["report"] = report.as_json()
        return body
    log.error("job failed: %s", "".join(traceback.format_exception(exc)))
    return {
        "type": "https://harmony-alliance.eu/problems/job-failed",
        "title": "Job failed",
        "status": 500,
        "detail": "The job failed on our side and wrote nothing. The error has been logged.",
    }


def get_job(actor: Actor, job_id: str) -> Job:
    """The job, for its owner and administrators. :raises NotFound: for anyone else."""
    job = get_session().get(Job, job_id, populate_existing=True)
    if job is None or not may_see(actor, job):
        raise NotFound("No such job.")
    return job


def may_see(actor: Actor, job: Job) -> bool:
    if actor is SYSTEM or is_admin(actor):
        return True
    return isinstance(actor, User) and is_user(actor) and job.owner_id == actor.id


def list_jobs(actor: Actor, limit: int = 50) -> list[Job]:
    """The actor's own jobs, newest first (administrators: everyone's)."""
    statement = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if not (actor is SYSTEM or is_admin(actor)):
        if not (isinstance(actor, User) and is_user(actor)):
            return []
        statement = statement.where(Job.owner_id == actor.id)
    return list(get_session().scalars(statement))


def progress_of(job: Job) -> dict[str, Any]:
    """Done/total/phase: live from the queue's store while the job runs, else the row's."""
    if job.state is JobState.RUNNING:
        try:
            live = queue().get(progress_key(job.id), peek=True)
        except Exception:  # the store is only a view; the row stays right
            live = None
        if isinstance(live, dict):
            return {"done": live["done"], "total": live["total"], "phase": live["phase"]}
    return {"done": job.done, "total": job.total, "phase": job.phase}


# --- keeping jobs from being lost -----------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_dead(worker: str | None, host: str) -> bool:
    """A ``host:pid`` worker of this host whose process is gone (or is this very process,
    which has just started and so cannot be running the job)."""
    if not worker or ":" not in worker:
        return True
    worker_host, _, pid = worker.rpartition(":")
    if worker_host != host or not pid.isdigit():
        return False
    return int(pid) == os.getpid() or not _pid_alive(int(pid))


def recover_jobs(stale_after: dt.timedelta | None = None) -> list[str]:
    """Jobs left ``running`` by a worker that died: queued again (at most
    ``MAX_ATTEMPTS`` runs in all) or marked failed with the reason. A worker of this host is
    dead when its process is; any other host's after ``stale_after`` (None: never). Returns
    the ids of the jobs queued again. Called when a worker starts and by the tidy-up."""
    session = get_session()
    host = socket.gethostname()
    now = utcnow()
    requeued: list[str] = []
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING)):
        too_old = stale_after is not None and (job.started_at or now) < now - stale_after
        if not (_worker_dead(job.worker, host) or too_old):
            continue
        if job.attempts < MAX_ATTEMPTS:
            log.warning("job %s: worker %s died; queued again", job.id, job.worker)
            job.state = JobState.QUEUED
            requeued.append(job.id)
        else:
            log.warning("job %s: worker %s died again; marked failed", job.id, job.worker)
            job.state = JobState.FAILED
            job.finished_at = now
            job.input = None
            job.error = {
                "type": "https://harmony-alliance.eu/problems/job-lost",
                "title": "Job interrupted",
                "status": 503,
                "detail": (
                    "The job worker stopped while running this job "
                    f"({plural(job.attempts, 'attempt')}); "
                    "nothing was written. Start it again."
                ),
            }
    session.commit()
    for job_id in requeued:
        _enqueue(job_id)
    return requeued


def exports_dir() -> Path:
    return Path(current_app.instance_path) / "jobs"


def tidy_jobs() -> dict[str, int]:
    """The periodic tidy-up: recover jobs of dead workers and jobs whose queue message was
    lost, and remove the files of jobs finished more than ``JOBS_KEEP_DAYS`` ago (their rows
    stay, with the result's file link gone)."""
    stale = dt.timedelta(minutes=int(current_app.config.get("JOBS_STALE_MINUTES", 360)))
    requeued = recover_jobs(stale)
    session = get_session()
    # a job still queued that long lost its message (the queue's file was removed, Redis
    # flushed): queued again; a message it still has finds it no longer queued and is skipped
    forgotten = list(
        session.scalars(
            select(Job.id).where(Job.state == JobState.QUEUED, Job.created_at < utcnow() - stale)
        )
    )
    for job_id in forgotten:
        log.warning("job %s: queued for longer than %s; queued again", job_id, stale)
        _enqueue(job_id)
    requeued.extend(forgotten)
    cutoff = utcnow() - dt.timedelta(days=int(current_app.config.get("JOBS_KEEP_DAYS", 7)))
    purged = 0
    for job in session.scalars(
        select(Job).where(
            Job.state.in_(FINISHED), Job.finished_at < cutoff, Job.file_path.is_not(None)
        )
    ):
        try:
            Path(job.file_path or "").unlink(missing_ok=True)
        except OSError as exc:
            log.warning("job %s: file not removed: %s", job.id, exc)
        job.file_path = None
        if job.result:
            job.result = {**job.result, "expired": True}
        purged += 1
    session.commit()
    return {"requeued": len(requeued), "purged": purged}


def job_json(job: Job) -> dict[str, Any]:
    """The job resource as the API shows it."""
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job.title,
        "state": job.state.value,
        "progress": progress_of(job),
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
