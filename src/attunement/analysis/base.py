"""The analyzer interface.

Like a spaCy component or a ConvoKit transformer: the constructor only stores its
parameters; ``__call__(session)`` adds what the analyzer finds and returns the same
session; ``pipe`` streams. An analyzer never reads files and never writes reports.

Where results go (fixed, so writers can find them):

* per-utterance codes → ``utterance.annotations`` (with ``source=f"{name}@{version}"``),
* per-utterance numbers → ``utterance.features[<feature name>]``,
* session summary → ``session.metrics[name]`` (a JSON-able dict),
* episodes → ``session.episodes``.

Re-running an analyzer replaces its own earlier results, never another analyzer's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from attunement.coding.encoders import Encoder, load_encoder
from attunement.model import Session


@dataclass
class PipelineContext:
    """Shared, lazily loaded resources that analyzers may need.

    ``encoder_name`` picks the sentence encoder ('static', 'minilm' or a folder);
    ``model_dir`` is a coding model directory (None: the bundled one).
    """

    encoder_name: str = "static"
    model_dir: Path | None = None
    options: dict[str, object] = field(default_factory=dict)
    _encoder: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.encoder_name)
        return self._encoder


class Analyzer(ABC):
    """Base class for every analyzer."""

    name: ClassVar[str]
    version: ClassVar[str]
    #: names of analyzers whose output this one reads; the pipeline orders by them
    requires: ClassVar[tuple[str, ...]] = ()
    #: analyzers whose output this one uses *when they run*: ordered first if present,
    #: never added (talk balance reports R:Q only when the coding model ran)
    runs_after: ClassVar[tuple[str, ...]] = ()
    #: True when the analyzer needs the sentence encoder (so the CLI can skip loading it)
    needs_encoder: ClassVar[bool] = False

    @classmethod
    def from_context(cls, ctx: PipelineContext) -> Analyzer:
        """Build the analyzer from shared resources; override when it needs any."""
        return cls()

    @abstractmethod
    def __call__(self, session: Session) -> Session:
        """Annotate ``session`` in place and return it."""

    def pipe(self, sessions: Iterable[Session], batch_size: int = 16) -> Iterator[Session]:
        """Stream sessions; override to batch work across sessions."""
        for s in sessions:
            yield self(s)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def clear(self, session: Session) -> None:
        """Drop this analyzer's earlier results from ``session`` (for re-runs)."""
        tag = self.tag.split("@", 1)[0]
        for u in session.utterances:
            u.annotations = [a for a in u.annotations if a.source.split("@", 1)[0] != tag]
        session.metrics.pop(self.name, None)
