"""Finding identifiers in one utterance: Presidio's analyzer with its pattern
recognizers and ours, run without a statistical model.

Presidio (MIT, Microsoft; optional, ``--presidio``) brings validated recognizers for
phone numbers (the ``phonenumbers`` library), dates, card numbers, SSN, NHS and IBAN
numbers, IP addresses; its named-entity recognizer needs a spaCy model that no package
here ships, so it is off and names come from :mod:`attunement.deid.names`. Presidio's
e-mail and URL recognizers are off too: they look up the public suffix list on the
internet, and nothing here may reach the network — :mod:`attunement.deid.patterns`
covers both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Set
from functools import cache
from typing import Any

from attunement.deid.names import find_names
from attunement.deid.patterns import Span, find_patterns
from attunement.errors import AttunementError

#: Presidio's entity types → ours
PRESIDIO_TYPES = {
    "PHONE_NUMBER": "PHONE",
    "DATE_TIME": "DATE",
    "CREDIT_CARD": "ID",
    "US_SSN": "ID",
    "UK_NHS": "ID",
    "IBAN_CODE": "ID",
    "US_ITIN": "ID",
    "US_PASSPORT": "ID",
    "MEDICAL_LICENSE": "ID",
    "IP_ADDRESS": "URL",
}
#: recognizers left out: network lookups (e-mail, URL), a model we do not have (spaCy
#: NER), and ones that fire on any digit run in talk
_OFF = {
    "EmailRecognizer", "UrlRecognizer", "SpacyRecognizer", "UsLicenseRecognizer",
    "UsBankRecognizer", "CryptoRecognizer", "MacAddressRecognizer", "UuidRecognizer",
}  # fmt: skip
MIN_SCORE = 0.35
PRESIDIO_HINT = (
    "attune deid --presidio needs the 'deid-presidio' extra: "
    "pip install 'attunement[deid-presidio]'"
)


@cache
def presidio() -> Any:
    """A Presidio analyzer with a blank English spaCy pipeline (tokenizer only)."""
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError:
        raise AttunementError(PRESIDIO_HINT) from None
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    class BlankEnglish(SpacyNlpEngine):
        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": "en", "model_name": "blank:en"}])

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]

    nlp = BlankEnglish()
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    for name in _OFF:
        if any(getattr(r, "name", None) == name for r in registry.recognizers):
            registry.remove_recognizer(name)
    return AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])


def _presidio_spans(text: str) -> Iterable[Span]:
    for r in presidio().analyze(text, language="en", entities=list(PRESIDIO_TYPES)):
        kind = PRESIDIO_TYPES.get(r.entity_type)
        if kind is None or r.score < MIN_SCORE:
            continue
        value = text[r.start : r.end]
        if kind == "DATE" and (value.strip().isdigit() or ":" in value or len(value) < 4):
            continue  # a bare year or a time of day is not an identifier here
        yield Span(r.start, r.end, kind, float(r.score), f"presidio:{r.entity_type}")


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans: longer first, then higher score, then earlier."""
    chosen: list[Span] = []
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), -s.score, s.start)):
        if s.end <= s.start:
            continue
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def find(text: str, known: Set[str] = frozenset(), use_presidio: bool = False) -> list[Span]:
    """Every identifier in one utterance, overlaps resolved."""
    if not text.strip():
        return []
    spans: list[Span] = list(find_patterns(text))
    spans += find_names(text, known)
    if use_presidio:
        spans += _presidio_spans(text)
    return resolve(spans)
