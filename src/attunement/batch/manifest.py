"""Run identity, the output folder's binding to it, and the run manifest.

A results folder holds the output of one *run identity*: attunement version, table
layout, codebook, the analyzers (name@version), the encoder, the reading options, the
coding model (name, version and SHA-256 of its files). ``run.json`` records it on the
first run; a later run into the same folder must have the same identity (it then
resumes: inputs whose ``input_id`` already has a complete part are skipped) or it is
refused, so a dataset never mixes models or parameters.

``manifest.json`` is rewritten at the end of every run: the identity, the engine, start
and end times, and one record per input — the path as given, size, SHA-256, status
(``done`` / ``failed`` / ``skipped``), a one-line error (the project's error messages
never quote input) and row counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attunement.errors import AttunementError

MANIFEST_FORMAT = "attunement.batch-manifest/1"
RUN_FILE = "run.json"
MANIFEST_FILE = "manifest.json"


@dataclass
class InputResult:
    """What happened to one input (a manifest record; never any content)."""

    path: str
    order: int
    status: str = "failed"  # done | failed | skipped
    size: int | None = None
    sha256: str | None = None
    input_id: str | None = None
    error: str | None = None
    utterances: int = 0
    episodes: int = 0
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("order")
        return out


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def input_id(content_sha256: str, meta: dict[str, Any]) -> str:
    """The key of one coded input: its bytes and the meta given for it."""
    return sha256_hex(f"{content_sha256}\n{canonical(meta)}".encode())[:16]


def model_identity(model_dir: Path | None, info: dict[str, Any] | None) -> dict[str, Any]:
    """Name, version and hashes of the coding model (``None`` dir: coding does not run)."""
    if model_dir is None:
        return {"name": None, "version": None, "sha256": None, "card_sha256": None, "id": ""}
    digest = hashlib.sha256()
    files = sorted(p for p in Path(model_dir).rglob("*") if p.is_file())
    for p in files:
        digest.update(p.relative_to(model_dir).as_posix().encode() + b"\0")
        with p.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    card = Path(model_dir) / "model.json"
    card_sha = sha256_hex(card.read_bytes()) if card.is_file() else None
    name = str((info or {}).get("name") or Path(model_dir).name)
    version = str((info or {}).get("version") or "")
    full = digest.hexdigest()
    return {
        "name": name,
        "version": version,
        "sha256": full,
        "card_sha256": card_sha,
        "id": f"{name}@{version}:{full[:12]}",
    }


def run_key(identity: dict[str, Any]) -> str:
    return sha256_hex(canonical(identity).encode())[:16]


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file (owner-only) and a
    rename: a killed process leaves the old file or the new one, never a part."""
    from attunement.report.tempfiles import clean_stale, temp_name

    folder = path.parent
    clean_stale(folder)
    tmp = folder / temp_name()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def bind_output(out: Path, identity: dict[str, Any]) -> str:
    """Create ``out`` and tie it to ``identity``; refuse a folder bound to another one."""
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise AttunementError(
            f"cannot create folder ({exc.strerror or type(exc).__name__})", where="--out"
        ) from None
    if not out.is_dir():
        raise AttunementError("not a folder", where="--out")
    key = run_key(identity)
    path = out / RUN_FILE
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            old_key = old.get("run_key") if isinstance(old, dict) else None
        except (OSError, ValueError):
            old_key = None
        if old_key != key:
            raise AttunementError(
                "holds results of another model or other parameters (see its run.json); "
                "choose a new folder",
                where="--out",
            )
        return key
    doc = {"run_key": key, "identity": identity}
    write_bytes_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
    return key


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Manifest:
    identity: dict[str, Any]
    run_key: str
    engine: str
    workers: int
    started: str = field(default_factory=_now)
    results: list[InputResult] = field(default_factory=list)

    def add(self, result: InputResult) -> None:
        self.results.append(result)

    def counts(self) -> dict[str, int]:
        out = {"done": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def document(self, finished: bool) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "run_key": self.run_key,
            "identity": self.identity,
            "engine": self.engine,
            "workers": self.workers,
            "started": self.started,
            "ended": _now() if finished else None,
            "counts": self.counts(),
            "inputs": [r.record() for r in sorted(self.results, key=lambda r: r.order)],
        }

    def write(self, out: Path, finished: bool = True) -> Path:
        path = out / MANIFEST_FILE
        text = json.dumps(self.document(finished), indent=2, ensure_ascii=False) + "\n"
        write_bytes_atomic(path, text.encode("utf-8"))
        return path
