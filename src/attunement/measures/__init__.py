"""Questionnaires and change across sessions.

Instruments are data files (``measures/instruments/*.toml``) validated at load; scoring
follows each file's missing-item rule; :mod:`~attunement.measures.change` has reliable and
clinically significant change and sudden gains; :mod:`~attunement.measures.alliance` the
alliance rupture–repair sequences; :mod:`~attunement.measures.fhir` the FHIR R4 export.
"""

from attunement.measures.instruments import (
    Instrument,
    bundled_instruments,
    get_instrument,
    instrument_set,
    load_instrument,
)
from attunement.measures.responses import Administration, read_responses
from attunement.measures.scoring import Score, score

__all__ = [
    "Administration",
    "Instrument",
    "Score",
    "bundled_instruments",
    "get_instrument",
    "instrument_set",
    "load_instrument",
    "read_responses",
    "score",
]
