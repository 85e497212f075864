"""Longer OpenAPI fuzzing of the clinic's JSON API (schemathesis), on SQLite and PostgreSQL.

    python benchmarks/api_fuzz.py --examples 200 --json benchmarks/results/api_fuzz.json

The same requests and checks as ``tests/web/test_api_schemathesis.py`` (which runs a few
examples per operation in the normal suite), with many more examples: every operation of
``/api/openapi.json``, valid and invalid requests, signed in as a therapist (and again
with the ids pointed at her own objects) and anonymously. Reported per backend: the
operations, requests sent, operations that hit a 5xx (must be none), responses that do
not match their documented schema or content type, and the operations whose requests
reached a real object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "web"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def run(kind: str, work: Path) -> dict[str, Any]:
    import test_api_schemathesis as fz
    from clinic_helpers import build_world

    from attunement.store.worker import default_pipeline

    built = default_pipeline("fast")
    name = ""
    if kind == "sqlite":
        url = f"sqlite:///{work / 'fuzz.db'}"
    else:
        name = f"attunement_fuzz_{secrets.token_hex(4)}"
        _pg(f"CREATE DATABASE {name}")
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        world = build_world(url, work / f"{kind}.key", lambda: built)
        t0 = time.perf_counter()
        signed = fz.fuzz_signed_in(world, fz.load_schema(world.app))
        anonymous = fz.fuzz_anonymous(world, fz.load_schema(world.app))
        seconds = time.perf_counter() - t0
        world.store.close()
    finally:
        if name:
            _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return {
        "operations": len(signed.operations),
        "requests": signed.requests + anonymous.requests,
        "seconds": round(seconds, 1),
        "server_errors": signed.server_errors
        + [f"anonymous: {e}" for e in anonymous.server_errors],
        "conformance": [f"{k} — {v}" for k, v in sorted(signed.conformance.items())],
        "reached_real_objects": sorted(signed.reached),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--examples", type=int, default=200, help="per operation and mode")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    os.environ["ATTUNEMENT_FUZZ_EXAMPLES"] = str(args.examples)  # read by the test module
    from attunement.web import security

    security.set_hash_cost(1, 8192, 1)  # sign-in is not what is fuzzed
    doc: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python benchmarks/api_fuzz.py " + " ".join(argv or sys.argv[1:]),
        "examples_per_operation_and_mode": args.examples,
        "backends": {},
    }
    for kind in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="attunement-fuzz-") as tmp:
            r = run(kind, Path(tmp))
        doc["backends"][kind] = r
        print(
            f"[{kind}] {r['operations']} operations, {r['requests']} requests in "
            f"{r['seconds']} s: {len(r['server_errors'])} with a 5xx, "
            f"{len(r['conformance'])} schema/content-type mismatches",
            flush=True,
        )
        for line in r["server_errors"] + r["conformance"]:
            print(f"  {line}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    failed = any(b["server_errors"] for b in doc["backends"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
