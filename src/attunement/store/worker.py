"""The analysis worker: a thread in the app's process (or, later, a process of its own)
that takes queued jobs and runs the library's pipeline on them.

The transcript is read with :func:`attunement.io.read_session_bytes` and analyzed by the
pipeline of :mod:`attunement.analysis.pipeline` (built once, as ``attune analyze`` does),
one analyzer at a time so that progress can be shown. The app stores the resulting
session JSON and a small summary for the caseload; it computes nothing itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from attunement.errors import AttunementError
from attunement.store import jobs

if TYPE_CHECKING:
    from attunement.analysis.base import Analyzer
    from attunement.model import Session
    from attunement.store.db import Store

log = logging.getLogger(__name__)

#: episode resolutions that still need the clinician (see ``attunement.model.episode``)
OPEN_RESOLUTIONS = ("unresolved", "not_addressed")


def summarize(session: Session) -> dict[str, Any]:
    """What the caseload needs to order clients by attention, read off the session."""
    from attunement.report.view import moments

    found = moments(session)
    return {
        "episodes": len(session.episodes),
        "open_episodes": sum(e.resolution in OPEN_RESOLUTIONS for e in session.episodes),
        "flags": sorted({f for e in session.episodes for f in e.flags}),
        "markers": sum(m.kind == "marker" for m in found),
        "repairs": sum(m.kind == "repair" for m in found),
        "utterances": len(session.utterances),
    }


def default_pipeline(model: str = "default") -> list[Analyzer]:
    from attunement.analysis.base import PipelineContext
    from attunement.analysis.pipeline import available, build_pipeline

    model_dir = None
    if model == "fast":
        from attunement.coding.card import fast_model_dir

        model_dir = fast_model_dir()
    return build_pipeline(available(), PipelineContext(model_dir=model_dir))


class Worker:
    """``run_once()`` processes one job (tests call it directly); ``start()`` loops in a
    daemon thread until ``stop()``."""

    def __init__(
        self,
        store: Store,
        pipeline: Callable[[], Sequence[Analyzer]],
        poll_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self._make_pipeline = pipeline
        self._pipeline: Sequence[Analyzer] | None = None
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def pipeline(self) -> Sequence[Analyzer]:
        if self._pipeline is None:
            self._pipeline = self._make_pipeline()
        return self._pipeline

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int | None:
        with self.store.tx() as db:
            job_id = jobs.claim(db)
        if job_id is None:
            return None
        try:
            self._run(job_id)
        except AttunementError as exc:
            with self.store.tx() as db:
                jobs.fail(db, job_id, str(exc))
        except Exception as exc:  # a bug: keep the worker alive, record no content
            log.error("analysis job %d: internal error (%s)", job_id, type(exc).__name__)
            with self.store.tx() as db:
                jobs.fail(db, job_id, f"internal error ({type(exc).__name__})")
        return job_id

    def _run(self, job_id: int) -> None:
        from attunement.io import read_session_bytes

        keys = self.store.keys
        with self.store.tx() as db:
            data, filename, meta = jobs.transcript(db, keys, job_id)
        session = read_session_bytes(data, filename)
        session.meta = session.meta.model_copy(update=meta)
        pipeline = self.pipeline()
        for i, analyzer in enumerate(pipeline):
            with self.store.tx() as db:
                jobs.progress(db, job_id, 5 + 90 * i // len(pipeline), analyzer.name)
            session = analyzer(session)
        result = session.model_dump_json()
        with self.store.tx() as db:
            jobs.finish(db, keys, job_id, result, summarize(session))
            # the clinic's / client's retention level, in the same transaction
            from attunement.store.retention import apply_to_job

            apply_to_job(db, keys, job_id)

    def drain(self) -> int:
        n = 0
        while self.run_once() is not None:
            n += 1
        return n

    def start(self) -> None:
        with self.store.tx() as db:
            jobs.recover(db)
        self._thread = threading.Thread(target=self._loop, name="attunement-worker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() is not None:
                    continue
            except Exception as exc:  # database briefly unavailable: wait and retry
                log.error("worker: %s", type(exc).__name__)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
