"""Load benchmark: the clinic app (``attune serve``) under 50 concurrent users (issue 9).

    python benchmarks/app_load.py --json benchmarks/results/app_load.json
    python benchmarks/render_docs.py          # the table in docs/benchmarks.md

Per backend (SQLite, then the local PostgreSQL at 127.0.0.1:5432):

1. **Clinic.** A fictional clinic is built: ``--therapists`` therapists with ``--clients``
   clients each and ``--sessions`` sessions per client (transcripts of ~160 turns put
   together from the demo clinic's fictional sessions), a PHQ-9 and an alliance check
   answered after each session, a safety alert on every tenth client. Every session is
   analyzed: each distinct transcript once by the real pipeline (fast model), the other
   sessions with the same transcript get that analysis with their own session facts
   (client, number, date) — checked, on the first repeats, to equal what the pipeline
   itself returns for them.
2. **Server.** ``attune serve --no-worker --fast`` as a child process (one process, as
   the app runs in production; the analysis worker off during the load) on loopback.
3. **Load.** A separate process (asyncio + httpx) signs in ``--users`` browser sessions
   through the real ``/login`` form (users spread over the therapists), then, per page,
   drives it with all users at once: ``--seconds`` *paced* (each user waits an
   exponential think time of mean ``--think`` s between requests: the target
   measurement) and ``--saturation-seconds`` *saturated* (no think time: capacity).
   Pages: the caseload ``/``, a session review ``/sessions/{id}`` (the user's own
   sessions in turn), and as a baseline ``/static/app.css`` under the same load. A
   response is an error unless it is 200 and holds the page's heading.

Reported per backend, page and mode: requests, errors, p50/p95/p99/max latency (client
side, request sent to body read), requests per second, server CPU per request (from
``/proc``), and the load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PASSWORD = "a long benchmark password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_P95_MS = 150.0
#: a page's response counts only with this text in it
MARKERS = {"caseload": "<h1>Caseload</h1>", "review": 'id="transcript"', "static": "body"}


# --- the clinic -----------------------------------------------------------------------


def transcripts(n: int, turns: int = 160) -> list[bytes]:
    """``n`` different transcripts of about ``turns`` turns from the demo's sessions."""
    from attunement.web.demo import load_description

    lines = [
        line.strip()
        for c in load_description()["clients"]
        for s in c["sessions"]
        for line in s["text"].strip().splitlines()
        if line.strip()
    ]
    out = []
    for k in range(n):
        rng = random.Random(k)
        picked = [lines[(k * 7 + i) % len(lines)] for i in range(turns)]
        rng.shuffle(picked)  # roles alternate less neatly than in a real session: fine here
        out.append(("\n".join(picked) + "\n").encode())
    return out


def build_clinic(url: str, key: Path, args: argparse.Namespace) -> dict[str, Any]:
    from attunement.store import checks, repo
    from attunement.store.db import Store
    from attunement.web import security
    from attunement.web.demo import item_answers

    security.set_hash_cost(1, 8192, 1)  # sign-in is not what is measured
    texts = transcripts(args.variants)
    instruments = checks.instruments()
    store = Store.open(url, key)
    users: dict[str, list[int]] = {}  # therapist -> session ids
    t0 = time.perf_counter()
    try:
        with store.tx() as db:
            for t in range(args.therapists):
                name = f"therapist{t:02d}"
                user = repo.create_user(db, name, "therapist", security.hash_password(PASSWORD))
                users[name] = []
                for c in range(args.clients):
                    n = t * args.clients + c
                    client = repo.create_client(
                        db,
                        store.keys,
                        therapist_id=user.id,
                        pseudonym=f"Client {t:02d}-{c:02d}",
                        start_date=dt.date(2026, 1, 5) + dt.timedelta(days=n % 60),
                        fragile=n % 7 == 0,
                        history_neglect_or_abuse=n % 9 == 0,
                        sensitivity=("low", "normal", "high")[n % 3],
                    )
                    for s in range(1, args.sessions + 1):
                        date = dt.date(2026, 1, 5) + dt.timedelta(days=7 * s + n % 60)
                        sid, _job = repo.add_session(
                            db,
                            store.keys,
                            client_id=client.id,
                            uploaded_by=user.id,
                            filename=f"session-{s}.txt",
                            data=texts[(n + s) % len(texts)],
                            number=s,
                            date=date,
                        )
                        users[name].append(sid)
                        for inst, total in (("phq9", 14 - s + n % 5), ("alliance_check", 6)):
                            risk = inst == "phq9" and n % 10 == 0 and s == args.sessions
                            checks.add_response(
                                db,
                                store.keys,
                                client_id=client.id,
                                instrument=instruments[inst],
                                session_number=s,
                                date=date,
                                answers=item_answers(
                                    instruments[inst], max(total, 1), risk_item=risk
                                ),
                            )
        built = time.perf_counter() - t0
        analyzed = analyze_all(store)
    finally:
        store.close()
    return {
        "users": users,
        "therapists": args.therapists,
        "clients": args.therapists * args.clients,
        "sessions": sum(len(v) for v in users.values()),
        "distinct_transcripts": len(texts),
        "turns_per_transcript": 160,
        "store_s": round(built, 1),
        **analyzed,
    }


def analyze_all(store: Any) -> dict[str, Any]:
    """Every queued job to ``done``: the pipeline once per distinct transcript; repeats
    take that analysis with their own facts, checked against the pipeline on the first
    repeats (``verified``)."""
    from attunement.io import read_session_bytes
    from attunement.store import jobs
    from attunement.store.worker import default_pipeline, summarize

    pipeline = default_pipeline("fast")
    cache: dict[bytes, Any] = {}
    verified = ran = done = 0
    t0 = time.perf_counter()
    while True:
        with store.tx() as db:
            job_id = jobs.claim(db)
            if job_id is None:
                break
            data, filename, meta = jobs.transcript(db, store.keys, job_id)
        fresh = read_session_bytes(data, filename)
        fresh.meta = fresh.meta.model_copy(update=meta)
        base = cache.get(data)
        session = None
        if base is not None:
            # the facts that differ between sessions: the file name and the session meta
            session = base.model_copy(update={"meta": fresh.meta, "source": fresh.source})
        if base is None or verified < 3:
            real = fresh
            for analyzer in pipeline:
                real = analyzer(real)
            ran += 1
            if session is not None:
                same = _comparable(session) == _comparable(real)
                assert same, "a repeated transcript analyzed differently: cannot reuse"
                verified += 1
            cache.setdefault(data, real)
            session = real
        assert session is not None
        with store.tx() as db:
            jobs.finish(db, store.keys, job_id, session.model_dump_json(), summarize(session))
        done += 1
    return {
        "analyzed": done,
        "pipeline_runs": ran,
        "reuse_verified": verified,
        "analysis_s": round(time.perf_counter() - t0, 1),
    }


def _comparable(session: Any) -> str:
    data = session.model_dump(mode="json")
    data.pop("provenance", None)  # when and with which versions: not the analysis
    return json.dumps(data, sort_keys=True)


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, key: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    import httpx

    env = {k: v for k, v in os.environ.items() if k not in ("ATTUNEMENT_KEY", "DATABASE_URL")}
    attune = Path(sys.executable).with_name("attune")
    argv = [str(attune), "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--database-url", url, "--key-file", str(key), "--fast", "--no-worker"]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError("the server stopped: " + log.read_text()[-1000:])
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not start")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load (a separate process) ----------------------------------------------------


def percentile(sorted_ms: list[float], q: float) -> float | None:
    if not sorted_ms:
        return None
    i = min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms) + 0.5) - 1))
    return round(sorted_ms[i], 1)


async def _sign_in(client: Any, username: str) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text)
    assert token, "no CSRF field on /login"
    r = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    if r.status_code != 303 or r.headers.get("location") != "/":
        raise RuntimeError(f"sign-in failed for {username}: {r.status_code}")


async def _drive(
    base: str, plan: dict[str, Any], pid: int, conn: Any
) -> None:  # pragma: no cover - runs in the load process
    import httpx

    users: dict[str, list[int]] = plan["users"]
    names = sorted(users)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base, timeout=60, limits=limits, follow_redirects=False)
        for _ in range(plan["n_users"])
    ]
    owner = [names[i % len(names)] for i in range(len(clients))]
    gate = asyncio.Semaphore(4)

    async def sign(i: int) -> None:
        async with gate:
            await _sign_in(clients[i], owner[i])

    await asyncio.gather(*(sign(i) for i in range(len(clients))))
    paths: dict[str, Callable[[int, int], str]] = {
        "caseload": lambda _i, _n: "/",
        "review": lambda i, n: f"/sessions/{users[owner[i]][(n * 7 + i) % len(users[owner[i]])]}",
        "static": lambda _i, _n: "/static/app.css",
    }
    results: dict[str, Any] = {}
    for page in plan["pages"]:
        path = paths[page]
        # warm-up, not counted: templates compiled, course caches filled
        await asyncio.gather(
            *(get(clients[i], path(i, 0)) for i in range(len(clients))), return_exceptions=True
        )
        results[page] = {}
        for mode, seconds, think in (
            ("paced", plan["seconds"], plan["think"]),
            ("saturated", plan["saturation_seconds"], 0.0),
        ):
            if seconds <= 0:
                continue
            results[page][mode] = await _phase(clients, page, path, seconds, think, pid)
    for c in clients:
        await c.aclose()
    conn.send(results)


async def get(client: Any, path: str) -> tuple[Any, int]:
    """GET, retried once when the server closed an idle keep-alive connection just as the
    request went out (uvicorn closes them after 5 s; browsers retry these too)."""
    import httpx

    try:
        return await client.get(path), 0
    except httpx.RemoteProtocolError:
        return await client.get(path), 1


async def _phase(
    clients: list[Any],
    page: str,
    path: Callable[[int, int], str],
    seconds: float,
    think: float,
    pid: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    retries = 0
    marker = MARKERS[page]
    load_before = os.getloadavg()[0]
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    end = t0 + seconds

    async def user(i: int) -> None:
        nonlocal retries
        rng = random.Random(i)
        n = 0
        if think:
            await asyncio.sleep(rng.uniform(0, think))  # users do not start in step
        while time.perf_counter() < end:
            n += 1
            start = time.perf_counter()
            try:
                r, retried = await get(clients[i], path(i, n))
                retries += retried
                ok = r.status_code == 200 and marker in r.text
                kind = "" if ok else f"status {r.status_code}"
            except Exception as exc:  # a refused or reset connection is an error too
                kind = type(exc).__name__
            latencies.append((time.perf_counter() - start) * 1000)
            if kind:
                errors[kind] = errors.get(kind, 0) + 1
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))

    await asyncio.gather(*(user(i) for i in range(len(clients))))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    ms = sorted(latencies)
    return {
        "seconds": round(wall, 1),
        "think_s": think,
        "requests": len(ms),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "keepalive_retries": retries,
        "rps": round(len(ms) / wall, 1),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": round(ms[-1], 1) if ms else None,
        "server_cpu_ms_per_request": round(1000 * cpu / len(ms), 1) if ms else None,
        "server_cpu_share": round(cpu / wall, 2),
        "load_avg_before": round(load_before, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
    }


def load_process(base: str, plan: dict[str, Any], pid: int, conn: Any) -> None:
    asyncio.run(_drive(base, plan, pid, conn))


# --- one backend ----------------------------------------------------------------------


def pg_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def run_backend(kind: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = work / kind
    folder.mkdir()
    key = folder / "bench.key"
    dbname = ""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.db'}"
    else:
        dbname = f"attunement_bench_{secrets.token_hex(4)}"
        pg_exec(f"CREATE DATABASE {dbname}")
        url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    try:
        print(f"[{kind}] building the clinic…", flush=True)
        clinic = build_clinic(url, key, args)
        print(
            f"[{kind}] {clinic['sessions']} sessions stored in {clinic['store_s']} s, "
            f"analyzed in {clinic['analysis_s']} s ({clinic['pipeline_runs']} pipeline runs)",
            flush=True,
        )
        port = free_port()
        server = start_server(url, key, port, folder / "server.log")
        try:
            plan = {
                "users": clinic.pop("users"),
                "n_users": args.users,
                "pages": args.pages.split(","),
                "seconds": args.seconds,
                "saturation_seconds": args.saturation_seconds,
                "think": args.think,
            }
            ctx = mp.get_context("spawn")
            here, there = ctx.Pipe()
            proc = ctx.Process(
                target=load_process, args=(f"http://127.0.0.1:{port}", plan, server.pid, there)
            )
            proc.start()
            timeout = 120 + len(plan["pages"]) * (args.seconds + args.saturation_seconds + 60)
            deadline = time.monotonic() + timeout
            while not here.poll(1):
                if not proc.is_alive() or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError("the load process failed or did not finish")
            pages = here.recv()
            proc.join(timeout=30)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        for page, modes in pages.items():
            for mode, r in modes.items():
                print(
                    f"[{kind}] {page:<9} {mode:<9} {r['requests']:>6} req  {r['errors']} err  "
                    f"{r['rps']:>6} req/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
                    f"p99 {r['p99_ms']} ms  (load {r['load_avg_before']}→{r['load_avg_after']}) "
                    f"{r['error_kinds'] or ''}",
                    flush=True,
                )
        return {"clinic": clinic, "pages": pages}
    finally:
        if dbname:
            pg_exec(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pages", default="caseload,review,static")
    ap.add_argument("--users", type=int, default=50, help="concurrent signed-in sessions")
    ap.add_argument("--therapists", type=int, default=10)
    ap.add_argument("--clients", type=int, default=25, help="clients per therapist")
    ap.add_argument("--sessions", type=int, default=8, help="sessions per client")
    ap.add_argument("--variants", type=int, default=24, help="distinct transcripts")
    ap.add_argument("--seconds", type=float, default=30.0, help="paced phase per page")
    ap.add_argument("--saturation-seconds", type=float, default=10.0)
    ap.add_argument("--think", type=float, default=1.0, help="mean think time (s), paced")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="attunement-load-"))
    doc: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python benchmarks/app_load.py " + " ".join(argv or sys.argv[1:]),
        "target_p95_ms": TARGET_P95_MS,
        "config": {
            k: getattr(args, k)
            for k in ("users", "therapists", "clients", "sessions", "seconds", "think")
        }
        | {"saturation_seconds": args.saturation_seconds},
        "backends": {},
    }
    try:
        for kind in args.backends.split(","):
            doc["backends"][kind] = run_backend(kind, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
