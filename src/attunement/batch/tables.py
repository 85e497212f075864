"""The three Parquet tables of a batch run, as explicit pyarrow schemas.

Every column is declared here with its type and a one-line meaning; the meaning is also
stored in the Parquet file (field metadata ``description``), so a table documents
itself. Column names are stable: codes appear under their codebook identifiers
(``W_MINIMAL``, ``E_EXPLORATION``; ``n_W_MINIMAL`` for a session count), features under
their session-JSON names (docs/json-output.md). Three keys join the levels:

* ``input_id`` — 16 hex digits identifying the coded input: SHA-256 of the input file's
  bytes and the meta given for it (``--inputs-csv``). Unique per row of ``sessions``;
* ``session_id`` — the session JSON ``id`` (content of the normalized transcript);
* ``model_id`` — ``<model name>@<version>:<first 12 hex of the model's SHA-256>``.

No quotes and no free text are written (episode evidence becomes code lists); utterance
``text`` is only present with ``attune batch --text``. Speaker labels are, as in the
session JSON: treat the tables as protected health information.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]

from attunement.model import Session, default_codebook

#: bump when a column is added, removed or changes meaning (goes into the run identity)
TABLES_VERSION = "attunement.batch-tables/1"

LEVELS = ("utterances", "episodes", "sessions")

_S, _I, _F, _B = pa.string(), pa.int32(), pa.float64(), pa.bool_()
_LIST = pa.list_(pa.string())

Column = tuple[str, Any, str]

_KEYS: list[Column] = [
    ("input_id", _S, "coded input: SHA-256 prefix of the file's bytes and its given meta"),
    ("session_id", _S, "session JSON id (content hash of the normalized transcript)"),
    ("model_id", _S, "coding model: name@version:sha256-prefix (empty: coding did not run)"),
]

#: per-utterance features (docs/json-output.md, `features`); others are not tabled
FEATURES: tuple[str, ...] = (
    "words",
    "valence",
    "lsm_rolling",
    "lsm_exchange",
    "semantic_responsiveness",
    "emotional_responsiveness",
    "expresses_feeling",
    "affect_mismatch",
)


def _codes() -> list[str]:
    return default_codebook().ids()


def _empathy() -> list[str]:
    return default_codebook().ids("empathy")


def utterance_columns(text: bool = False) -> list[Column]:
    cols: list[Column] = [
        *_KEYS,
        ("utterance_id", _S, "utterance id within the session (u0001, …)"),
        ("index", _I, "0-based position in the session"),
        ("speaker", _S, "speaker label as the transcript writes it"),
        ("role", _S, "therapist or client"),
        ("start", _F, "seconds from session start (null: untimed format)"),
        ("end", _F, "seconds from session start (null: untimed format)"),
    ]
    if text:
        cols.append(("text", _S, "the words of the turn (only with --text)"))
    cols += [(f, _F, f"feature {f} (null: not computed for this turn)") for f in FEATURES]
    for code in _empathy():
        for level in ("weak", "strong"):
            cols.append((f"p_{code}_{level}", _F, f"probability that {code} is {level}"))
    cols += [
        (c, _F, f"probability of the effective {c} annotation (null: not given)") for c in _codes()
    ]
    cols += [(f"{c}_level", _S, f"level of {c}: weak or strong (null: none)") for c in _empathy()]
    return cols


def episode_columns() -> list[Column]:
    return [
        *_KEYS,
        ("episode_id", _S, "episode id within the session (e01, …)"),
        ("kind", _S, "withdrawal, confrontation or mixed"),
        ("start_id", _S, "utterance id of the first marker turn"),
        ("end_id", _S, "utterance id of the last marker turn"),
        ("start", _F, "seconds of the first marker turn (null: untimed)"),
        ("end", _F, "seconds of the last marker turn (null: untimed)"),
        ("salience", _I, "1 faint … 5 very clear or intense"),
        ("resolution", _S, "resolved, partially_resolved, unresolved or not_addressed"),
        ("marker_codes", _LIST, "codes of the client markers, in order"),
        ("contribution_codes", _LIST, "codes of therapist failures that preceded the markers"),
        ("repair_codes", _LIST, "codes of the repair moves that followed"),
        ("flags", _LIST, "TERMINATION_RISK, BOUNDARY_PRESSURE, ESCALATE"),
        ("suggested_strategies", _LIST, "resolution strategy codes offered to the clinician"),
    ]


def session_columns() -> list[Column]:
    cols: list[Column] = [
        *_KEYS,
        ("source", _S, "base name of the input file (never its folder)"),
        ("format", _S, "reader that produced the session: text, vtt, srt, csv, docx, json"),
        ("client_id", _S, "meta.client_id (pseudonymous)"),
        ("therapist_id", _S, "meta.therapist_id (pseudonymous)"),
        ("session_number", _I, "meta.session_number"),
        ("date", pa.date32(), "meta.date"),
        ("modality", _S, "meta.modality"),
        ("utterances", _I, "number of utterances"),
        ("therapist_turns", _I, "utterances by therapists"),
        ("client_turns", _I, "utterances by clients"),
        ("speakers", _I, "number of speakers"),
        ("duration_s", _F, "end of the last timed utterance, seconds (null: untimed)"),
        ("warnings", _I, "number of reading or analysis warnings"),
        ("episodes", _I, "number of rupture episodes"),
        ("episodes_unresolved", _I, "episodes unresolved or not addressed"),
        ("max_salience", _I, "highest episode salience (null: no episode)"),
        ("attunement_score", _F, "metrics.attunement.score"),
        ("therapist_word_share", _F, "metrics.talk.therapist_word_share"),
        ("lsm_session", _F, "metrics.lsm.session (language style matching)"),
        ("semantic_responsiveness_mean", _F, "metrics.semantic_responsiveness.mean"),
        ("emotional_responsiveness_share", _F, "metrics.emotional_responsiveness.share_responsive"),
        ("client_valence_mean", _F, "metrics.tone.valence.client"),
        ("therapist_valence_mean", _F, "metrics.tone.valence.therapist"),
        ("provenance", _LIST, "analyzer@version in the order they ran"),
    ]
    cols += [
        (f"n_{c}", _I, f"utterances whose effective {c} annotation has probability >= 0.5")
        for c in _codes()
    ]
    return cols


def schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema(
        [pa.field(name, typ, metadata={"description": doc}) for name, typ, doc in columns]
    )


def schemas(text: bool = False) -> dict[str, pa.Schema]:
    """The schema of each level: utterances, episodes, sessions."""
    return {
        "utterances": schema(utterance_columns(text)),
        "episodes": schema(episode_columns()),
        "sessions": schema(session_columns()),
    }


# --- rows ---------------------------------------------------------------------------------
def _num(metrics: dict[str, dict[str, Any]], *path: str) -> float | None:
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    return float(node)


def build_tables(
    session: Session, input_id: str, model_id: str, text: bool = False
) -> dict[str, pa.Table]:
    """One input's rows at every level, as tables with the declared schemas."""
    keys = {"input_id": input_id, "session_id": session.id, "model_id": model_id}
    sch = schemas(text)
    codes, empathy = _codes(), _empathy()
    utt: dict[str, list[Any]] = {name: [] for name in sch["utterances"].names}
    counts: Counter[str] = Counter()
    for u in session.utterances:
        for k, v in keys.items():
            utt[k].append(v)
        utt["utterance_id"].append(u.id)
        utt["index"].append(u.index)
        utt["speaker"].append(u.speaker)
        utt["role"].append(u.role.value)
        utt["start"].append(u.start)
        utt["end"].append(u.end)
        if text:
            utt["text"].append(u.text)
        for f in FEATURES:
            utt[f].append(u.features.get(f))
        for code in empathy:
            for level in ("weak", "strong"):
                utt[f"p_{code}_{level}"].append(u.features.get(f"p_{code}_{level}"))
        eff = u.effective()
        for code in codes:
            a = eff.get(code)
            utt[code].append(a.probability if a is not None else None)
            if a is not None and a.probability >= 0.5:
                counts[code] += 1
        for code in empathy:
            a = eff.get(code)
            utt[f"{code}_level"].append(a.level if a is not None else None)
    epi: dict[str, list[Any]] = {name: [] for name in sch["episodes"].names}
    for e in session.episodes:
        for k, v in keys.items():
            epi[k].append(v)
        epi["episode_id"].append(e.id)
        epi["kind"].append(e.kind)
        epi["start_id"].append(e.start_id)
        epi["end_id"].append(e.end_id)
        epi["start"].append(e.start)
        epi["end"].append(e.end)
        epi["salience"].append(e.salience)
        epi["resolution"].append(e.resolution)
        epi["marker_codes"].append([m.code for m in e.markers])
        epi["contribution_codes"].append([m.code for m in e.contribution])
        epi["repair_codes"].append([m.code for m in e.repairs])
        epi["flags"].append(list(e.flags))
        epi["suggested_strategies"].append([s.strategy for s in e.suggestions])
    m, meta = session.metrics, session.meta
    row: dict[str, Any] = {
        **keys,
        "source": session.source,
        "format": session.format,
        "client_id": meta.client_id,
        "therapist_id": meta.therapist_id,
        "session_number": meta.session_number,
        "date": meta.date,
        "modality": meta.modality,
        "utterances": len(session.utterances),
        "therapist_turns": sum(1 for u in session.utterances if u.is_therapist),
        "client_turns": sum(1 for u in session.utterances if u.is_client),
        "speakers": len(session.speakers),
        "duration_s": session.duration,
        "warnings": len(session.warnings),
        "episodes": len(session.episodes),
        "episodes_unresolved": sum(
            1 for e in session.episodes if e.resolution in ("unresolved", "not_addressed")
        ),
        "max_salience": max((e.salience for e in session.episodes), default=None),
        "attunement_score": _num(m, "attunement", "score"),
        "therapist_word_share": _num(m, "talk", "therapist_word_share"),
        "lsm_session": _num(m, "lsm", "session"),
        "semantic_responsiveness_mean": _num(m, "semantic_responsiveness", "mean"),
        "emotional_responsiveness_share": _num(m, "emotional_responsiveness", "share_responsive"),
        "client_valence_mean": _num(m, "tone", "valence", "client"),
        "therapist_valence_mean": _num(m, "tone", "valence", "therapist"),
        "provenance": list(session.provenance),
        **{f"n_{c}": counts[c] for c in codes},
    }
    ses = {name: [row[name]] for name in sch["sessions"].names}
    return {
        "utterances": pa.Table.from_pydict(utt, schema=sch["utterances"]),
        "episodes": pa.Table.from_pydict(epi, schema=sch["episodes"]),
        "sessions": pa.Table.from_pydict(ses, schema=sch["sessions"]),
    }
