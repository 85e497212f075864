"""Analyzers: each takes a Session and returns it with annotations, features or metrics."""

from attunement.analysis.base import Analyzer, PipelineContext
from attunement.analysis.pipeline import DEFAULT_ANALYZERS, analyze, build_pipeline

__all__ = ["DEFAULT_ANALYZERS", "Analyzer", "PipelineContext", "analyze", "build_pipeline"]
