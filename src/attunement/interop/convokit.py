"""Analyzed sessions as a ConvoKit corpus (Cornell's conversation toolkit).

The corpus is written in ConvoKit's documented on-disk format — a folder holding
``utterances.jsonl``, ``speakers.json``, ``conversations.json``, ``corpus.json`` and
``index.json`` — with plain JSON only (no pickled binary metadata), so writing needs no
ConvoKit and ``convokit.Corpus(filename=folder)`` loads it:

* **speakers**: one per person. A session's only client is named by its ``client_id``
  and its only therapist by its ``therapist_id`` when the session has them (so one
  client's sessions share a speaker); otherwise ``<session id>/<label>``. Meta: ``role``,
  ``role_confidence``, ``label`` (the transcript's label), ``client_id``/``therapist_id``.
* **conversations**: one per session, id = the session id. Meta: ``session_id``,
  ``client_id``, ``therapist_id``, ``session_number``, ``date``, ``modality``,
  ``source``, ``model`` (the coding model's name and version), ``metrics`` (every
  analyzer's summary), ``episodes`` (the rupture episodes as in the session JSON).
* **utterances**: id ``<session id>_<utterance id>``; ``reply_to`` the previous
  utterance of the session (None for the first); ``timestamp`` the start in seconds
  from the session start (None without timing). Meta: ``utterance_id``, ``index``,
  ``role``, ``start``, ``end``, ``codes`` (code → highest model probability, codes at ≥ 0.5),
  ``levels`` (empathy code → weak/strong), ``human_codes``, ``features``, ``episodes``
  (ids of the episodes the utterance is part of).

The folder holds the full transcripts: it is protected health information, written
with owner-only permissions like every report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attunement import __version__
from attunement.errors import AttunementError
from attunement.model import Annotation, Session

_CORE = frozenset(
    {
        "session_id",
        "client_id",
        "therapist_id",
        "session_number",
        "date",
        "modality",
        "source",
        "model",
        "metrics",
        "episodes",
        "provenance",
    }
)
FILES = ("utterances.jsonl", "speakers.json", "conversations.json", "corpus.json", "index.json")


@dataclass
class CorpusData:
    """ConvoKit's five parts as JSON-ready data (see :func:`write_corpus`)."""

    utterances: list[dict[str, Any]] = field(default_factory=list)
    speakers: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def index(self) -> dict[str, Any]:
        """``index.json``: every metadata key with its Python type, as ConvoKit writes it."""

        def types(metas: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            for m in metas:
                for k, v in m.items():
                    seen = out.setdefault(k, [])  # [] = any type (all None so far)
                    if v is not None and str(type(v)) not in seen:
                        seen.append(str(type(v)))
            return out

        return {
            "utterances-index": types(u["meta"] for u in self.utterances),
            "speakers-index": types(s["meta"] for s in self.speakers.values()),
            "conversations-index": types(c["meta"] for c in self.conversations.values()),
            "overall-index": types([self.meta]),
            "version": 1,
            "vectors": [],
        }


def _speaker_ids(session: Session) -> dict[str, str]:
    ids = {}
    clients = [s for s in session.speakers if s.role.value == "client"]
    therapists = [s for s in session.speakers if s.role.value == "therapist"]
    for s in session.speakers:
        ids[s.id] = f"{session.id}/{s.id}"
    if len(clients) == 1 and session.meta.client_id:
        ids[clients[0].id] = session.meta.client_id
    if len(therapists) == 1 and session.meta.therapist_id:
        ids[therapists[0].id] = session.meta.therapist_id
    return ids


def _episode_members(session: Session) -> dict[str, list[str]]:
    """Utterance id → ids of the episodes it is part of (from start to end, and evidence)."""
    pos = {u.id: u.index for u in session.utterances}
    out: dict[str, list[str]] = {}
    for e in session.episodes:
        members = {
            u.id
            for u in session.utterances
            if pos.get(e.start_id, -1) <= u.index <= pos.get(e.end_id, -1)
        }
        for ev in (*e.markers, *e.contribution, *e.repairs, *e.resolution_evidence):
            members.add(ev.utterance_id)
        for uid in members:
            out.setdefault(uid, []).append(e.id)
    return out


def _codes(annotations: list[Annotation], floor: float) -> dict[str, float]:
    """Code → its highest probability among the annotations (several analyzers may
    give one code), for codes at or above ``floor``."""
    out: dict[str, float] = {}
    for a in annotations:
        if a.probability >= floor:
            out[a.code] = max(a.probability, out.get(a.code, 0.0))
    return out


def to_corpus(sessions: Iterable[Session], min_probability: float = 0.5) -> CorpusData:
    """The sessions as ConvoKit corpus data: one conversation per session."""
    data = CorpusData(meta={"exporter": f"attunement {__version__}", "schema": "attunement/1"})
    for session in sessions:
        if session.id in data.conversations:
            raise AttunementError(f"session {session.id} is given twice")
        speakers = _speaker_ids(session)
        meta = session.meta
        for s in session.speakers:
            sid = speakers[s.id]
            entry = data.speakers.setdefault(sid, {"meta": {}, "vectors": []})["meta"]
            if entry and entry.get("role") != s.role.value:
                raise AttunementError(
                    "a speaker id (client_id or therapist_id) has two roles across sessions"
                )
            entry.update(
                role=s.role.value,
                role_confidence=s.role_confidence,
                label=s.id,
                client_id=meta.client_id if s.role.value == "client" else None,
                therapist_id=meta.therapist_id if s.role.value == "therapist" else None,
            )
        coding = session.metrics.get("coding", {})
        data.conversations[session.id] = {
            "meta": {
                "session_id": session.id,
                "client_id": meta.client_id,
                "therapist_id": meta.therapist_id,
                "session_number": meta.session_number,
                "date": meta.date.isoformat() if meta.date else None,
                "modality": meta.modality,
                "source": session.source,
                "model": coding.get("model"),
                "metrics": session.metrics,
                "episodes": [e.model_dump(mode="json") for e in session.episodes],
                "provenance": list(session.provenance),
                **{k: v for k, v in (meta.model_extra or {}).items() if k not in _CORE},
            },
            "vectors": [],
        }
        members = _episode_members(session)
        previous: str | None = None
        for u in session.utterances:
            uid = f"{session.id}_{u.id}"
            machine = [a for a in u.annotations if a.source != "human"]
            data.utterances.append(
                {
                    "id": uid,
                    "conversation_id": session.id,
                    "text": u.text,
                    "speaker": speakers[u.speaker],
                    "reply_to": previous,
                    "timestamp": u.start,
                    "meta": {
                        "utterance_id": u.id,
                        "index": u.index,
                        "role": u.role.value,
                        "start": u.start,
                        "end": u.end,
                        "codes": _codes(machine, min_probability),
                        "levels": {a.code: a.level for a in machine if a.level},
                        "human_codes": sorted(
                            {a.code for a in u.annotations if a.source == "human"}
                        ),
                        "features": dict(u.features),
                        "episodes": members.get(u.id, []),
                    },
                    "vectors": [],
                }
            )
            previous = uid
    return data


def write_corpus(sessions: Iterable[Session], out: Path) -> list[Path]:
    """Write the sessions as a ConvoKit corpus folder ``out`` (created; an existing folder
    must not already hold a corpus). All five files are written or none."""
    from attunement.report.base import write_files

    data = to_corpus(sessions)
    if not data.conversations:
        raise AttunementError("no sessions to export")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AttunementError("exists and is not a folder", where=out.name)
    if any((out / f).exists() for f in FILES):
        raise AttunementError("folder already holds a corpus; choose a new one", where=out.name)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = "".join(json.dumps(u, ensure_ascii=False) + "\n" for u in data.utterances)
    texts = {
        "utterances.jsonl": lines,
        "speakers.json": json.dumps(data.speakers, ensure_ascii=False),
        "conversations.json": json.dumps(data.conversations, ensure_ascii=False),
        "corpus.json": json.dumps(data.meta),
        "index.json": json.dumps(data.index()),
    }
    return write_files([(out / name, texts[name]) for name in FILES])
