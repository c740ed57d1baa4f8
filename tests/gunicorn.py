"""The application served by gunicorn on a database of its own, for tests and benchmarks that
need real worker processes and real HTTP clients (concurrency, load)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, log_path: Path, *options: str) -> Iterator[str]:
    """Serve ``wsgi:app`` on ``database_url`` (testing profile) with gunicorn ``options``
    (e.g. ``--workers 2``) on a free loopback port; yield its base URL once ``/healthz``
    answers. The server's log goes to ``log_path``: a pipe nobody reads would fill up and
    stop the workers.

    :raises RuntimeError: when the server does not answer within a minute (with its log).
    """
    port = free_port()
    env = {**os.environ, "HARMONY_ENV": "testing", "DATABASE_URL": database_url}
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(Path(sys.executable).parent / "gunicorn"), *options,
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("gunicorn did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def server_errors(log_path: Path) -> list[str]:
    """The log lines of responses ≥ 500 and of errors the server logged."""
    return [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if '"status": 5' in line or '"level": "ERROR"' in line
    ]
