"""`attune batch`: code a corpus of transcripts into Parquet tables with a run manifest.

Layers, one way: :mod:`~attunement.batch.runner` is engine-independent (the per-input job,
which reads, analyzes and writes one input's table parts); :mod:`~attunement.batch.local`
(a process pool) and :mod:`~attunement.batch.ray_` (Ray actors fed by Ray Data) only
decide where that job runs. :mod:`~attunement.batch.tables` holds the explicit Parquet
schemas, :mod:`~attunement.batch.manifest` the run identity and the manifest.

The library never imports this package; pyarrow (``attunement[batch]``) and Ray
(``attunement[ray]``) are imported only when a batch runs. See docs/batch.md.
"""
