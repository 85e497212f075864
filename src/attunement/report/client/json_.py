"""JSON output of the client course (schema ``attunement.client/1``, see docs/client.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from attunement.course.model import ClientCourse
from attunement.measures.instruments import Instrument
from attunement.measures.responses import Administration
from attunement.report.client.files import atomic_write_text


def course_json(course: ClientCourse) -> str:
    return course.model_dump_json(indent=2) + "\n"


def write_json(course: ClientCourse, path: Path) -> Path:
    return atomic_write_text(path, course_json(course))


def bundle_json(
    admins: Iterable[Administration], instruments: Mapping[str, Instrument], client_id: str
) -> str:
    """The FHIR R4 Bundle of the client's answers as text (what ``--fhir`` writes)."""
    import json

    from attunement.measures.fhir import build_bundle

    return json.dumps(build_bundle(admins, instruments, client_id), indent=2) + "\n"
