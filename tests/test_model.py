from attunement.model import Role, Session, Speaker, Utterance, default_codebook, format_timestamp


def _session() -> Session:
    return Session(
        id="s1",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(id="u0001", index=0, speaker="C", role=Role.CLIENT, text="I'm fine."),
            Utterance(id="u0002", index=1, speaker="T", role=Role.THERAPIST, text="Are you?"),
            Utterance(id="u0003", index=2, speaker="T", role=Role.THERAPIST, text="Tell me."),
        ],
    )


def test_exchanges_pair_client_turn_with_next_therapist_turn() -> None:
    pairs = [(c.id, t.id) for c, t in _session().exchanges()]
    assert pairs == [("u0001", "u0002")]


def test_session_json_round_trip_is_lossless() -> None:
    s = _session()
    assert Session.model_validate_json(s.model_dump_json()) == s


def test_codebook_has_every_family_and_unique_ids() -> None:
    cb = default_codebook()
    assert len(cb.ids("withdrawal")) == 7
    assert len(cb.ids("confrontation")) == 7
    assert len(cb.ids("resolution")) == 10
    assert len(cb.ids("failure")) == 6
    assert cb.get("E_EXPLORATION").role == "therapist"


def test_format_timestamp() -> None:
    assert format_timestamp(2472) == "41:12"
    assert format_timestamp(3723) == "1:02:03"
