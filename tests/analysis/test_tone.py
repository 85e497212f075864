"""Emotional tone: valence, feeling words with negation, mismatch cues, session summary."""

from __future__ import annotations

from attunement.analysis.tone import EmotionalTone, default_matcher
from attunement.model import Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def _session(lines: list[tuple[Role, str]]) -> Session:
    return Session(
        id="s",
        speakers=[Speaker(id="T", role=T), Speaker(id="C", role=C)],
        utterances=[
            Utterance(id=f"u{i + 1:04d}", index=i, speaker="T" if r is T else "C", role=r, text=t)
            for i, (r, t) in enumerate(lines)
        ],
    )


def test_feeling_words_prefixes_phrases_and_negation() -> None:
    m = default_matcher()
    assert m.feelings("I'm so sad and lonely.") == {"sadness": 1, "hurt": 1}
    assert m.feelings("It was frustrating, honestly.") == {"anger": 1}
    assert m.feelings("I'm not angry.") == {}
    assert m.feelings("I'm not angry, I'm scared.") == {"fear": 1}  # negation stops at a comma
    assert m.feelings("I just feel like nobody cares.") == {"hurt": 1}
    assert m.feelings("We moved the couch on Saturday.") == {}


def test_valence_and_emotion_features() -> None:
    s = EmotionalTone()(
        _session(
            [
                (T, "How was the week?"),
                (C, "Awful. I feel so sad and hopeless, I cried every night."),
                (T, "That sounds really painful."),
                (C, "We moved the couch on Saturday."),
                (T, "Okay."),
                (C, "I'm actually really happy and proud of how the talk went."),
            ]
        )
    )
    u = s.utterances
    assert all(-1.0 <= x.features["valence"] <= 1.0 for x in u)
    assert u[1].features["valence"] < -0.5 < 0.5 < u[5].features["valence"]
    assert u[1].features["emo_sadness"] > 0 and u[1].meta["emotions"][0] == "sadness"
    assert u[5].meta["emotions"] == ["joy"]
    assert "emotions" not in u[3].meta and not any(k.startswith("emo_") for k in u[3].features)
    # the feeling flag is on client turns only
    assert [x.features.get("expresses_feeling") for x in u] == [None, 1.0, None, 0.0, None, 1.0]
    m = s.metrics["tone"]
    assert m["client_feeling_turns"] == {"count": 2, "share": round(2 / 3, 4)}
    assert m["emotions"]["client"]["sadness"] == 1
    assert m["trajectory"]["client"]["first_third"] < m["trajectory"]["client"]["last_third"]
    assert m["trajectory"]["client"]["change"] > 0
    assert m["headline"]["Top client emotion"] in {"sadness", "joy"}
    assert 1 <= len(m["headline"]) <= 5


def test_affect_mismatch_cue() -> None:
    s = EmotionalTone()(
        _session(
            [
                (T, "Tell me about your father."),
                (C, "(laughs) My dad never came to anything, it's funny really."),
                (T, "Hm."),
                (C, "My dad never came to anything and I was devastated."),
                (T, "Hm."),
                (C, "Ha, the weather was lovely all week."),
            ]
        )
    )
    flags = [u.features.get("affect_mismatch") for u in s.utterances]
    assert flags == [None, 1.0, None, 0.0, None, 0.0]
    assert s.metrics["tone"]["affect_mismatch"] == ["u0002"]
    assert all(a.source != "tone@1" for u in s.utterances for a in u.annotations)


def test_rerun_is_idempotent_and_replaces_stale_features() -> None:
    a = EmotionalTone()
    s = a(_session([(T, "Hi."), (C, "I'm furious with him.")]))
    first = s.model_dump_json()
    s.utterances[1].features["emo_joy"] = 0.5  # stale value from an older run
    assert a(s).model_dump_json() == first


def test_strong_valence_rule_is_asymmetric() -> None:
    s = EmotionalTone()(
        _session(
            [
                (T, "What do you make of that?"),
                (C, "This is the worst week of my life."),  # ≈ −0.63, no feeling word
                (T, "Shall we try the worksheet?"),
                (C, "Sure, whatever you think is useful."),  # ≈ +0.64: polite, not a feeling
            ]
        )
    )
    assert s.utterances[1].features["expresses_feeling"] == 1.0
    assert s.utterances[3].features["expresses_feeling"] == 0.0
