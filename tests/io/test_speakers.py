import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session_bytes
from attunement.model import Role

AMBIGUOUS = b"Sam: I went for a walk today.\nAlex: Oh nice.\nSam: It rained.\nAlex: Oh.\n"
THERAPIST_LIKE = (
    b"Robin: Hi. What brings you in today?\n"
    b"Kai: My sister thinks I should talk to someone. I don't know, I just feel stuck.\n"
    b"Robin: It sounds like part of you isn't sure. How does that feel, being here?\n"
    b"Kai: Weird. My job is fine, my family is fine, I guess I'm fine.\n"
    b"Robin: Tell me more about feeling stuck.\n"
)


def test_heuristic_finds_the_therapist_with_confidence() -> None:
    s = read_session_bytes(THERAPIST_LIKE, "x.txt")
    robin = s.speaker("Robin")
    assert robin.role is Role.THERAPIST
    assert 0.75 <= robin.role_confidence < 1.0
    assert s.speaker("Kai").role is Role.CLIENT
    assert not s.warnings


def test_unsure_inference_warns_and_names_the_flag() -> None:
    s = read_session_bytes(AMBIGUOUS, "x.txt")
    assert sum(sp.role is Role.THERAPIST for sp in s.speakers) == 1
    assert all(sp.role_confidence < 0.75 for sp in s.speakers)
    assert len(s.warnings) == 1
    assert s.warnings[0].startswith("speaker roles inferred: ")
    assert "pass --therapist to set" in s.warnings[0]


def test_given_names_are_case_insensitive_and_win() -> None:
    s = read_session_bytes(AMBIGUOUS, "x.txt", therapist=["alex"])
    assert s.speaker("Alex").role is Role.THERAPIST
    assert s.speaker("Alex").role_confidence == 1.0
    assert s.speaker("Sam").role is Role.CLIENT
    assert s.speaker("Sam").role_confidence == 1.0
    assert not s.warnings
    assert [u.role for u in s.utterances] == [Role.CLIENT, Role.THERAPIST] * 2


def test_client_only_names_infer_the_rest() -> None:
    s = read_session_bytes(AMBIGUOUS, "x.txt", client=["Sam"])
    assert s.speaker("Alex").role is Role.THERAPIST
    assert s.speaker("Sam").role_confidence == 1.0


def test_a_single_name_string_is_accepted() -> None:
    s = read_session_bytes(AMBIGUOUS, "x.txt", therapist="Sam")  # type: ignore[arg-type]
    assert s.speaker("Sam").role is Role.THERAPIST


def test_unknown_given_name_is_an_error() -> None:
    with pytest.raises(TranscriptError, match=r"a --therapist name does not appear in the"):
        read_session_bytes(AMBIGUOUS, "x.txt", therapist=["Dr. Who"])


def test_same_name_for_both_roles_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="both therapist and client"):
        read_session_bytes(AMBIGUOUS, "x.txt", therapist=["Sam"], client=["sam"])


def test_all_speakers_named_clients_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="no speaker is a therapist"):
        read_session_bytes(AMBIGUOUS, "x.txt", client=["Sam", "Alex"])


def test_all_labels_say_therapist_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="no speaker is a client"):
        read_session_bytes(b"Therapist: a\nCounselor: b\n", "x.txt")


def test_group_session_one_labelled_therapist_rest_clients() -> None:
    data = (
        b"Facilitator: Let's go round.\nAmy: Me first.\nBen: Then me.\nCal: I'll pass.\n"
        b"Facilitator: That's okay, Cal.\nAmy: Can I add something?\n"
    )
    s = read_session_bytes(data, "group.txt", therapist=["Facilitator"])
    assert [sp.role for sp in s.speakers] == [Role.THERAPIST] + [Role.CLIENT] * 3


def test_co_therapy_two_named_therapists() -> None:
    data = b"Ann: Welcome.\nBo: Hello both.\nCy: Hi.\nAnn: Shall we?\n"
    s = read_session_bytes(data, "x.txt", therapist=["Ann", "Bo"])
    assert [sp.role for sp in s.speakers] == [Role.THERAPIST, Role.THERAPIST, Role.CLIENT]


def test_a_comma_separated_string_is_split() -> None:
    data = AMBIGUOUS + b"Kim: I have been quiet so far.\n"
    s = read_session_bytes(data, "x.txt", therapist="Sam, alex")  # type: ignore[arg-type]
    assert [sp.role for sp in s.speakers] == [Role.THERAPIST, Role.THERAPIST, Role.CLIENT]
