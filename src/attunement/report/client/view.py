"""What the client reports open with, computed once from a course: the alerts that need
the clinician's attention and the cross-session rupture episodes still open.

Nothing is scored here; this only selects and orders what ``attunement.course`` found.
"""

from __future__ import annotations

from dataclasses import dataclass

from attunement.course.model import Alert, ClientCourse, CourseEpisode

#: course episode states that are not (yet) repaired, the most pressing first
OPEN_STATES = ("ended_therapy", "unresolved", "open", "working_through")


@dataclass(frozen=True)
class CourseAttention:
    alerts: list[Alert]  # high and medium priority, the library's order (high first)
    settled: list[Alert]  # low priority: something already repaired or settling
    episodes: list[CourseEpisode]  # open cross-session episodes, most pressing first
    closed: list[CourseEpisode]  # resolved or enhanced

    @property
    def calm(self) -> str:
        """The line shown when nothing needs attention."""
        if self.closed:
            n = len(self.closed)
            return (
                f"Nothing needs your attention: no open alerts, and the {n} rupture "
                f"episode{'s' * (n != 1)} across sessions {'were' if n != 1 else 'was'} "
                "resolved."
            )
        return "Nothing needs your attention: no open alerts and no open rupture episodes."


def course_attention(course: ClientCourse) -> CourseAttention:
    alerts = [a for a in course.alerts if a.priority != "low"]
    settled = [a for a in course.alerts if a.priority == "low"]
    episodes = [e for e in course.episodes if e.state in OPEN_STATES]
    episodes.sort(key=lambda e: OPEN_STATES.index(e.state))
    closed = [e for e in course.episodes if e.state not in OPEN_STATES]
    return CourseAttention(alerts, settled, episodes, closed)
