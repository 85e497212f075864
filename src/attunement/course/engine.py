"""The client course engine: a client folder in, a :class:`ClientCourse` out.

Order matters for safety: :func:`load_client_folder` reads and validates every input first
(questionnaire records, context, transcripts); only then are scores, trajectories,
alliance sequences, episodes, dropout risk and alerts computed, so bad input never leaves
a half-computed result.
"""

from __future__ import annotations

import logging
from pathlib import Path

from attunement.course.alerts import build_alerts
from attunement.course.episodes import build_episodes
from attunement.course.folder import ClientInputs, load_client_folder
from attunement.course.model import AllianceSequence, ClientCourse, SessionRecord
from attunement.course.records import alliance_scale, score_all, session_records, trajectories
from attunement.course.risk import dropout_risk
from attunement.measures.alliance import sequences

log = logging.getLogger(__name__)


def run_course(
    folder: Path,
    *,
    therapist: str | None = None,
    transcripts: bool = True,
    analyze: bool = True,
    allow_outside_transcripts: bool = False,
) -> ClientCourse:
    """Read a client folder and compute the whole course (see ``docs/client.md``).

    ``transcripts=False`` ignores transcripts; ``analyze=False`` reads them but uses only the
    codes already in them (e.g. human-coded session JSON), without running the analyzers.
    ``allow_outside_transcripts`` reads a transcripts folder outside the client folder.
    """
    inputs = load_client_folder(
        folder,
        therapist=therapist,
        transcripts=transcripts,
        analyze=analyze,
        allow_outside_transcripts=allow_outside_transcripts,
    )
    return compute_course(inputs)


def compute_course(inputs: ClientInputs) -> ClientCourse:
    scores = score_all(inputs.administrations, inputs.instruments)
    scale, scale_warnings = alliance_scale(inputs.administrations, inputs.instruments)
    records = session_records(
        inputs.administrations,
        scores,
        inputs.instruments,
        inputs.sessions,
        alliance=scale.instrument if scale else None,
    )
    trajs = trajectories(inputs.administrations, scores, inputs.instruments)
    warnings = [*inputs.warnings, *scale_warnings]
    unit = scale.unit if scale else 1.0
    levels = {
        t.instrument: lv
        for t in trajs.values()
        if t.role == "alliance" and (lv := inputs.instruments[t.instrument].alliance) is not None
    }
    for r in records:
        s = inputs.sessions.get(r.number)
        if (
            s is not None
            and s.meta.date is not None
            and r.date is not None
            and s.meta.date != r.date
        ):
            warnings.append(
                f"session {r.number}: transcript date {s.meta.date} differs from the "
                f"questionnaire date {r.date}; the questionnaire date is used"
            )
    events = inputs.context.events
    check = "alliance check" if scale is None or scale.legacy else scale.name
    episodes = build_episodes(records, events, alliance_unit=unit, alliance_name=check)
    dropout = dropout_risk(records, events, episodes, alliance_unit=unit)
    alerts = build_alerts(
        inputs.context, records, events, episodes, trajs, dropout, alliance=scale, levels=levels
    )
    log.info(
        "client course: %d sessions, %d episodes, %d alerts",
        len(records),
        len(episodes),
        len(alerts),
    )
    return ClientCourse(
        client_id=inputs.context.client_id,
        context=inputs.context,
        sessions=records,
        events=events,
        trajectories=trajs,
        alliance_sequences=alliance_sequences(records),
        episodes=episodes,
        dropout=dropout,
        alerts=alerts,
        warnings=warnings,
        analyzers=inputs.analyzers,
    )


def alliance_sequences(records: list[SessionRecord]) -> dict[str, list[AllianceSequence]]:
    """Stiles-style V-shaped sequences for k = 1 and k = 2, mapped to session numbers."""
    with_alliance = [r for r in records if r.alliance is not None]
    series = [r.alliance for r in with_alliance if r.alliance is not None]
    out: dict[str, list[AllianceSequence]] = {}
    for k in (1.0, 2.0):
        out[f"k{k:g}"] = [
            AllianceSequence(
                k=k,
                drop_session=with_alliance[s.drop_index].number,
                recovery_session=(
                    with_alliance[s.recovery_index].number if s.recovery_index is not None else None
                ),
                pre_level=s.pre_level,
                low_score=s.low_score,
                depth_sd=s.depth_sd,
                outcome=s.outcome,
            )
            for s in sequences(series, k)
        ]
    return out
