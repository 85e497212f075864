"""A client's course, computed by ``attunement.course`` from what the store holds.

The stored questionnaire answers become the library's administrations and the analyzed
sessions its session models; :func:`attunement.course.compute_course` does all the
scoring, trajectories, episodes and alerts. Nothing is computed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attunement.store import checks, repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DbSession

    from attunement.course import ClientCourse
    from attunement.store.crypto import Keyring


def client_course(db: DbSession, keys: Keyring, client: repo.ClientView) -> ClientCourse | None:
    """None while the client has neither answers nor analyzed, numbered sessions."""
    from attunement.course import ClientContext, ClientInputs, compute_course
    from attunement.model import Session

    sessions = {}
    for s in repo.sessions_of(db, keys, client.id):
        if s.job_status == "done" and s.number is not None:
            result = repo.session_result(db, keys, s.id)
            if result is not None:
                sessions[s.number] = Session.model_validate_json(result)
    administrations = checks.administrations(db, keys, client.id)
    if not sessions and not administrations:
        return None
    context = ClientContext(
        client_id=f"client-{client.id}",
        treatment_start=client.start_date,
        history_neglect_or_abuse=client.history_neglect_or_abuse,
        fragile=client.fragile,
        sensitivity=client.sensitivity,
    )
    inputs = ClientInputs(
        folder=Path(f"client-{client.id}"),
        context=context,
        instruments=checks.instruments(),
        administrations=administrations,
        sessions=sessions,
    )
    return compute_course(inputs)
