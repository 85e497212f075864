"""JSON output of the client course (schema ``attunement.client/1``, see docs/client.md)."""

from __future__ import annotations

from pathlib import Path

from attunement.course.model import ClientCourse
from attunement.report.client.files import atomic_write_text


def course_json(course: ClientCourse) -> str:
    return course.model_dump_json(indent=2) + "\n"


def write_json(course: ClientCourse, path: Path) -> Path:
    return atomic_write_text(path, course_json(course))
