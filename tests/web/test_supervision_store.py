"""Supervision in the store, on SQLite and PostgreSQL: comments encrypted at rest, the
latest decision counts, a coder's codes, agreement against hand-computed kappa, and the
training export read by the real ``attune train`` loader.

The session here is a hand-written analysis in the library's format (twelve client turns
with known model codes), stored as the worker stores one, so the expected numbers can be
worked out on paper.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from attunement.model import Annotation, Session, Speaker, Utterance
from attunement.model.session import Role
from attunement.store import jobs, repo
from attunement.store import supervision as sv
from attunement.store import supervision_codes as sc
from attunement.store.db import Store
from attunement.store.tables import Client, User
from attunement.store.tables_supervision import CodeCorrection, SessionComment
from attunement.store.worker import summarize

CANARY = "Quokkacanary5521"
MINIMAL = {1, 2, 3, 4}  # client turns the model codes W_MINIMAL on
PARAMETERS = {6}  # … and C_PARAMETERS on


def hand_session() -> Session:
    """24 turns: therapist, client, … ; the client's turns are c1…c12."""
    utts = []
    for i in range(24):
        role = Role.THERAPIST if i % 2 == 0 else Role.CLIENT
        n = i // 2 + 1
        anns = []
        if role is Role.CLIENT and n in MINIMAL:
            anns.append(Annotation(code="W_MINIMAL", probability=0.9, source="coding@1"))
        if role is Role.CLIENT and n in PARAMETERS:
            anns.append(Annotation(code="C_PARAMETERS", probability=0.8, source="coding@1"))
        if role is Role.CLIENT and n == 7:  # below the review's threshold: not a model code
            anns.append(Annotation(code="W_DENIAL", probability=0.3, source="coding@1"))
        utts.append(
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if role is Role.THERAPIST else "C",
                role=role,
                text=f"{'therapist' if role is Role.THERAPIST else 'client'} turn {n}",
                annotations=anns,
            )
        )
    return Session(
        id="hand",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=utts,
    )


def client_turn(n: int) -> str:
    return f"u{2 * n:04d}"


@pytest.fixture
def clinic(backend: str, tmp_path: Path) -> Any:
    from attunement.web import security

    store = Store.open(backend, tmp_path / "k.key")
    with store.tx() as db:
        ids = {
            name: repo.create_user(db, name, role, security.hash_password("x" * 12)).id
            for name, role in (("tess", "trainee"), ("sam", "supervisor"))
        }
        client = repo.create_client(db, store.keys, therapist_id=ids["tess"], pseudonym="C1")
        sid, job = repo.add_session(
            db,
            store.keys,
            client_id=client.id,
            uploaded_by=ids["tess"],
            filename="s.txt",
            data=b"T: hello\nC: hi\n",
        )
    session = hand_session()
    with store.tx() as db:
        assert jobs.claim(db) == job
        jobs.finish(db, store.keys, job, session.model_dump_json(), summarize(session))
    yield store, ids, sid, client.id
    store.close()


def test_latest_decision_counts_and_codes(clinic: Any) -> None:
    store, ids, sid, _ = clinic
    with store.tx() as db:
        found = sv.analysis(db, store.keys, sid)
        assert found is not None
        sam = db.get(User, ids["sam"])
        first = [sv.Decision(client_turn(4), "W_MINIMAL", "present")]
        sv.add_corrections(db, found, session_id=sid, author=sam, decisions=first)
        later = [
            sv.Decision(client_turn(4), "W_MINIMAL", "absent"),
            sv.Decision(client_turn(5), "W_MINIMAL", "present"),
        ]
        sv.add_corrections(db, found, session_id=sid, author=sam, decisions=later)
    with store.tx() as db:
        coding = sv.session_coding(db, store.keys, sid, ids["sam"])
        assert coding is not None
        # the model's codes as the review shows them (W_DENIAL at 0.3 is not one)
        assert coding.model[client_turn(4)] == {"W_MINIMAL"}
        assert coding.model[client_turn(7)] == set()
        assert coding.coder[client_turn(4)] == set()  # the later "absent" wins
        assert coding.coder[client_turn(5)] == {"W_MINIMAL"}
        assert coding.coder[client_turn(6)] == {"C_PARAMETERS"}  # untouched: the model's
        assert coding.reviewed == [client_turn(4), client_turn(5)]
        assert coding.changes(client_turn(4)) == (set(), {"W_MINIMAL"})
        # another coder's codes are the model's: decisions are kept per author
        tess = sv.session_coding(db, store.keys, sid, ids["tess"])
        assert tess is not None and tess.reviewed == [] and tess.coder == tess.model
        rows = db.scalars(sa.select(CodeCorrection).order_by(CodeCorrection.id)).all()
        assert [(r.decision, r.author_role) for r in rows] == [
            ("present", "supervisor"),
            ("absent", "supervisor"),
            ("present", "supervisor"),
        ]


@pytest.mark.parametrize(
    ("decision", "where"),
    [
        (sv.Decision("u9999", "W_MINIMAL", "present"), "utterance"),
        (sv.Decision("u0002", "R_ACKNOWLEDGE", "present"), "code"),  # a therapist code
        (sv.Decision("u0002", "E_EXPLORATION", "present"), "code"),  # graded: not here
        (sv.Decision("u0002", "W_MINIMAL", "maybe"), "decision"),
    ],
)
def test_invalid_corrections_refused(clinic: Any, decision: sv.Decision, where: str) -> None:
    store, ids, sid, _ = clinic
    with store.tx() as db:
        found = sv.analysis(db, store.keys, sid)
        assert found is not None
        sam = db.get(User, ids["sam"])
        good = sv.Decision("u0002", "W_MINIMAL", "absent")
        with pytest.raises(repo.InputError) as err:
            sv.add_corrections(db, found, session_id=sid, author=sam, decisions=[good, decision])
        assert err.value.where == where
    with store.tx() as db:  # all or nothing
        assert db.scalar(sa.select(sa.func.count()).select_from(CodeCorrection)) == 0


def _supervisor_review(store: Store, ids: dict[str, int], sid: int) -> None:
    """sam reviews every client turn: W_MINIMAL on c1, c2, c3, c5 (the model: c1-c4), and
    one therapist turn, adding an acknowledgement."""
    with store.tx() as db:
        found = sv.analysis(db, store.keys, sid)
        assert found is not None
        sam = db.get(User, ids["sam"])
        decisions = [
            sv.Decision(client_turn(n), "W_MINIMAL", "present" if n in (1, 2, 3, 5) else "absent")
            for n in range(1, 13)
        ]
        decisions.append(sv.Decision("u0001", "R_ACKNOWLEDGE", "present"))
        sv.add_corrections(db, found, session_id=sid, author=sam, decisions=decisions)


def test_agreement_against_hand_computed_kappa(clinic: Any) -> None:
    store, ids, sid, _ = clinic
    _supervisor_review(store, ids, sid)
    with store.tx() as db:
        codings = sv.codings_for(db, store.keys, [sid], ids["sam"])
    agr = sc.agreement(codings)
    assert (agr.sessions, agr.utterances, agr.min_n) == (1, 13, 10)
    by_code = {c.code: c for c in agr.codes}
    assert set(by_code) == {"W_MINIMAL", "C_PARAMETERS", "R_ACKNOWLEDGE"}
    # W_MINIMAL over 12 client turns: both 3, sam only 1 (c5), model only 1 (c4), neither 7.
    # po = 10/12, pe = (4/12)(4/12) + (8/12)(8/12) = 80/144, kappa = (40/144)/(64/144) = 0.625
    m = by_code["W_MINIMAL"]
    assert (m.n, m.coder_count, m.model_count, m.both, m.enough) == (12, 4, 4, 3, True)
    assert m.kappa == pytest.approx(0.625)
    assert m.positive_agreement == pytest.approx(6 / 8)  # 2·3 / (4 + 4)
    # C_PARAMETERS left alone on c6: both mark it there and nowhere else
    p = by_code["C_PARAMETERS"]
    assert (p.n, p.both, p.kappa, p.positive_agreement) == (12, 1, 1.0, 1.0)
    # one therapist turn reviewed: too few for a number
    r = by_code["R_ACKNOWLEDGE"]
    assert (r.n, r.coder_count, r.model_count, r.enough) == (1, 1, 0, False)
    assert r.kappa is None and r.positive_agreement is None
    # with a lower bar the same single turn still gets no kappa… and a positive agreement 0
    r_low = {c.code: c for c in sc.agreement(codings, min_n=1).codes}["R_ACKNOWLEDGE"]
    assert r_low.kappa == pytest.approx(0.0) and r_low.positive_agreement == 0.0


def test_export_is_read_by_the_train_loader(clinic: Any, tmp_path: Path) -> None:
    from attunement.coding.data import read_examples

    store, ids, sid, _ = clinic
    _supervisor_review(store, ids, sid)
    with store.tx() as db:
        codings = sv.codings_for(db, store.keys, [sid], ids["sam"])
        found = sv.analysis(db, store.keys, sid)
    assert found is not None
    records = sc.training_records(codings, annotator="sam")
    path = tmp_path / "codes.jsonl"
    path.write_text(sc.to_jsonl(records), encoding="utf-8")
    examples = read_examples(path)
    assert len(examples) == 13  # the reviewed turns only
    by_id = {e.id: e for e in examples}
    c1, c4, c6 = (by_id[f"session-{sid}:{client_turn(n)}"] for n in (1, 4, 6))
    assert c1.codes == {"W_MINIMAL"} and c4.codes == set() and c6.codes == {"C_PARAMETERS"}
    t1 = by_id[f"session-{sid}:u0001"]
    assert t1.item.role == "therapist" and t1.codes == {"R_ACKNOWLEDGE"}
    assert t1.item.context == []
    # the text and the context come from the stored analysis, whatever was exported
    u = found.utterance(client_turn(6))
    assert c6.item.text == u.text
    assert c6.item.context == [(p.role.value, p.text) for p in found.context(u, 3)]
    assert {e.group for e in examples} == {f"session-{sid}"}
    everything = sc.training_records(codings, annotator="sam", all_utterances=True)
    path.write_text(sc.to_jsonl(everything), encoding="utf-8")
    assert len(read_examples(path)) == 24


def test_comment_encrypted_at_rest(clinic: Any, backend: str) -> None:
    store, ids, sid, _ = clinic
    with store.tx() as db:
        cid = sv.add_comment(
            db,
            store.keys,
            session_id=sid,
            author_id=ids["sam"],
            body=f"Notice the {CANARY} moment\r\nand the pause.",
            utterance_id=client_turn(2),
        )
    with store.tx() as db:
        (c,) = sv.comments_of(db, store.keys, sid)
        assert (c.id, c.author, c.author_role) == (cid, "sam", "supervisor")
        assert c.body == f"Notice the {CANARY} moment\nand the pause."
        assert c.utterance_id == client_turn(2) and c.episode_id is None
        raw = db.scalar(sa.select(SessionComment.body_enc))
        assert raw is not None and CANARY.encode() not in raw
    if backend.startswith("sqlite"):
        path = Path(backend.split(":///", 1)[1])
        blob = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    else:
        with store.engine.connect() as conn:
            blob = json.dumps(
                [str(r) for r in conn.execute(sa.text("SELECT * FROM session_comments"))]
            ).encode()
    assert CANARY.encode() not in blob


@pytest.mark.parametrize(
    ("body", "about", "where"),
    [
        ("  \n ", {}, "comment"),
        ("x" * (sv.MAX_COMMENT + 1), {}, "comment"),
        ("bell \x07", {}, "comment"),
        ("fine", {"utterance_id": "u9999"}, "utterance"),
        ("fine", {"episode_id": "ep-none"}, "episode"),
    ],
)
def test_invalid_comments_refused(
    clinic: Any, body: str, about: dict[str, str], where: str
) -> None:
    store, ids, sid, _ = clinic
    with store.tx() as db, pytest.raises(repo.InputError) as err:
        sv.add_comment(db, store.keys, session_id=sid, author_id=ids["sam"], body=body, **about)
    assert err.value.where == where
    assert "x" * 20 not in str(err.value) and "bell" not in str(err.value)


def test_deleting_the_client_deletes_comments_and_corrections(clinic: Any) -> None:
    store, ids, sid, client_id = clinic
    _supervisor_review(store, ids, sid)
    with store.tx() as db:
        sv.add_comment(db, store.keys, session_id=sid, author_id=ids["tess"], body="noted")
    with store.tx() as db:
        db.execute(sa.delete(Client).where(Client.id == client_id))
    with store.tx() as db:
        for table in (CodeCorrection, SessionComment):
            assert db.scalar(sa.select(sa.func.count()).select_from(table)) == 0


def test_attune_train_fits_a_model_on_the_export(tmp_path: Path) -> None:
    """The export is accepted end to end by ``attune train``'s function (static encoder)."""
    from attunement.coding.train import train_from_path

    decisions = {
        client_turn(n): {"W_MINIMAL": "present" if n in (1, 2, 3, 5) else "absent"}
        for n in range(1, 13)
    }
    coding = sc.apply_decisions(1, hand_session(), decisions)
    data = tmp_path / "codes.jsonl"
    data.write_text(sc.to_jsonl(sc.training_records([coding], annotator="sam")), "utf-8")
    result = train_from_path(
        data, tmp_path / "model", encoder="static", min_support=2, valid_fraction=0.0
    )
    card = result.model.card
    assert "W_MINIMAL" in card.codes() and "W_MINIMAL" not in card.skipped
    assert card.training["n_train"] == 12  # the reviewed client turns
    assert (tmp_path / "model").is_dir()
