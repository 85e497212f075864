"""A session attunement score, 0–100, that shows its working.

**Not a validated measure.** It is a weighted mean of six components, each mapped to 0..1
(1 = more attuned) by a documented, linear rule, so a clinician can see which part pulled
the number down. A component whose input is absent (no therapist codes, no encoder, no
episodes) is left out and the weights of the rest are renormalized; the breakdown says so.

=====================  ===============================================================  ======
component              value in 0..1                                                    weight
=====================  ===============================================================  ======
empathy                credit per therapist turn (strong E_* = 1, weak = 0.5), mean,    0.25
                       divided by ``empathy_target`` (0.5), capped at 1
failures               1 − (share of therapist turns with an F_* code) / ``failure_cap``  0.15
                       (0.2), floored at 0
emotional              share of replies to feeling-bearing client turns with emotional  0.15
                       responsiveness ≥ 0.5
semantic               mean reply–client cosine, linear from ``semantic_range`` (0.35   0.15
                       → 0, 0.75 → 1: the 10th and 90th percentiles on the project's
                       own corpus with the static encoder)
lsm                    session LSM, linear from ``lsm_range`` (0.6 → 0, 0.95 → 1)       0.10
episodes               1 − (Σ salience of unresolved/not-addressed episodes + half of   0.20
                       partially resolved) / ``episode_cap`` (10), floored at 0
=====================  ===============================================================  ======
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.context_rules import codes_at, has_therapist_coding
from attunement.model import Role, Session, default_codebook

DEFAULT_WEIGHTS: dict[str, float] = {
    "empathy": 0.25,
    "failures": 0.15,
    "emotional": 0.15,
    "semantic": 0.15,
    "lsm": 0.10,
    "episodes": 0.20,
}
LABELS = {
    "empathy": "Empathic responses",
    "failures": "Few empathic failures",
    "emotional": "Feelings met",
    "semantic": "Replies stay with the client",
    "lsm": "Language style matching",
    "episodes": "Ruptures repaired",
}


def _ramp(x: float, lo: float, hi: float) -> float:
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


@dataclass
class Component:
    value: float | None  # 0..1, None when the input is absent
    raw: float | None  # the measured quantity before mapping
    basis: str  # how it was computed, in words


class AttunementScore(Analyzer):
    """Weighted, explainable session score from what the other analyzers found."""

    name = "attunement"
    version = "1"
    requires = ("lsm", "emotional_responsiveness", "semantic_responsiveness", "episodes")

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        threshold: float = 0.5,
        empathy_target: float = 0.5,
        failure_cap: float = 0.2,
        semantic_range: tuple[float, float] = (0.35, 0.75),
        lsm_range: tuple[float, float] = (0.6, 0.95),
        episode_cap: float = 10.0,
        min_components: int = 2,
    ) -> None:
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(self.weights) - set(DEFAULT_WEIGHTS)
        if unknown or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"weights: unknown or negative entries {sorted(unknown)}")
        self.threshold = threshold
        self.empathy_target = empathy_target
        self.failure_cap = failure_cap
        self.semantic_range = semantic_range
        self.lsm_range = lsm_range
        self.episode_cap = episode_cap
        self.min_components = min_components

    def components(self, session: Session) -> dict[str, Component]:
        """Each component's value (0..1 or None), raw measurement and basis."""
        cb = default_codebook()
        therapist = [u for u in session.utterances if u.role is Role.THERAPIST]
        out: dict[str, Component] = {}
        if therapist and has_therapist_coding(session):
            empathy, failures = set(cb.ids("empathy")), set(cb.ids("failure"))
            credit = 0.0
            failed = 0
            for u in therapist:
                found = codes_at(u, empathy, self.threshold)
                if found:
                    credit += max(1.0 if a.level == "strong" else 0.5 for a in found.values())
                failed += bool(codes_at(u, failures, self.threshold))
            rate = credit / len(therapist)
            out["empathy"] = Component(
                min(1.0, rate / self.empathy_target),
                round(rate, 4),
                f"empathy credit per therapist turn (strong 1, weak 0.5) / {self.empathy_target}",
            )
            frate = failed / len(therapist)
            out["failures"] = Component(
                max(0.0, 1.0 - frate / self.failure_cap),
                round(frate, 4),
                f"1 - share of therapist turns with a failure code / {self.failure_cap}",
            )
        else:
            basis = "no therapist codes (coding model without therapist heads, or not run)"
            out["empathy"] = Component(None, None, basis)
            out["failures"] = Component(None, None, basis)
        er = [v for u in therapist if (v := u.features.get("emotional_responsiveness")) is not None]
        out["emotional"] = Component(
            sum(v >= 0.5 for v in er) / len(er) if er else None,
            round(sum(er) / len(er), 4) if er else None,
            f"share of {len(er)} replies to feeling-bearing turns scoring >= 0.5",
        )
        sem = [v for u in therapist if (v := u.features.get("semantic_responsiveness")) is not None]
        mean_sem = sum(sem) / len(sem) if sem else None
        lo, hi = self.semantic_range
        out["semantic"] = Component(
            _ramp(mean_sem, lo, hi) if mean_sem is not None else None,
            round(mean_sem, 4) if mean_sem is not None else None,
            f"mean reply-client cosine over {len(sem)} replies, {lo} -> 0, {hi} -> 1",
        )
        lsm = session.metrics.get("lsm", {}).get("session")
        lo, hi = self.lsm_range
        out["lsm"] = Component(
            _ramp(float(lsm), lo, hi) if isinstance(lsm, int | float) else None,
            float(lsm) if isinstance(lsm, int | float) else None,
            f"session LSM, {lo} -> 0, {hi} -> 1",
        )
        if "episodes" in session.metrics:
            burden = sum(
                e.salience * (1.0 if e.resolution in ("unresolved", "not_addressed") else 0.5)
                for e in session.episodes
                if e.resolution != "resolved"
            )
            out["episodes"] = Component(
                max(0.0, 1.0 - burden / self.episode_cap),
                burden,
                f"1 - salience of unrepaired episodes (partial counts half) / {self.episode_cap}",
            )
        else:
            out["episodes"] = Component(None, None, "episodes analyzer not run")
        return out

    def __call__(self, session: Session) -> Session:
        comps = self.components(session)
        avail = {k: c for k, c in comps.items() if c.value is not None and self.weights.get(k, 0)}
        enough = len(avail) >= self.min_components and any(
            u.is_therapist for u in session.utterances
        )
        used = avail if enough else {}  # too little to score: say so rather than print a number
        total_w = sum(self.weights[k] for k in used)
        score = (
            round(
                100.0
                * sum(self.weights[k] * c.value for k, c in used.items() if c.value is not None)
                / total_w,
                1,
            )
            if total_w
            else None
        )
        breakdown: dict[str, Any] = {}
        for k, c in comps.items():
            w = self.weights.get(k, 0.0)
            breakdown[k] = {
                "label": LABELS[k],
                "value": None if c.value is None else round(c.value, 4),
                "raw": c.raw,
                "weight": w,
                "effective_weight": round(w / total_w, 4) if k in used and total_w else 0.0,
                "points": round(100.0 * w * c.value / total_w, 2)
                if k in used and c.value is not None
                else None,
                "basis": c.basis,
            }
        weakest = min(used, key=lambda k: used[k].value or 0.0) if used else None
        emp = comps["empathy"]
        headline: dict[str, Any] = {
            "Attunement score": "n/a" if score is None else score,
            "Components available": f"{len(avail)} of {len(comps)}",
            "Weakest component": LABELS[weakest] if weakest else "n/a",
            "Empathy credit per turn": "n/a" if emp.raw is None else emp.raw,
        }
        session.metrics[self.name] = {
            "score": score,
            "components": breakdown,
            "weights": dict(self.weights),
            "validated": False,
            "headline": headline,
        }
        session.mark_applied(self.name, self.version)
        return session
