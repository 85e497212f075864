"""Data model: Session, Speaker, Utterance, Annotation, Episode, and the codebook."""

from attunement.model.codebook import Codebook, CodeDef, default_codebook, load_codebook
from attunement.model.episode import Episode, Evidence, Suggestion
from attunement.model.session import (
    SCHEMA_VERSION,
    Annotation,
    Role,
    Session,
    SessionMeta,
    Speaker,
    Utterance,
    format_timestamp,
)

__all__ = [
    "SCHEMA_VERSION",
    "Annotation",
    "CodeDef",
    "Codebook",
    "Episode",
    "Evidence",
    "Role",
    "Session",
    "SessionMeta",
    "Speaker",
    "Suggestion",
    "Utterance",
    "default_codebook",
    "format_timestamp",
    "load_codebook",
]
