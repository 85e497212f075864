"""Registry of analyzers and the pipeline that runs them in dependency order.

Registration is explicit (a table of names → import paths), not a side effect of
importing a module, so that listing analyzers is cheap and heavy modules load only
when used.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator, Sequence

from attunement.analysis.base import Analyzer, PipelineContext
from attunement.errors import AttunementError
from attunement.model import Session

#: name → "module:Class". Order here is the default run order.
REGISTRY: dict[str, str] = {
    "talk": "attunement.analysis.balance:TalkBalance",
    "lsm": "attunement.analysis.lsm:LanguageStyleMatching",
    "tone": "attunement.analysis.tone:EmotionalTone",
    "emotional_responsiveness": "attunement.analysis.responsiveness:EmotionalResponsiveness",
    "semantic_responsiveness": "attunement.analysis.semantic:SemanticResponsiveness",
    "coding": "attunement.analysis.coding:CodingAnalyzer",
    "context": "attunement.analysis.context_rules:ContextRules",
    "episodes": "attunement.analysis.episodes:RuptureEpisodes",
    "attunement": "attunement.analysis.attunement_score:AttunementScore",
}

DEFAULT_ANALYZERS: tuple[str, ...] = tuple(REGISTRY)


def analyzer_class(name: str) -> type[Analyzer]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise AttunementError(f"unknown analyzer {name!r}; known: {', '.join(REGISTRY)}") from None
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
        raise TypeError(f"{target} is not an Analyzer")
    return cls


def available(names: Sequence[str] | None = None) -> list[str]:
    """Registered analyzers whose module is present (in default order)."""
    out = []
    for n in names or DEFAULT_ANALYZERS:
        module = REGISTRY[n].partition(":")[0]
        if importlib.util.find_spec(module) is not None:
            out.append(n)
    return out


def build_pipeline(
    names: Sequence[str] | None = None, ctx: PipelineContext | None = None
) -> list[Analyzer]:
    """Instantiate analyzers, adding what they require and ordering by dependency."""
    ctx = ctx or PipelineContext()
    wanted = list(names) if names is not None else available()
    ordered: list[str] = []

    def visit(n: str, stack: tuple[str, ...] = ()) -> None:
        if n in ordered:
            return
        if n in stack:
            raise AttunementError(f"analyzer dependency cycle: {' -> '.join((*stack, n))}")
        cls = analyzer_class(n)
        for dep in cls.requires:
            visit(dep, (*stack, n))
        for dep in cls.runs_after:
            if dep in wanted:
                visit(dep, (*stack, n))
        ordered.append(n)

    for n in wanted:
        visit(n)
    return [analyzer_class(n).from_context(ctx) for n in ordered]


def analyze(
    session: Session,
    names: Sequence[str] | None = None,
    ctx: PipelineContext | None = None,
    pipeline: Sequence[Analyzer] | None = None,
) -> Session:
    """Run the pipeline (built once and passed in, or built here) on one session."""
    for analyzer in pipeline if pipeline is not None else build_pipeline(names, ctx):
        session = analyzer(session)
    return session


def analyze_many(sessions: Iterable[Session], pipeline: Sequence[Analyzer]) -> Iterator[Session]:
    """Stream sessions through a built pipeline; memory stays flat."""
    for s in sessions:
        yield analyze(s, pipeline=pipeline)
