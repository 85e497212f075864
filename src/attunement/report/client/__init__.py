"""Writers for the client course: JSON (``attunement.client/1``), HTML, terminal summary.

Writers only render; the course is computed by :mod:`attunement.course`. Files are
written atomically (temporary file in the same folder, then ``os.replace``).
"""

from attunement.report.client.files import atomic_write_text
from attunement.report.client.html import render_html, write_html
from attunement.report.client.json_ import course_json, write_json
from attunement.report.client.terminal import render_terminal

__all__ = [
    "atomic_write_text",
    "course_json",
    "render_html",
    "render_terminal",
    "write_html",
    "write_json",
]
