"""The platform on throwaway services: a PostgreSQL cluster and a Redis of its own, gunicorn and a Celery worker.

The fault tests crash and restart PostgreSQL and Redis, so they never use the machine's shared servers (other
test runs depend on them): :class:`Postgres` runs ``initdb``/``pg_ctl`` as the ``postgres`` user on a free port
with its data in a temporary directory, :class:`Redis` runs ``redis-server`` without persistence (a restart
loses every queued task, the harshest case). Missing binaries fail the test, they never skip it.

Every process is bounded by timeouts and stopped by its own id when the stack closes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bench.run import ENV as BENCH_ENV

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, psycopg.Error):
            if condition():
                return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: the fault tests need it to run a throwaway server (never skipped)")
    return path


def stop_process(process: subprocess.Popen | None, *, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Postgres:
    """A PostgreSQL cluster of its own, run as the ``postgres`` user (the tests run as root)."""

    def __init__(self, workdir: Path) -> None:
        self.initdb = require_binary("initdb")
        self.pg_ctl = require_binary("pg_ctl")
        # PostgreSQL refuses to run as root: as root (this machine's tests), run it as the postgres user.
        self.as_user = [require_binary("runuser"), "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.data = workdir / "pgdata"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/stimmen"

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run([*self.as_user, *args], timeout=timeout, capture_output=True, text=True)
        if result.returncode:
            pytest.fail(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def create(self) -> None:
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")
        self._as_postgres(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                          "--no-locale", "--no-sync")  # fmt: skip
        self.start()
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE stimmen")

    def start(self) -> None:
        # fsync off: an immediate stop (what the tests do) kills the server, not the machine, so the operating
        # system keeps every write; fsync would only slow a shared machine down.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data} -c fsync=off"
        self._as_postgres(self.pg_ctl, "-D", str(self.data), "-l", str(self.data / "server.log"), "-o", options,
                          "-w", "-t", "60", "start")  # fmt: skip

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every backend killed, no checkpoint; the next start replays the WAL."""
        self._as_postgres(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(pytest.fail.Exception, subprocess.TimeoutExpired):
            self._as_postgres(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.url, connect_timeout=5) as connection:
            return connection.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params: object) -> object:
        return self.query(sql, *params)[0][0]


class Redis:
    """``redis-server`` without persistence on a port of its own."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_binary("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=20, what="redis-server to answer")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        stop_process(self.process)


class Stack:
    """Throwaway PostgreSQL and Redis, with the platform migrated and the demo campaign seeded."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.postgres = Postgres(workdir)
        self.redis = Redis(workdir)
        self.processes: list[AppServer | Worker] = []

    def env(self, **extra: str) -> dict[str, str]:
        """Production settings (``DEBUG=0``) on the throwaway services, as ``bench/run.py`` sets them."""
        return {**os.environ, **BENCH_ENV, "DATABASE_URL": self.postgres.url, "REDIS_URL": self.redis.url, **extra}

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def up(self) -> Stack:
        self.postgres.create()
        self.redis.start()
        self.manage("migrate", "--noinput")
        self.manage("seed_demo", "--password", "faults-demo-password")
        return self

    def close(self) -> None:
        for process in reversed(self.processes):
            stop_process(process.process)
        self.redis.stop()
        self.postgres.stop()

    # --- the platform's processes ----------------------------------------------------------------------------

    def gunicorn(self, *, workers: int = 3) -> AppServer:
        server = AppServer(self, workers=workers)
        self.processes.append(server)
        return server

    def worker(self) -> Worker:
        worker = Worker(self)
        self.processes.append(worker)
        return worker

    def send_sweep(self) -> None:
        """What beat sends every five minutes: anonymise whatever is pending, in every campaign."""
        from celery import Celery

        app = Celery("faults", broker=self.redis.url)
        try:
            app.send_task("worker.tasks.anonymise_pending")
        finally:
            app.close()

    # --- what is stored ------------------------------------------------------------------------------------

    def responses(self, campaign: str) -> int:
        return int(self.postgres.scalar(
            "SELECT count(*) FROM survey_response r JOIN survey_campaign c ON c.id = r.campaign_id WHERE c.slug = %s",
            campaign,
        ))  # fmt: skip

    def anonymisation_counts(self, campaign: str) -> tuple[int, int, int]:
        """Marks, distinct responses marked, and anonymised records of the campaign."""
        marks, distinct = self.postgres.query(
            "SELECT count(*), count(DISTINCT m.response_id) FROM analysis_responseanonymisation m"
            " JOIN survey_response r ON r.id = m.response_id JOIN survey_campaign c ON c.id = r.campaign_id"
            " WHERE c.slug = %s",
            campaign,
        )[0]
        records = self.postgres.scalar(
            "SELECT count(*) FROM analysis_anonymisedresponse a JOIN survey_campaign c ON c.id = a.campaign_id"
            " WHERE c.slug = %s",
            campaign,
        )
        return int(marks), int(distinct), int(records)


class AppServer:
    """gunicorn with the product's WSGI application and gthread workers, as the Docker image runs it."""

    def __init__(self, stack: Stack, *, workers: int) -> None:
        self.port = free_port()
        self.env = stack.env()
        self.log = stack.workdir / f"gunicorn-{self.port}.log"
        self.args = [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                     "--workers", str(workers), "--worker-class", "gthread", "--threads", "4",
                     "--no-control-socket", "--log-level", "warning"]  # fmt: skip
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        with self.log.open("a") as log:
            return subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def restart(self) -> None:
        """Stop gunicorn (SIGTERM, as a deploy does) and start a new one on the same port."""
        stop_process(self.process)
        self.process = self._spawn()
        self.wait_ready()

    def wait_ready(self, *, timeout: float = 120) -> None:
        import urllib.request

        def healthy() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=30) as reply:
                return reply.status == 200

        try:
            wait_for(healthy, timeout=timeout, what="gunicorn to answer /healthz", interval=0.3)
        except pytest.fail.Exception:
            pytest.fail(f"gunicorn did not answer /healthz within {timeout:.0f} s; its log:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class Worker:
    """``celery -A worker worker`` (solo pool) on the default queue of the throwaway Redis."""

    def __init__(self, stack: Stack) -> None:
        self.log = stack.workdir / "worker.log"
        args = [str(BIN / "celery"), "-A", "worker", "worker", "--pool=solo", "--concurrency=1",
                "--without-gossip", "--without-mingle", "--loglevel=INFO"]  # fmt: skip
        with self.log.open("a") as log:
            self.process = subprocess.Popen(args, cwd=ROOT, env=stack.env(), stdout=log, stderr=subprocess.STDOUT)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def throwaway_stack() -> Iterator[Stack]:
    """A migrated, seeded stack in a temporary directory the ``postgres`` user owns; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="stimmen-faults-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    stack = Stack(workdir)
    try:
        yield stack.up()
    finally:
        stack.close()
        if os.environ.get("STIMMEN_KEEP_FAULT_LOGS") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
