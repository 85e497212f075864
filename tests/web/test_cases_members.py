"""Couples, family and group cases: people in a case, each with their own check link, their
answers stored per person and charted as per-person trajectories by the library."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from clinic_helpers import World, csrf_of, page_csrf
from fastapi.testclient import TestClient

from attunement.store import audit, cases
from attunement.store.tables import CheckLink, CheckResponse
from attunement.store.tables_cases import CaseMember

LINK = re.compile(r'id="new-link">(http://testserver/check/[A-Za-z0-9_-]+)<')
MEMBER_OPTION = re.compile(r'<option value="(\d+)">Partner B \(partner\)</option>')


def _add(world: World, owner: str, label: str, role: str, age_band: str = "") -> int:
    browser = world.browser(owner)
    client_id = world.clients[owner]
    r = browser.post(
        f"/clients/{client_id}/members",
        data={"csrf_token": page_csrf(browser), "label": label, "role": role, "age_band": age_band},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/clients/{client_id}"
    with world.store.tx() as db:
        found = [m for m in cases.members_of(db, world.store.keys, client_id) if m.label == label]
    assert len(found) == 1
    return found[0].id


def _link(world: World, owner: str, instrument: str, member: int | None, number: int) -> str:
    browser = world.browser(owner)
    r = browser.post(
        f"/clients/{world.clients[owner]}/checks",
        data={
            "csrf_token": page_csrf(browser),
            "instrument": instrument,
            "session_number": str(number),
            "member": "" if member is None else str(member),
        },
    )
    assert r.status_code == 200, r.status_code
    m = LINK.search(r.text)
    assert m
    return m.group(1).removeprefix("http://testserver")


def _answer(world: World, path: str, values: dict[str, str]) -> None:
    anon = TestClient(world.app)
    form = anon.get(path)
    assert form.status_code == 200
    r = anon.post(path, data=values | {"csrf_token": csrf_of(form.text)})
    assert r.status_code == 200 and "your answers were received" in r.text


def test_a_couple_case_has_per_person_links_answers_and_trajectories(world: World) -> None:
    alice = world.browser("alice")
    client_id = world.clients["alice"]
    page = alice.get(f"/clients/{client_id}").text
    assert "One person (an individual case)" in page and 'id="check-member"' not in page
    a = _add(world, "alice", "Partner A", "partner")
    b = _add(world, "alice", "Partner B", "partner")
    page = alice.get(f"/clients/{client_id}").text
    assert "Couple case, 2 active people." in page
    assert MEMBER_OPTION.search(page), "the check link form has a 'for whom' select"
    # the labels are encrypted at rest
    with world.store.tx() as db:
        blobs = db.scalars(sa.select(CaseMember.label_enc)).all()
    assert blobs and all(b"Partner" not in blob for blob in blobs)

    for number, (va, vb) in enumerate([("8", "7"), ("9", "3")], start=2):
        _answer(
            world,
            _link(world, "alice", "alliance_check", a, number),
            {k: va for k in ("heard", "goals", "approach", "fit")},
        )
        _answer(
            world,
            _link(world, "alice", "alliance_check", b, number),
            {k: vb for k in ("heard", "goals", "approach", "fit")},
        )
    with world.store.tx() as db:
        links = db.scalars(sa.select(CheckLink).where(CheckLink.member_id.is_not(None))).all()
        responses = db.scalars(
            sa.select(CheckResponse).where(CheckResponse.member_id.is_not(None))
        ).all()
    assert {link.member_id for link in links} == {a, b}
    assert sorted(r.member_id for r in responses if r.member_id) == [a, a, b, b]

    course = alice.get(f"/api/clients/{client_id}/course").json()["course"]
    trajs = course["trajectories"]
    ta, tb = trajs[f"alliance_check_m{a}"], trajs[f"alliance_check_m{b}"]
    assert ta["name"] == "Alliance check — Partner A" and tb["name"] == "Alliance check — Partner B"
    assert [p["score"]["total"] for p in ta["points"]] == [8.0, 9.0]
    assert [p["score"]["total"] for p in tb["points"]] == [7.0, 3.0]
    # two people's alliance series are not mixed into the one session-level series
    assert ta["role"] == tb["role"] == "other"
    assert any("answered by several people" in w for w in course["warnings"])
    page = alice.get(f"/clients/{client_id}").text
    assert "Alliance check — Partner A" in page and "Alliance check — Partner B" in page


def test_age_band_sets_the_ors_cutoff_per_person(world: World) -> None:
    alice = world.browser("alice")
    client_id = world.clients["alice"]
    child = _add(world, "alice", "Child", "child", "child")
    teen = _add(world, "alice", "Teen", "child", "adolescent")
    for member in (child, teen):
        _answer(
            world, _link(world, "alice", "ors", member, 5), {f"ors_{n}": "6.5" for n in range(1, 5)}
        )
    trajs = alice.get(f"/api/clients/{client_id}/course").json()["course"]["trajectories"]
    ors_child, ors_teen = trajs[f"ors_m{child}"], trajs[f"ors_m{teen}"]
    assert ors_child["cutoff"] == 32 and ors_teen["cutoff"] == 28
    assert ors_child["points"][0]["score"]["total"] == 26.0
    assert ors_child["name"] == "ORS — Child"
    assert alice.get(f"/clients/{client_id}").text.count("Family case") == 1


def test_members_are_validated_deactivated_and_scoped(world: World) -> None:
    alice = world.browser("alice")
    client_id = world.clients["alice"]
    r = alice.post(
        f"/clients/{client_id}/members",
        data={"csrf_token": page_csrf(alice), "label": "X" * 41, "role": "partner"},
    )
    assert r.status_code == 400 and "label: at most 40 characters" in r.text
    assert "X" * 41 not in r.text  # errors never quote the input
    r = alice.post(
        f"/clients/{client_id}/members",
        data={"csrf_token": page_csrf(alice), "label": "Someone", "role": "boss"},
    )
    assert r.status_code == 400 and "role: must be one of" in r.text
    member = _add(world, "alice", "Group member 1", "member")
    # bob's client cannot get a link for alice's member, nor can bob deactivate it
    bob = world.browser("bob")
    r = bob.post(
        f"/clients/{world.clients['bob']}/checks",
        data={"csrf_token": page_csrf(bob), "instrument": "phq9", "member": str(member)},
    )
    assert r.status_code == 400 and "for whom: not a person in this case" in r.text
    r = bob.post(f"/members/{member}/deactivate", data={"csrf_token": page_csrf(bob)})
    assert r.status_code == 404
    r = alice.post(
        f"/members/{member}/deactivate",
        data={"csrf_token": page_csrf(alice)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with world.store.tx() as db:
        assert not cases.is_active_member(db, client_id, member)
        actions = [e.action for e in audit.recent(db, 5)]
    assert "case_member.deactivate" in actions
    # an inactive member gets no new link
    r = alice.post(
        f"/clients/{client_id}/checks",
        data={"csrf_token": page_csrf(alice), "instrument": "phq9", "member": str(member)},
    )
    assert r.status_code == 400
    listed = alice.get(f"/api/clients/{client_id}/members").json()
    assert {"label": "Group member 1", "active": False}.items() <= next(
        m for m in listed if m["id"] == member
    ).items()
    # the supervisor of another trainee sees none of it
    assert world.browser("sam").get(f"/api/clients/{client_id}/members").status_code == 404


def test_case_kind_is_derived_from_the_active_members() -> None:
    import datetime as dt

    def m(role: str, active: bool = True) -> cases.MemberView:
        return cases.MemberView(1, 1, "x", role, None, active, dt.datetime(2026, 1, 1))

    assert cases.case_kind([]) == "individual"
    assert cases.case_kind([m("client")]) == "individual"
    assert cases.case_kind([m("partner"), m("partner")]) == "couple"
    assert cases.case_kind([m("parent"), m("child")]) == "family"
    assert cases.case_kind([m("member"), m("member"), m("member")]) == "group"
    assert cases.case_kind([m("partner"), m("partner", active=False)]) == "individual"


def test_member_labels_survive_key_rotation(backend: str, tmp_path: Path) -> None:
    from attunement.store import repo
    from attunement.store.db import Store
    from attunement.store.rotate import encrypted_columns, rotate_key

    assert ("case_members", "label_enc") in encrypted_columns()
    key_file = tmp_path / "k.key"
    store = Store.open(backend, key_file)
    try:
        with store.tx() as db:
            user = repo.create_user(db, "rota", "therapist", "h")
            client = repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="P")
            cases.add_member(db, store.keys, client_id=client.id, label="Parent 1", role="parent")
        rotate_key(store.engine, key_file)
    finally:
        store.close()
    reopened = Store.open(backend, key_file)
    try:
        with reopened.tx() as db:
            (member,) = cases.members_of(db, reopened.keys, client.id)
        assert member.label == "Parent 1" and member.role == "parent"
    finally:
        reopened.close()
