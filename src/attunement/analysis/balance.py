"""Talk balance: who talks how much, turn lengths, silences and overlaps.

Why it matters clinically: a therapist who does most of the talking leaves little room for
the client's experience; long silences after a therapist turn can mark withdrawal, while
frequent overlaps can mark confrontation or eagerness. These are descriptive numbers —
context decides whether a long silence is reflective or a rupture.

Timing metrics (speaking time, silences, overlaps) are computed only from utterances that
carry timestamps; word-based metrics always work.
"""

from __future__ import annotations

import statistics
from itertools import pairwise
from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.lexicons import tokenize
from attunement.model import Role, Session, Utterance

SILENCE_SECONDS = 3.0
REFLECTIONS = ("reflection_simple", "reflection_complex")
QUESTIONS = ("question_open", "question_closed")


def reflection_question_ratio(session: Session, min_probability: float = 0.5) -> float | None:
    """Reflections per question (MI's R:Q) over therapist behaviour annotations.

    None when no utterance carries a reflection or question code at ``min_probability``
    (the coding analyzer has not run, or there is nothing to count), and when there are
    reflections but no questions (the ratio is unbounded; report the counts instead).
    """
    refl = ques = 0
    for u in session.utterances:
        if u.role is not Role.THERAPIST:
            continue
        if any(u.has_code(c, min_probability) for c in REFLECTIONS):
            refl += 1
        if any(u.has_code(c, min_probability) for c in QUESTIONS):
            ques += 1
    if ques == 0:
        return None
    return refl / ques


def _duration(u: Utterance) -> float | None:
    if u.start is None or u.end is None or u.end < u.start:
        return None
    return u.end - u.start


def _share(part: float, total: float) -> float | None:
    return round(part / total, 4) if total > 0 else None


class TalkBalance(Analyzer):
    """Words, speaking time, turns, silences and overlaps per speaker and per role."""

    name = "talk"
    version = "1"
    runs_after = ("coding", "context")

    def __init__(self, silence_seconds: float = SILENCE_SECONDS) -> None:
        self.silence_seconds = silence_seconds

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        utts = session.utterances
        counts = [len(tokenize(u.text)) for u in utts]
        for u, n in zip(utts, counts, strict=True):
            u.features["words"] = float(n)

        roles = [r.value for r in Role]
        words_role = {r: 0 for r in roles}
        time_role = {r: 0.0 for r in roles}
        words_spk: dict[str, int] = {s.id: 0 for s in session.speakers}
        time_spk: dict[str, float] = {s.id: 0.0 for s in session.speakers}
        lengths: dict[str, list[int]] = {r: [] for r in roles}
        timed = 0
        for u, n in zip(utts, counts, strict=True):
            words_role[u.role.value] += n
            words_spk[u.speaker] = words_spk.get(u.speaker, 0) + n
            lengths[u.role.value].append(n)
            d = _duration(u)
            if d is not None:
                timed += 1
                time_role[u.role.value] += d
                time_spk[u.speaker] = time_spk.get(u.speaker, 0.0) + d

        total_words = sum(words_role.values())
        total_time = sum(time_role.values())
        has_time = timed > 0
        turns = {r: len(lengths[r]) for r in roles}
        longest = self._longest_client_turn(utts, counts)
        metrics: dict[str, Any] = {
            "words": {"by_role": words_role, "by_speaker": words_spk},
            "word_share": {
                "by_role": {r: _share(v, total_words) for r, v in words_role.items()},
                "by_speaker": {s: _share(v, total_words) for s, v in words_spk.items()},
            },
            "turns": turns,
            "turn_words": {
                r: {
                    "mean": round(statistics.fmean(v), 2) if v else None,
                    "median": float(statistics.median(v)) if v else None,
                }
                for r, v in lengths.items()
            },
            "longest_client_turn": longest,
            "therapist_word_share": _share(words_role["therapist"], total_words),
            "timed_utterances": timed,
            "speaking_time": None,
            "silences": None,
            "overlaps": None,
        }
        if has_time:
            metrics["speaking_time"] = {
                "seconds_by_role": {r: round(v, 2) for r, v in time_role.items()},
                "share_by_role": {r: _share(v, total_time) for r, v in time_role.items()},
                "share_by_speaker": {s: _share(v, total_time) for s, v in time_spk.items()},
            }
            metrics["silences"], metrics["overlaps"] = self._gaps(utts)

        rq = reflection_question_ratio(session)
        metrics["reflection_question_ratio"] = None if rq is None else round(rq, 3)
        share = metrics["therapist_word_share"]
        headline: dict[str, float | int | str] = {
            "Therapist talk %": round(100 * share, 1) if share is not None else "n/a",
            "Client turns": turns["client"],
            "Longest client turn (words)": longest["words"] if longest else 0,
        }
        if metrics["silences"] is not None:
            headline["Silences ≥3 s"] = metrics["silences"]["count"]
        headline["Reflections per question"] = "n/a" if rq is None else round(rq, 2)
        metrics["headline"] = headline
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session

    @staticmethod
    def _longest_client_turn(utts: list[Utterance], counts: list[int]) -> dict[str, Any] | None:
        best: tuple[int, Utterance] | None = None
        for u, n in zip(utts, counts, strict=True):
            if u.role is Role.CLIENT and (best is None or n > best[0]):
                best = (n, u)
        if best is None:
            return None
        n, u = best
        return {"id": u.id, "words": n, "seconds": _duration(u), "at": u.timestamp()}

    def _gaps(self, utts: list[Utterance]) -> tuple[dict[str, Any], dict[str, Any]]:
        sil_count = 0
        sil_total = 0.0
        sil_longest: dict[str, Any] | None = None
        after = {r.value: 0 for r in Role}
        ov_count = 0
        ov_total = 0.0
        for prev, nxt in pairwise(utts):
            if prev.end is None or nxt.start is None:
                continue
            gap = nxt.start - prev.end
            if gap >= self.silence_seconds:
                sil_count += 1
                sil_total += gap
                after[prev.role.value] += 1
                if sil_longest is None or gap > sil_longest["seconds"]:
                    sil_longest = {
                        "seconds": round(gap, 2),
                        "after": prev.id,
                        "after_role": prev.role.value,
                        "before": nxt.id,
                        "at": nxt.timestamp(),
                    }
            elif gap < 0:
                ov_count += 1
                ov_total += -gap
        silences = {
            "threshold_seconds": self.silence_seconds,
            "count": sil_count,
            "total_seconds": round(sil_total, 2),
            "longest": sil_longest,
            "after_role": after,
        }
        overlaps = {"count": ov_count, "total_seconds": round(ov_total, 2)}
        return silences, overlaps
