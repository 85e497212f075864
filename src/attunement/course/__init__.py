"""The client course: many sessions of one client, questionnaires, events and context.

``run_course(folder)`` → :class:`~attunement.course.model.ClientCourse` (JSON schema
``attunement.client/1``): trajectories per instrument, cross-session rupture episodes,
alliance rupture–repair sequences, dropout risk and context-weighted alerts.
"""

from attunement.course.context import ClientContext, Event, load_context
from attunement.course.engine import compute_course, run_course
from attunement.course.folder import ClientInputs, load_client_folder
from attunement.course.model import CLIENT_SCHEMA_VERSION, Alert, ClientCourse, CourseEpisode

__all__ = [
    "CLIENT_SCHEMA_VERSION",
    "Alert",
    "ClientContext",
    "ClientCourse",
    "ClientInputs",
    "CourseEpisode",
    "Event",
    "compute_course",
    "load_client_folder",
    "load_context",
    "run_course",
]
