"""Hand-built sessions for the writer tests (no analyzers needed)."""

from __future__ import annotations

from attunement.model import (
    Annotation,
    Episode,
    Evidence,
    Role,
    Session,
    Speaker,
    Suggestion,
    Utterance,
)

EVIL = "<script>alert(1)</script>"


def _u(i: int, role: Role, text: str, start: float | None, **kw: object) -> Utterance:
    speaker = "Dr. Lee" if role is Role.THERAPIST else "Sam <b>"
    return Utterance(
        id=f"u{i + 1:04d}",
        index=i,
        speaker=speaker,
        role=role,
        text=text,
        start=start,
        end=None if start is None else start + 4.0,
        **kw,  # type: ignore[arg-type]
    )


def coded_session(timed: bool = True) -> Session:
    t = (lambda s: s) if timed else (lambda s: None)
    utts = [
        _u(0, Role.THERAPIST, "How has the week been?", t(3.0), features={"valence": 0.1}),
        _u(
            1,
            Role.CLIENT,
            f"[laughs] Great! I can't afford this anymore, so it's my last session {EVIL}",
            t(9.0),
            annotations=[
                Annotation(code="C_PARAMETERS", probability=0.91, source="coding@1"),
                Annotation(code="TERMINATION_RISK", probability=0.88, source="coding@1"),
                Annotation(code="W_CONTENT_AFFECT", probability=0.7, source="coding@1"),
            ],
            features={"valence": 0.6, "lsm_rolling": 0.7},
        ),
        _u(
            2,
            Role.THERAPIST,
            "Okay. Let's talk about the final invoice.",
            t(20.0),
            annotations=[Annotation(code="F_IGNORE", probability=0.8, source="coding@1")],
            features={"valence": 0.0, "lsm_rolling": 0.6, "semantic_responsiveness": 0.2},
        ),
        _u(3, Role.CLIENT, "Sure.", t(30.0), annotations=[Annotation(code="W_MINIMAL")]),
        _u(
            4,
            Role.THERAPIST,
            "I sense there's something else going on. Would you tell me about it?",
            t(36.0),
            annotations=[
                Annotation(code="R_INVITE", probability=0.8, source="coding@1"),
                Annotation(
                    code="E_EXPLORATION", probability=0.9, level="strong", source="coding@1"
                ),
            ],
            features={"valence": 0.2, "lsm_rolling": 0.8, "semantic_responsiveness": 0.6},
        ),
        _u(5, Role.CLIENT, "I guess it's lonely to leave.", t(50.0), features={"valence": -0.5}),
    ]
    ep = Episode(
        id="e01",
        kind="mixed",
        start_id="u0002",
        end_id="u0004",
        start=t(9.0),
        end=t(30.0),
        markers=[
            Evidence(
                utterance_id="u0002",
                code="C_PARAMETERS",
                probability=0.91,
                quote=f"I can't afford this anymore {EVIL}",
                timestamp="0:09" if timed else None,
                speaker="Sam <b>",
            )
        ],
        salience=4,
        contribution=[
            Evidence(utterance_id="u0003", code="F_IGNORE", quote="Let's talk about the invoice.")
        ],
        repairs=[Evidence(utterance_id="u0005", code="R_INVITE", quote="I sense there's more")],
        resolution="partially_resolved",
        flags=["TERMINATION_RISK"],
        suggestions=[
            Suggestion(strategy="R_INVITE", text="Ask what ending means.", because=["u0002"])
        ],
        summary="Client announced an ending at 0:09.",
    )
    return Session(
        id="abc123",
        source="demo.txt",
        format="text",
        speakers=[
            Speaker(id="Dr. Lee", role=Role.THERAPIST),
            Speaker(id="Sam <b>", role=Role.CLIENT),
        ],
        utterances=utts,
        metrics={
            "talk": {"headline": {"Therapist talk %": 48.2, "Client turns": 3}, "words": 10},
            "episodes": {"headline": {"Episodes": 1}},
            "nohead": {"x": 1},
        },
        episodes=[ep],
        warnings=["1 line(s) before the first speaker label were skipped"],
        provenance=["talk@1", "coding@1", "episodes@1"],
    )


def long_session(n: int = 2400) -> Session:
    """A ~3-hour session (4.5 s per turn) with features and some codes."""
    utts = []
    for i in range(n):
        role = Role.THERAPIST if i % 2 == 0 else Role.CLIENT
        ann = [Annotation(code="W_MINIMAL", probability=0.8)] if i % 50 == 1 else []
        feats: dict[str, float | None] = {"valence": ((i % 7) - 3) / 3, "lsm_rolling": 0.5}
        if role is Role.THERAPIST and i:
            feats["semantic_responsiveness"] = 0.4
        utts.append(
            _u(
                i,
                role,
                f"Turn {i} with some ordinary words in it.",
                i * 4.5,
                annotations=ann,
                features=feats,
            )
        )
    return Session(
        id="long",
        source="long.vtt",
        format="vtt",
        speakers=[
            Speaker(id="Dr. Lee", role=Role.THERAPIST),
            Speaker(id="Sam <b>", role=Role.CLIENT),
        ],
        utterances=utts,
    )
