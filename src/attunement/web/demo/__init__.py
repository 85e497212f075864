"""The demo clinic: a fresh SQLite database with fictional users, clients, analyzed
sessions and questionnaire answers, for ``attune serve --demo`` and ``make demo``.

The clinic is described in ``clinic.toml`` (written for this project; nothing in it is a
real person). Sessions are analyzed by the real pipeline (the worker, as for uploads);
answers are spread from per-session totals over the instrument's items and stored like a
client's submitted check. Appointments, a couple case, check links and a supervisor's
review come from the features' own store functions (:mod:`attunement.web.demo.features`);
every date is moved so that the story's ``today`` is the day of the build. Passwords are
random per build and the admin's two-factor secret is printed, not bypassed: the demo
signs in exactly as a clinic would.

The database and key are built in a temporary folder inside the demo folder and moved
into place only when complete, so a failed build leaves the previous demo (or nothing).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attunement.errors import AttunementError
from attunement.web.demo import features

if TYPE_CHECKING:
    from attunement.analysis.base import Analyzer
    from attunement.measures.instruments import Instrument
    from attunement.store.db import Store

DB_NAME = "demo.db"
KEY_NAME = "demo.key"


class DemoError(AttunementError):
    """The demo clinic could not be built."""


@dataclass
class DemoLogin:
    username: str
    role: str
    password: str


@dataclass
class DemoClinic:
    folder: Path
    database_url: str
    key_file: Path
    logins: list[DemoLogin] = field(default_factory=list)
    admin_totp_secret: str = ""
    admin_totp_uri: str = ""
    sessions: int = 0
    responses: int = 0
    appointments: int = 0
    members: int = 0
    links: int = 0
    corrections: int = 0
    comments: int = 0

    def describe(self, address: str) -> str:
        lines = [f"Demo clinic ({self.sessions} sessions analyzed) at {address}", ""]
        lines += [f"  {x.username:<8} {x.role:<11} password: {x.password}" for x in self.logins]
        lines += [
            "",
            "  The admin also needs a two-factor code (no bypass, not even in the demo).",
            f"  Secret for an authenticator app: {self.admin_totp_secret}",
            f"  {self.admin_totp_uri}",
            "  or print the current code with:",
            '  .venv/bin/python -c "import pyotp; '
            f"print(pyotp.TOTP('{self.admin_totp_secret}').now())\"",
            "",
            f"  Also in it: {self.appointments} appointments (dana's Harbor: the one the "
            "therapist forgot), a couple case (lee's Cedar),",
            f"  {self.links} unanswered check links (/checks) and morgan's review of "
            "robin's sessions (/supervision).",
        ]
        return "\n".join(lines)


def load_description() -> dict[str, Any]:
    from attunement.safeparse import load_toml

    data = resources.files("attunement.web.demo").joinpath("clinic.toml").read_bytes()
    loaded: dict[str, Any] = load_toml(data, "clinic.toml")
    return loaded


def spread(total: int, n_items: int, top: int) -> list[int]:
    """``total`` over ``n_items`` item values in 0..top, as even as possible."""
    if not 0 <= total <= n_items * top:
        raise DemoError("a demo total is outside the instrument's range", where="clinic.toml")
    base, extra = divmod(total, n_items)
    return [base + (i < extra) for i in range(n_items)]


def item_answers(
    instrument: Instrument, total: int, *, risk_item: bool = False
) -> dict[str, float]:
    """Answers whose score is ``total`` (PHQ-9: item 9 stays 0 unless ``risk_item``)."""
    items = [i for i in instrument.items if i.type == "choice" and i.scored]
    if instrument.id == "phq9":
        rest = [i for i in items if i.id != "phq9_9"]
        values = spread(total - int(risk_item), len(rest), 3)
        out = {i.id: float(v) for i, v in zip(rest, values, strict=True)}
        out["phq9_9"] = float(risk_item)
        return out
    top = int(max(o.value for o in instrument.options_for(items[0])))
    if instrument.scoring.method == "mean":
        return {i.id: float(total) for i in items}
    return {i.id: float(v) for i, v in zip(items, spread(total, len(items), top), strict=True)}


def build_demo(
    folder: Path,
    pipeline: Callable[[], Sequence[Analyzer]] | None = None,
    *,
    model: str = "fast",
) -> DemoClinic:
    """Build the demo clinic in ``folder`` (``demo.db``, ``demo.key``), replacing a
    previous demo there; only those two files (and SQLite's side files) are touched."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    try:
        clinic = _build(work, pipeline, model)
        for suffix in ("-wal", "-shm", "-journal"):
            (folder / (DB_NAME + suffix)).unlink(missing_ok=True)
        if (work / KEY_NAME).exists():  # absent when ATTUNEMENT_KEY supplies the key
            os.replace(work / KEY_NAME, folder / KEY_NAME)
        os.replace(work / DB_NAME, folder / DB_NAME)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    clinic.folder = folder
    clinic.key_file = folder / KEY_NAME
    clinic.database_url = f"sqlite:///{folder / DB_NAME}"
    return clinic


def _build(work: Path, pipeline: Callable[[], Sequence[Analyzer]] | None, model: str) -> DemoClinic:
    from attunement.store.db import Store
    from attunement.store.worker import Worker, default_pipeline
    from attunement.web.demo import features

    desc = load_description()
    url = f"sqlite:///{work / DB_NAME}"
    clinic = DemoClinic(folder=work, database_url=url, key_file=work / KEY_NAME)
    store = Store.open(url, work / KEY_NAME)
    counts = features.Counts()
    try:
        users = _users(store, desc, clinic)
        _clients(store, desc, users, clinic, counts)
        worker = Worker(store, pipeline or (lambda: default_pipeline(model)))
        done = worker.drain()
        if done != clinic.sessions:
            raise DemoError("not every demo session was analyzed", where="clinic.toml")
        _check_jobs(store)
        features.add_supervision(store, desc, counts)
    finally:
        store.close()
    for name in ("appointments", "members", "links", "corrections", "comments"):
        setattr(clinic, name, getattr(counts, name))
    return clinic


def _users(store: Store, desc: dict[str, Any], clinic: DemoClinic) -> dict[str, int]:
    from attunement.store import audit, repo
    from attunement.web import security

    ids: dict[str, int] = {}
    with store.tx() as db:
        repo.clinic_settings(db).name = str(desc["clinic"])
        for u in desc["users"]:
            password = "demo-" + secrets.token_urlsafe(9)
            secret = security.new_totp_secret() if u["role"] == "admin" else None
            row = repo.create_user(
                db,
                u["name"],
                u["role"],
                security.hash_password(password),
                store.keys.encrypt_text(secret, "users.totp_secret") if secret else None,
            )
            ids[u["name"]] = row.id
            audit.append(
                db,
                actor_id=None,
                actor="demo",
                action="user.create",
                object_type="user",
                object_id=row.id,
            )
            clinic.logins.append(DemoLogin(u["name"], u["role"], password))
            if secret:
                clinic.admin_totp_secret = secret
                clinic.admin_totp_uri = security.totp_uri(secret, u["name"])
        for u in desc["users"]:
            if "supervisor" in u:
                sup = repo.user_by_name(db, u["supervisor"])
                trainee = repo.user_by_name(db, u["name"])
                assert sup is not None and trainee is not None
                repo.assign_trainee(db, sup, trainee)
    return ids


def _clients(
    store: Store,
    desc: dict[str, Any],
    users: dict[str, int],
    clinic: DemoClinic,
    counts: features.Counts,
) -> None:
    from attunement.store import audit, checks, mail, repo
    from attunement.store.tables import utcnow

    instruments = checks.instruments()
    now = utcnow()
    shift = features.shift_days(desc, now.astimezone(mail.MailSettings.from_env().zone()).date())
    desc = _shifted(desc, shift)
    with store.tx() as db:
        for c in desc["clients"]:
            client = repo.create_client(
                db,
                store.keys,
                therapist_id=users[c["therapist"]],
                pseudonym=c["pseudonym"],
                start_date=dt.date.fromisoformat(c["start"]),
                history_neglect_or_abuse=bool(c.get("neglect", False)),
                fragile=bool(c.get("fragile", False)),
                sensitivity=c.get("sensitivity", "normal"),
            )
            audit.append(
                db,
                actor_id=None,
                actor="demo",
                action="client.create",
                object_type="client",
                object_id=client.id,
            )
            numbers = counts.sessions.setdefault(c["key"], {})
            for number, session in enumerate(c["sessions"], start=1):
                date = dt.date.fromisoformat(session["date"])
                numbers[number], _job = repo.add_session(
                    db,
                    store.keys,
                    client_id=client.id,
                    uploaded_by=users[c["therapist"]],
                    filename=f"session-{number}.txt",
                    data=session["text"].strip().encode("utf-8") + b"\n",
                    number=number,
                    date=date,
                )
                clinic.sessions += 1
            for key, inst_id in features.SERIES.items():
                totals = c.get(key, [])
                for number, total in enumerate(totals, start=1):
                    date = _answer_date(c, number)
                    last = number == len(totals)
                    risk = bool(c.get("risk_item")) and inst_id == "phq9" and last
                    checks.add_response(
                        db,
                        store.keys,
                        client_id=client.id,
                        instrument=instruments[inst_id],
                        session_number=number,
                        date=date,
                        answers=features.answers_for(instruments[inst_id], total, risk_item=risk),
                    )
                    clinic.responses += 1
            therapist = users[c["therapist"]]
            zone = mail.MailSettings.from_env().zone()
            features.add_schedule(db, store.keys, c, client.id, zone=zone, now=now, counts=counts)
            members, answers = features.add_members(
                db, store.keys, c, client.id, answer_date=_answer_date, counts=counts
            )
            clinic.responses += answers
            features.add_links(
                db, c, client.id, created_by=therapist, members=members, now=now, counts=counts
            )


def _shifted(desc: dict[str, Any], days: int) -> dict[str, Any]:
    """A copy of the description with every date moved by ``days``."""

    def move(value: str) -> str:
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()

    clients = []
    for c in desc["clients"]:
        c = dict(c, start=move(c["start"]))
        c["sessions"] = [dict(s, date=move(s["date"])) for s in c["sessions"]]
        c["appointments"] = [dict(a, date=move(a["date"])) for a in c.get("appointments", [])]
        clients.append(c)
    return dict(desc, clients=clients)


def _answer_date(client: dict[str, Any], number: int) -> dt.date:
    """The session's date when there is one; later answers a week apart."""
    sessions = client["sessions"]
    if number <= len(sessions):
        return dt.date.fromisoformat(sessions[number - 1]["date"])
    last = dt.date.fromisoformat(sessions[-1]["date"])
    return last + dt.timedelta(days=7 * (number - len(sessions)))


def _check_jobs(store: Store) -> None:
    from sqlalchemy import select

    from attunement.store.tables import Job

    with store.tx() as db:
        failed = db.scalars(select(Job.id).where(Job.status != "done")).all()
    if failed:
        raise DemoError(f"{len(failed)} demo session(s) could not be analyzed", where="clinic.toml")
