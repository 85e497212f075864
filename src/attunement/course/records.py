"""Per-session records and per-instrument trajectories.

A :class:`SessionRecord` gathers, for one session number, what the post-session checks
said and what the transcript analysis found (rupture markers, repair moves, failures,
termination talk, in-session episodes). Trajectories score every administration and add
reliable change against the first one and sudden gains/losses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from attunement.course.model import ScorePoint, SessionRecord, Trajectory
from attunement.measures.change import change, rci, sudden_shifts
from attunement.measures.instruments import LEGACY_ALLIANCE, AllianceLevels, Instrument
from attunement.measures.responses import Administration
from attunement.measures.scoring import Score, score
from attunement.model import Role, Session

CLIENT_PREFIXES = ("W_", "C_")
MIN_P = 0.5
Direction = Literal["withdrawal", "confrontation", "mixed"]
#: the rupture check's "which is closer to how it went" item → rupture family
DIRECTIONS: dict[float, Direction] = {1.0: "withdrawal", 2.0: "confrontation", 3.0: "mixed"}


@dataclass(frozen=True)
class AllianceScale:
    """The alliance series the session-level rules read, and its scale.

    ``unit`` is a tenth of the score range: the engine's point-sized steps (an alliance
    "a point" higher, "half a point" above) were set on the 0–10 check and are multiplied
    by it, so they mean the same share of any alliance instrument's range.
    """

    instrument: str
    name: str
    low: float
    high: float
    levels: AllianceLevels | None

    @property
    def unit(self) -> float:
        return (self.high - self.low) / 10.0

    @property
    def legacy(self) -> bool:
        """The 0–10 check's own numbers (the wording stays as it always was)."""
        return self.levels is None or self.levels == LEGACY_ALLIANCE


def alliance_scale(
    admins: list[Administration], instruments: Mapping[str, Instrument]
) -> tuple[AllianceScale | None, list[str]]:
    """The one alliance instrument whose scores become the sessions' ``alliance`` (the
    one given most often; ties by id), and a warning when there are several: each is
    still charted and judged against its own levels, but the session-level rules
    (drops, episodes, trend) read one series, since scores on different scales do not mix.
    """
    counts = Counter(a.instrument for a in admins if instruments[a.instrument].role == "alliance")
    if not counts:
        return None, []
    chosen = min(counts, key=lambda i: (-counts[i], i))
    inst = instruments[chosen]
    low, high = inst.score_range
    scale = AllianceScale(chosen, inst.name, low, high, inst.alliance_levels())
    warnings = []
    if len(counts) > 1:
        others = ", ".join(instruments[i].name for i in sorted(counts) if i != chosen)
        warnings.append(
            f"several alliance instruments: the session-level alliance rules read {inst.name}; "
            f"{others} is charted and judged against its own levels only"
        )
    return scale, warnings


def score_all(
    admins: list[Administration], instruments: Mapping[str, Instrument]
) -> dict[tuple[int, str], Score]:
    return {
        (a.session, a.instrument): score(instruments[a.instrument], a.as_answers()) for a in admins
    }


def session_records(
    admins: list[Administration],
    scores: Mapping[tuple[int, str], Score],
    instruments: Mapping[str, Instrument],
    sessions: Mapping[int, Session],
    *,
    alliance: str | None = None,
) -> list[SessionRecord]:
    """One record per session number seen in responses or transcripts, in order.

    ``alliance``: the instrument whose scores are the sessions' alliance (see
    :func:`alliance_scale`); None takes every alliance instrument's."""
    numbers = sorted({a.session for a in admins} | set(sessions))
    records = {n: SessionRecord(number=n) for n in numbers}
    for a in admins:
        rec = records[a.session]
        rec.date = rec.date or a.date
        inst = instruments[a.instrument]
        total = scores[(a.session, a.instrument)].total
        if inst.role == "alliance":
            if alliance is None or a.instrument == alliance:
                rec.alliance = total
        elif inst.role == "rupture":
            rec.tension = total
            rec.tension_resolved = a.answers.get("resolved")
            direction = a.answers.get("direction")
            if direction is not None:
                rec.direction = DIRECTIONS.get(direction)
            if a.texts:
                rec.client_note = " ".join(a.texts.values())
    for n, s in sessions.items():
        _from_transcript(records[n], s)
    return [records[n] for n in numbers]


def _from_transcript(rec: SessionRecord, s: Session) -> None:
    rec.transcript = s.source
    if rec.date is None and s.meta.date is not None:
        rec.date = s.meta.date
    markers: Counter[str] = Counter()
    for u in s.utterances:
        # one count per (utterance, code): a human code and a model code on the same
        # utterance are one observation
        for a in {a.code: a for a in u.codes(MIN_P)}.values():
            if u.role is Role.CLIENT:
                if a.code.startswith(CLIENT_PREFIXES):
                    markers[a.code] += 1
                if a.code == "TERMINATION_RISK":
                    rec.termination_talk += 1
            elif a.code.startswith("R_"):
                rec.repairs.append(a.code)
            elif a.code.startswith("F_"):
                rec.failures.append(a.code)
    rec.markers = dict(sorted(markers.items()))
    rec.in_session_episodes = [
        {
            "id": e.id,
            "kind": e.kind,
            "salience": e.salience,
            "resolution": e.resolution,
            "flags": list(e.flags),
            "start": e.start_id,
        }
        for e in s.episodes
    ]
    for e in s.episodes:
        for r in e.repairs:
            if r.code.startswith("R_") and r.code not in rec.repairs:
                rec.repairs.append(r.code)
        if "TERMINATION_RISK" in e.flags and rec.termination_talk == 0:
            rec.termination_talk = 1
    for name, metrics in s.metrics.items():
        head = metrics.get("headline") if isinstance(metrics, dict) else None
        if isinstance(head, dict):
            for label, value in list(head.items())[:5]:
                rec.headline[f"{name}: {label}"] = value


def trajectories(
    admins: list[Administration],
    scores: Mapping[tuple[int, str], Score],
    instruments: Mapping[str, Instrument],
) -> dict[str, Trajectory]:
    out: dict[str, Trajectory] = {}
    for inst_id in sorted({a.instrument for a in admins}):
        inst = instruments[inst_id]
        points = [
            ScorePoint(session=a.session, date=a.date, score=scores[(a.session, inst_id)])
            for a in admins
            if a.instrument == inst_id
        ]
        valid = [p for p in points if p.score.total is not None]
        traj = Trajectory(
            instrument=inst_id,
            name=inst.name,
            role=inst.role,
            higher_is=inst.higher_is,
            score_range=inst.score_range,
            bands=[b.model_dump() for b in inst.bands],
            cutoff=inst.cutoff.value if inst.cutoff else None,
            points=points,
        )
        n = inst.norms
        if valid:
            base = valid[0].score.total
            assert base is not None
            if n.sd is not None and n.reliability is not None:
                for p in valid:
                    p.rci_vs_baseline = round(
                        rci(base, p.score.total or 0.0, n.sd, n.reliability), 3
                    )
            if len(valid) > 1:
                traj.change = change(inst, base, valid[-1].score.total or 0.0)
            threshold = n.sudden_gain_threshold
            if threshold is not None:
                series = [p.score.total or 0.0 for p in valid]
                traj.sudden = sudden_shifts(series, threshold, inst.higher_is)
                traj.sudden_sessions = [
                    (s.kind, valid[s.pre_index].session, valid[s.post_index].session)
                    for s in traj.sudden
                ]
        out[inst_id] = traj
    return out
