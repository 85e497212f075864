"""The local engine: a pool of worker processes on this machine.

Each worker process builds the pipeline once (the pool's initializer) and then codes one
input per task. At most ``2 × workers`` inputs are in flight, so memory stays constant
however large the corpus; results stream back to the driver as they finish. Workers are
started with ``forkserver`` (``spawn`` where that is missing), never ``fork``: the driver
may hold threads and loaded models. A worker that dies (killed, out of memory) fails the
inputs it held, the pool is started again, and the batch goes on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from attunement.batch.manifest import InputResult
from attunement.batch.runner import BatchJob, Coder, Item

_CODER: Coder | None = None
#: numeric libraries use one thread per worker: the workers are the parallelism
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init(job: BatchJob) -> None:
    global _CODER
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    _CODER = Coder(job)


def _code(item: Item) -> InputResult:
    assert _CODER is not None, "worker not initialized"
    return _CODER(item)


def _context() -> mp.context.BaseContext:
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_local(
    job: BatchJob, items: Sequence[Item], workers: int, on_result: Callable[[InputResult], None]
) -> None:
    pending = iter(items)
    while True:
        lost = _run_pool(job, pending, workers, on_result)
        if not lost:
            return
        for item in lost:  # the inputs a dead worker held: failed, never retried here
            on_result(
                InputResult(
                    path=item.path,
                    order=item.order,
                    error="worker process stopped unexpectedly (killed or out of memory)",
                )
            )


def _run_pool(
    job: BatchJob, items: Iterator[Item], workers: int, on_result: Callable[[InputResult], None]
) -> list[Item]:
    """Run until ``items`` is exhausted; the in-flight items if the pool broke."""
    in_flight: dict[Future[InputResult], Item] = {}
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(), initializer=_init, initargs=(job,)
    ) as pool:

        def fill() -> None:
            while len(in_flight) < 2 * workers:
                item = next(items, None)
                if item is None:
                    return
                in_flight[pool.submit(_code, item)] = item

        fill()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            lost: list[Item] = []
            for fut in finished:
                item = in_flight.pop(fut)
                try:
                    on_result(fut.result())
                except BrokenProcessPool:
                    lost.append(item)
            if lost:
                lost += list(in_flight.values())
                return lost
            fill()
    return []
