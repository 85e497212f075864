"""Crash safety: ``attune serve`` killed with SIGKILL mid-upload or mid-analysis loses no
committed data and leaves no half-written record; a killed job is queued again and
completes, or is failed after three attempts.

The real server runs as a subprocess (``attune serve``, one process, its worker thread
on) on a temporary SQLite database or a throwaway PostgreSQL database. After each kill
the database is opened by this test process and checked: row counts, no session without
its transcript, no result without ``done`` (and every stored result decrypts and parses
as the library's session JSON), the audit chain verifies; then the server is started
again on the same database and the committed sessions are read back through the API.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from clinic_helpers import PASSWORD, TRANSCRIPT, add_user

from attunement.model import Session
from attunement.store import audit
from attunement.store.db import Store
from attunement.store.tables import Job, TherapySession

ATTUNE = Path(sys.executable).with_name("attune")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
START_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def big_transcript(turns: int = 20_000) -> bytes:
    """A long (~1.5 MB) transcript: the fast pipeline needs a few seconds for it."""
    lines = []
    for i in range(turns // 2):
        lines.append(f"Therapist: How did week {i} go, and what felt hardest about it?")
        lines.append(f"Client: I don't know, item {i} was rough. You never listen to me.")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Server:
    """``attune serve`` as a child process on one database; start, sign in, kill."""

    url: str
    key_file: Path
    home: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    http: httpx.Client | None = None
    csrf: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tmpdir(self) -> Path:
        return self.home / "tmp"

    def start(self) -> None:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("ATTUNEMENT_KEY", None)
        env.pop("DATABASE_URL", None)
        env |= {
            "TMPDIR": str(self.tmpdir),  # anything spooled to disk would show up here
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
        }
        argv = [str(ATTUNE), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--database-url", self.url, "--key-file", str(self.key_file), "--fast"]
        log = (self.home / "server.log").open("ab")
        self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_S
        while True:
            assert self.proc.poll() is None, (self.home / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        self.http = httpx.Client(base_url=self.base, timeout=30)
        page = self.http.get("/login").text
        r = self.http.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": _csrf(page)},
        )
        assert r.status_code == 303, r.status_code
        self.csrf = self.http.get("/api/me").json()["csrf_token"]

    def kill(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.kill()

    def api(self, path: str) -> Any:
        assert self.http is not None
        r = self.http.get(path)
        assert r.status_code == 200, (path, r.status_code)
        return r.json()

    def new_client(self) -> int:
        assert self.http is not None
        r = self.http.post(
            "/api/clients", json={"pseudonym": "Crash client"}, headers={"X-CSRF-Token": self.csrf}
        )
        assert r.status_code == 201, r.status_code
        return int(r.json()["id"])

    def upload(self, client_id: int, data: bytes, number: int) -> int:
        assert self.http is not None
        r = self.http.post(
            f"/clients/{client_id}/sessions",
            data={"csrf_token": self.csrf, "number": str(number)},
            files={"transcript": ("session.txt", data, "text/plain")},
        )
        assert r.status_code == 303, r.status_code
        return int(r.headers["location"].rsplit("/", 1)[1])


def _csrf(html: str) -> str:
    m = CSRF.search(html)
    assert m
    return m.group(1)


@pytest.fixture
def server(backend: str, tmp_path: Path) -> Iterator[Server]:
    key = tmp_path / "k.key"
    store = Store.open(backend, key)
    add_user(store, "alice", "therapist")
    store.close()
    s = Server(url=backend, key_file=key, home=tmp_path)
    try:
        yield s
    finally:
        s.stop()


def _job_of(store: Store, session_id: int) -> Job:
    with store.tx() as db:
        job = db.scalars(sa.select(Job).where(Job.session_id == session_id)).one()
        db.expunge(job)
        return job


def wait_for(server: Server, session_id: int, states: tuple[str, ...], seconds: float) -> Job:
    store = Store.open(server.url, server.key_file, upgrade=False)
    try:
        deadline = time.monotonic() + seconds
        while True:
            job = _job_of(store, session_id)
            if job.status in states:
                return job
            assert time.monotonic() < deadline, f"job stayed {job.status}"
            time.sleep(0.02)
    finally:
        store.close()


def check_database(server: Server) -> dict[str, Any]:
    """What a crash must never leave: a session without its transcript, a job that is not
    in a known state, a result on a job that is not done, a result that does not decrypt
    and parse, a broken audit chain. Returns the counts and job states."""
    store = Store.open(server.url, server.key_file)
    try:
        with store.tx() as db:
            if db.get_bind().dialect.name == "sqlite":
                assert db.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            sessions = db.scalars(sa.select(TherapySession)).all()
            states: dict[int, str] = {}
            for s in sessions:
                assert s.transcript_enc is not None and s.filename_enc is not None
                job = db.scalars(sa.select(Job).where(Job.session_id == s.id)).one()
                assert job.status in ("queued", "running", "done", "failed")
                states[s.id] = job.status
                if job.status != "done":
                    assert s.result_enc is None and s.summary_enc is None
                    continue
                assert s.result_enc is not None and s.summary_enc is not None
                text = store.keys.decrypt_text(s.result_enc, "therapy_sessions.result")
                parsed = Session.model_validate_json(text)
                assert len(parsed.utterances) > 0
            jobs = db.scalar(sa.select(sa.func.count()).select_from(Job))
            check = audit.verify(db)
            assert check.ok, check.problem
        return {"sessions": len(sessions), "jobs": jobs, "states": states}
    finally:
        store.close()


def test_kill_during_upload_keeps_committed_data(server: Server) -> None:
    server.start()
    client_id = server.new_client()
    committed = server.upload(client_id, TRANSCRIPT.encode(), 1)
    assert wait_for(server, committed, ("done", "failed"), 30).status == "done"
    before = check_database(server)
    assert before["sessions"] == 1 and before["states"] == {committed: "done"}

    # a 6 MB multipart upload, sent slowly: the server is killed after the first 2 MB
    boundary = "----crashtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f'{server.csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name="number"'
        f'\r\n\r\n2\r\n--{boundary}\r\nContent-Disposition: form-data; name="transcript"; '
        f'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
    ).encode()
    payload = (big_transcript(80_000) * 2)[: 6 * 1024 * 1024]
    tail = f"\r\n--{boundary}--\r\n".encode()
    cookie = "; ".join(f"{k}={v}" for k, v in server.http.cookies.items())  # type: ignore[union-attr]
    request = (
        f"POST /clients/{client_id}/sessions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + len(payload) + len(tail)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request + head)
        sent = 0
        while sent < 2 * 1024 * 1024:
            sock.sendall(payload[sent : sent + 64 * 1024])
            sent += 64 * 1024
            time.sleep(0.01)
        time.sleep(0.5)  # the server has read (and spooled) what was sent
        server.kill()

    after = check_database(server)
    assert after == before  # no session, no job for the cut-off upload
    leftovers = [p.name for p in server.tmpdir.iterdir()]
    assert leftovers == [], leftovers  # no spooled upload left on disk

    server.start()
    sessions = server.api(f"/api/clients/{client_id}/sessions")
    assert [s["id"] for s in sessions] == [committed]
    analysis = server.api(f"/api/sessions/{committed}/analysis")
    assert Session.model_validate(analysis).utterances
    assert server.http is not None
    assert server.http.get(f"/sessions/{committed}").status_code == 200
    server.stop()
    assert check_database(server)["sessions"] == 1


def test_kill_during_analysis_requeues_and_completes(server: Server) -> None:
    server.start()
    client_id = server.new_client()
    committed = server.upload(client_id, TRANSCRIPT.encode(), 1)
    assert wait_for(server, committed, ("done", "failed"), 30).status == "done"
    big = server.upload(client_id, big_transcript(), 2)
    running = wait_for(server, big, ("running", "done", "failed"), 30)
    assert running.status == "running", "the job finished before it could be interrupted"
    server.kill()

    state = check_database(server)
    assert state["states"] == {committed: "done", big: "running"}  # and no result stored
    assert _job_attempts(server, big) == 1

    server.start()  # the worker requeues the job and runs it to the end
    job = wait_for(server, big, ("done", "failed"), 45)
    assert (job.status, job.attempts) == ("done", 2)
    state = check_database(server)  # the result decrypts and parses
    assert state["states"] == {committed: "done", big: "done"}
    analysis = server.api(f"/api/sessions/{big}/analysis")
    assert len(Session.model_validate(analysis).utterances) == 20_000


def test_job_killed_three_times_is_failed(server: Server) -> None:
    server.start()
    client_id = server.new_client()
    big = server.upload(client_id, big_transcript(), 1)
    for attempt in (1, 2, 3):
        job = wait_for(server, big, ("running", "done", "failed"), 45)
        assert (job.status, job.attempts) == ("running", attempt)
        server.kill()
        assert check_database(server)["states"] == {big: "running"}
        server.start()
    job = wait_for(server, big, ("done", "failed"), 10)
    assert (job.status, job.error) == ("failed", "stopped too often")
    state = check_database(server)
    assert state["states"] == {big: "failed"}
    session = server.api(f"/api/sessions/{big}")
    assert session["status"] == "failed"
    assert server.http is not None
    assert server.http.get(f"/api/sessions/{big}/analysis").status_code == 404


def _job_attempts(server: Server, session_id: int) -> int:
    store = Store.open(server.url, server.key_file, upgrade=False)
    try:
        return _job_of(store, session_id).attempts
    finally:
        store.close()
