"""Session quality indicators, each beside a published anchor — and a total only from those.

The earlier attunement score was a weighted mean of six components with weights chosen by
hand; it did not separate high- from low-quality MI sessions (AnnoMI AUC below 0.5). This
analyzer instead reports **indicators**, each with its value and, where one exists, the
published anchor it is compared with. Nothing here is fitted to any evaluation data.

Anchored indicators (MITI, the Motivational Interviewing Treatment Integrity code; the
thresholds are the manual's "fair" and "good" proficiency levels):

=================  ========================================================  =====  =====
indicator          value                                                      fair   good
=================  ========================================================  =====  =====
``rq``             reflections per question (MITI 4.2.1 R:Q)                 1.0    2.0
``complex``        complex reflections / all reflections (MITI 4.2.1 %CR)     0.40   0.50
``open``           open questions / all questions (MITI 3.1.1 %OQ)            0.50   0.70
=================  ========================================================  =====  =====

Indicators shown without an anchor (no published threshold; the value only):
``empathy`` (share of therapist turns with a weak or strong EPITOME mechanism),
``failures`` (share of therapist turns with an ``F_*`` code), ``unrepaired`` (rupture
episodes left unresolved or not addressed), ``feelings_met`` (share of replies to
feeling-bearing client turns with emotional responsiveness ≥ 0.5).

The **total** (0–100) is the share of anchor points reached: per anchored indicator 0 below
fair, 1 at fair, 2 at good, over the indicators that could be computed (each needs at least
``min_count`` codes to count, e.g. five questions for %OQ). It is a proficiency summary of
the therapist's counselling behaviour as coded by the model, not a measure of the
relationship; its measured validity is in docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.context_rules import codes_at, has_therapist_coding
from attunement.model import Role, Session, default_codebook

#: (fair, good) anchors; source and meaning documented above and in docs/metrics.md
ANCHORS: dict[str, tuple[float, float]] = {
    "rq": (1.0, 2.0),
    "complex": (0.40, 0.50),
    "open": (0.50, 0.70),
}
LABELS = {
    "rq": "Reflections per question (R:Q)",
    "complex": "Complex reflections (%CR)",
    "open": "Open questions (%OQ)",
    "empathy": "Turns with empathy",
    "failures": "Turns with an empathic failure",
    "unrepaired": "Unrepaired rupture episodes",
    "feelings_met": "Feelings met",
}
SOURCES = {
    "rq": "MITI 4.2.1: fair 1:1, good 2:1",
    "complex": "MITI 4.2.1: fair 40%, good 50%",
    "open": "MITI 3.1.1: fair 50%, good 70%",
}


@dataclass
class Indicator:
    value: float | None  # None when the input is absent or too thin
    count: int  # how many codes the value rests on
    basis: str


def _level(key: str, value: float) -> int:
    fair, good = ANCHORS[key]
    return 2 if value >= good else 1 if value >= fair else 0


class AttunementScore(Analyzer):
    """Session quality indicators with published anchors (metrics key ``attunement``)."""

    name = "attunement"
    version = "2"
    requires = ("episodes",)
    runs_after = ("emotional_responsiveness",)

    def __init__(self, threshold: float = 0.5, min_count: int = 5) -> None:
        self.threshold = threshold
        self.min_count = min_count

    def indicators(self, session: Session) -> dict[str, Indicator]:
        cb = default_codebook()
        therapist = [u for u in session.utterances if u.role is Role.THERAPIST]
        out: dict[str, Indicator] = {}
        coded = bool(therapist) and has_therapist_coding(session)
        behaviour = set(cb.ids("behaviour"))
        counts = dict.fromkeys(cb.ids("behaviour"), 0)
        emp = fail = 0
        if coded:
            empathy, failures = set(cb.ids("empathy")), set(cb.ids("failure"))
            for u in therapist:
                for code in codes_at(u, behaviour, 0.0):
                    counts[code] += 1
                emp += bool(codes_at(u, empathy, self.threshold))
                fail += bool(codes_at(u, failures, self.threshold))
        sr, cr = counts["reflection_simple"], counts["reflection_complex"]
        qo, qc = counts["question_open"], counts["question_closed"]
        refl, ques = sr + cr, qo + qc

        def ratio(num: int, den: int, need: int, basis: str) -> Indicator:
            ok = coded and den > 0 and need >= self.min_count
            return Indicator(round(num / den, 4) if ok else None, need, basis)

        out["rq"] = ratio(refl, ques, refl + ques, f"{refl} reflections / {ques} questions")
        out["complex"] = ratio(cr, refl, refl, f"{cr} complex of {refl} reflections")
        out["open"] = ratio(qo, ques, ques, f"{qo} open of {ques} questions")
        n = len(therapist)
        out["empathy"] = Indicator(
            round(emp / n, 4) if coded and n else None, n, f"{emp} of {n} therapist turns"
        )
        out["failures"] = Indicator(
            round(fail / n, 4) if coded and n else None, n, f"{fail} of {n} therapist turns"
        )
        if "episodes" in session.metrics:
            open_eps = [
                e for e in session.episodes if e.resolution in ("unresolved", "not_addressed")
            ]
            out["unrepaired"] = Indicator(
                float(len(open_eps)), len(session.episodes), f"of {len(session.episodes)} episodes"
            )
        else:
            out["unrepaired"] = Indicator(None, 0, "episodes analyzer not run")
        er = [v for u in therapist if (v := u.features.get("emotional_responsiveness")) is not None]
        met = sum(v >= 0.5 for v in er)
        out["feelings_met"] = Indicator(
            round(met / len(er), 4) if er else None,
            len(er),
            f"{met} of {len(er)} replies to feeling-bearing turns",
        )
        return out

    def __call__(self, session: Session) -> Session:
        inds = self.indicators(session)
        points = reached = 0
        table: dict[str, Any] = {}
        for key, ind in inds.items():
            row: dict[str, Any] = {
                "label": LABELS[key],
                "value": ind.value,
                "count": ind.count,
                "basis": ind.basis,
            }
            if key in ANCHORS:
                fair, good = ANCHORS[key]
                row["anchor"] = {"fair": fair, "good": good, "source": SOURCES[key]}
                if ind.value is not None:
                    lvl = _level(key, ind.value)
                    row["level"] = ("below fair", "fair", "good")[lvl]
                    points += lvl
                    reached += 2
            else:
                row["anchor"] = None
            table[key] = row
        score = round(100.0 * points / reached, 1) if reached else None

        def shown(key: str) -> str:
            v = table[key]["value"]
            if v is None:
                return "n/a"
            lvl = table[key].get("level")
            text = f"{v:.2f}" if key == "rq" else f"{100 * v:.0f}%"
            return f"{text} ({lvl})" if lvl else text

        headline: dict[str, Any] = {
            "Quality (MITI anchors reached)": "n/a" if score is None else score,
            "R:Q": shown("rq"),
            "Complex reflections": shown("complex"),
            "Open questions": shown("open"),
            "Turns with empathy": shown("empathy"),
        }
        session.metrics[self.name] = {
            "score": score,
            "indicators": table,
            "anchored_available": reached // 2,
            "validated": False,
            "headline": headline,
        }
        session.mark_applied(self.name, self.version)
        return session
