"""The Ray engine: the same per-input job on a Ray cluster.

Ray Data carries the flow: the inputs become a dataset of small rows (order, path,
meta); ``map_batches`` hands them to a pool of ``workers`` actors, each holding one
:class:`~attunement.batch.runner.Coder` (the model loaded once per actor), which write
the same part files as the local engine; the results stream back to the driver
(``iter_rows``) as the actors finish, with Ray Data's back-pressure keeping memory flat.

``address=None`` starts a local Ray for the run (``num_cpus=workers``, no dashboard)
and stops it at the end; an address joins a running cluster, whose workers must see the
input files and the ``--out`` folder at the same paths (a shared file system). Ray is
imported only here, only when this engine runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from attunement.batch.manifest import InputResult
from attunement.batch.runner import BatchJob, Coder, Engine, Item
from attunement.errors import AttunementError, missing_extra


def _coder_class(job: BatchJob) -> type:
    """The callable class Ray Data instantiates once per actor (the job travels with the
    class, so no constructor arguments wait in the object store)."""

    class RayCoder:
        def __init__(self) -> None:
            self.coder = Coder(job)

        def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
            out = []
            rows = zip(batch["order"], batch["path"], batch["meta"], strict=True)
            for order, path, meta in rows:
                res = self.coder(Item(int(order), str(path), json.loads(str(meta))))
                out.append(json.dumps(res.__dict__))
            return {"result": out}

    return RayCoder


def ray_engine(address: str | None) -> Engine:
    def run(
        job: BatchJob,
        items: Sequence[Item],
        workers: int,
        on_result: Callable[[InputResult], None],
    ) -> None:
        run_ray(job, items, workers, on_result, address)

    return run


def run_ray(
    job: BatchJob,
    items: Sequence[Item],
    workers: int,
    on_result: Callable[[InputResult], None],
    address: str | None = None,
) -> None:
    try:
        import ray  # type: ignore[import-not-found,unused-ignore]
        import ray.data  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise missing_extra("ray[data]", "ray") from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
        }
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise AttunementError(
                f"cannot start or join Ray ({type(exc).__name__})", where="--address"
            ) from None
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.verbose_stats_logs = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        rows = [{"order": i.order, "path": i.path, "meta": json.dumps(i.meta)} for i in items]
        ds = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 1000)))
        coded = ds.map_batches(
            _coder_class(job),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        for row in coded.iter_rows():
            on_result(InputResult(**json.loads(row["result"])))
    finally:
        if started:
            ray.shutdown()
