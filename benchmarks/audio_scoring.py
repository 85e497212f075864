"""Scoring a transcribed recording against the script it was spoken from
(benchmarks/synth_audio.py): word error rate, diarization error rate, speaker
attribution, turn boundaries, the pause cue. Used by tests/audio and bench_audio.py."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

FRAME = 0.01  # seconds per frame for the diarization error rate


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def wer(truth: list[dict[str, Any]], session: Any) -> float:
    import jiwer

    ref = normalise(" ".join(t["text"] for t in truth))
    hyp = normalise(" ".join(u.text for u in session.utterances))
    return float(jiwer.wer(ref, hyp))


def _frames(spans: list[tuple[float, float, str]], n: int) -> list[set[str]]:
    out: list[set[str]] = [set() for _ in range(n)]
    for start, end, who in spans:
        for i in range(int(start / FRAME), min(n, int(end / FRAME))):
            out[i].add(who)
    return out


def mapping(truth: list[dict[str, Any]], session: Any) -> dict[str, str]:
    """Hypothesis speaker → truth speaker, the assignment with the most overlap."""
    hyp_speakers = sorted({u.speaker for u in session.utterances})
    true_speakers = sorted({t["speaker"] for t in truth})
    overlap: dict[tuple[str, str], float] = {}
    for u in session.utterances:
        for t in truth:
            o = min(u.end, t["end"]) - max(u.start, t["start"])
            if o > 0:
                overlap[(u.speaker, t["speaker"])] = overlap.get((u.speaker, t["speaker"]), 0) + o
    best: dict[str, str] = {}
    best_score = -1.0
    for perm in itertools.permutations(true_speakers, min(len(true_speakers), len(hyp_speakers))):
        pairs = dict(zip(hyp_speakers, perm, strict=False))
        score = sum(overlap.get((h, t), 0.0) for h, t in pairs.items())
        if score > best_score:
            best, best_score = pairs, score
    return best


def der(truth: list[dict[str, Any]], session: Any) -> dict[str, float]:
    """Frame-level diarization error rate (no collar): missed speech, false alarm and
    speaker confusion over the truth's speech time."""
    m = mapping(truth, session)
    end = max([t["end"] for t in truth] + [u.end or 0 for u in session.utterances])
    n = int(end / FRAME) + 1
    ref = _frames([(t["start"], t["end"], t["speaker"]) for t in truth], n)
    hyp = _frames(
        [
            (u.start, u.end, m.get(u.speaker, "?"))
            for u in session.utterances
            if u.start is not None
        ],
        n,
    )
    speech = sum(len(r) for r in ref)
    missed = sum(max(0, len(r) - len(h)) for r, h in zip(ref, hyp, strict=True))
    false_alarm = sum(max(0, len(h) - len(r)) for r, h in zip(ref, hyp, strict=True))
    confusion = sum(min(len(r), len(h)) - len(r & h) for r, h in zip(ref, hyp, strict=True))
    return {
        "der": (missed + false_alarm + confusion) / speech,
        "missed": missed / speech,
        "false_alarm": false_alarm / speech,
        "confusion": confusion / speech,
    }


def turns(truth: list[dict[str, Any]], session: Any) -> dict[str, float]:
    """Each script turn against the utterance that overlaps it most: share attributed to
    the right speaker, mean |start error| in seconds, and the turn counts."""
    m = mapping(truth, session)
    right = 0
    errors = []
    for t in truth:
        best, best_o = None, 0.0
        for u in session.utterances:
            o = min(u.end, t["end"]) - max(u.start, t["start"])
            if o > best_o:
                best, best_o = u, o
        if best is None:
            continue
        right += m.get(best.speaker) == t["speaker"]
        errors.append(abs(best.start - t["start"]))
    return {
        "attribution": right / len(truth),
        "start_error_s": float(np.mean(errors)) if errors else float("nan"),
        "turns_truth": float(len(truth)),
        "turns_found": float(len(session.utterances)),
    }


def pause_cue(truth: list[dict[str, Any]], session: Any, min_pause: float = 2.0) -> dict[str, Any]:
    """The long pauses of the script: found as ``pause_before_s`` on the right turn, and
    the measured length beside the scripted one."""
    out = []
    for t in truth:
        if t["pause_before"] < min_pause:
            continue
        u = min(session.utterances, key=lambda u: abs((u.start or 0) - t["start"]))
        out.append(
            {
                "scripted_s": t["pause_before"],
                "measured_s": u.features.get("pause_before_s"),
                "minimal_response": any(
                    a.code == "W_MINIMAL" and "pause" in (a.note or "") for a in u.annotations
                ),
            }
        )
    return {"pauses": out}
