"""The client report as a PDF, built in memory with fpdf2 (pure Python, no temp files).

The same values as the printable HTML page (:func:`attunement.web.exports.report_values`),
in the same order: what needs attention first (open safety alerts, alerts across
sessions, open rupture episodes), then the course charts (the library's SVG, drawn by
fpdf2's SVG support), the questionnaire scores, the sessions and every episode.
Text is set in DejaVu Sans when the system has it (any script), else in the PDF core
font with characters outside Latin-1 replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from attunement.errors import missing_extra

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REPLACE = {"—": "-", "–": "-", "×": "x", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."}


class _Doc:
    def __init__(self, title: str) -> None:
        try:
            from fpdf import FPDF
        except ImportError:
            raise missing_extra("fpdf2", "web") from None
        pdf: FPDF = FPDF(format="A4")
        pdf.set_title(title)
        pdf.set_creator("Attunement")
        pdf.set_producer("Attunement")
        pdf.set_auto_page_break(True, margin=15)
        pdf.set_margins(16, 16, 16)
        self.unicode = (FONT_DIR / "DejaVuSans.ttf").is_file()
        if self.unicode:
            pdf.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            pdf.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.font = "body"
        else:
            self.font = "helvetica"
        pdf.add_page()
        self.pdf = pdf

    def text(self, value: object) -> str:
        s = "" if value is None else str(value)
        if self.unicode:
            return s
        for a, b in REPLACE.items():
            s = s.replace(a, b)
        return s.encode("latin-1", "replace").decode("latin-1")

    def heading(self, value: str, size: int = 13) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(self.font, "B", size)
        self.pdf.multi_cell(0, size * 0.55, self.text(value), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def para(self, value: object, size: int = 10, bold: bool = False) -> None:
        self.pdf.set_font(self.font, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.para(f"• {item}" if self.unicode else f"- {item}")

    def table(self, header: list[object], rows: list[list[object]]) -> None:
        if not rows:
            return
        self.pdf.set_font(self.font, "", 8)
        with self.pdf.table(first_row_as_headings=True, line_height=4.2) as table:
            for cells in [list(header), *rows]:
                row = table.row()
                for c in cells:
                    row.cell(self.text(c))
        self.pdf.ln(2)

    def svg(self, svg: str) -> None:
        self.pdf.image(svg.encode("utf-8"), w=self.pdf.epw)


def _value(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def build_pdf(values: dict[str, Any]) -> bytes:
    client, course = values["client"], values["course"]
    instruments = values["instruments"]
    doc = _Doc(f"Client report client-{client.id}")
    doc.heading(f"Client report: {client.pseudonym}", 16)
    doc.para(f"client-{client.id} · generated {values['generated']}", 9)
    doc.para(values["disclaimer"], 8)

    doc.heading("Needs attention")
    calm = True
    if values["safety"]:
        calm = False
        doc.para("Safety: answers that need your attention now", bold=True)
        lines = []
        for a in values["safety"]:
            inst = instruments.get(a.instrument)
            label = next((f.label for f in inst.flags if f.item == a.item), None) if inst else None
            name = inst.name if inst else a.instrument
            when = a.created_at.strftime("%Y-%m-%d %H:%M")
            lines.append(f"{name}: {label or 'risk item ' + a.item} ({when} UTC), not acknowledged")
        doc.bullets(lines)
    if course is not None and course.alerts:
        calm = False
        doc.para("Across sessions", bold=True)
        doc.bullets([f"{a.priority}: {a.text}" for a in course.alerts])
    if values["open_episodes"]:
        calm = False
        doc.para("Rupture episodes still open", bold=True)
        doc.bullets(
            [
                f"{e.id}: {e.kind}, {e.state.replace('_', ' ')}, from session "
                f"{_value(e.start_session)}"
                for e in values["open_episodes"]
            ]
        )
    if values["open_sessions"]:
        calm = False
        doc.para("Sessions with an episode left open", bold=True)
        doc.bullets(
            [
                f"session {_value(s.number)}: {s.summary.get('open_episodes')} open of "
                f"{s.summary.get('episodes')}"
                for s in values["open_sessions"]
            ]
        )
    if calm:
        doc.para("Nothing is open: no safety alert, course alert or open rupture episode.")

    if values["charts"]:
        doc.heading("Course")
        for traj, svg in values["charts"]:
            doc.para(f"{traj.name} (higher is {traj.higher_is})", bold=True)
            doc.svg(str(svg))
    if course is not None:
        rows = [
            [traj.name, p.session, p.date or "", _value(p.score.total), p.score.band or ""]
            for traj in course.trajectories.values()
            for p in traj.points
        ]
        if rows:
            doc.heading("Questionnaire scores")
            doc.table(["Questionnaire", "Session", "Date", "Total", "Band"], rows)
        if course.sessions:
            doc.heading("Sessions")
            doc.table(
                ["#", "Date", "Alliance", "Tension", "Transcript codes", "Repair moves"],
                [
                    [
                        s.number,
                        s.date or "",
                        _value(s.alliance),
                        _value(s.tension),
                        " ".join(f"{k} {v}" for k, v in s.markers.items()),
                        ", ".join(dict.fromkeys(s.repairs)),
                    ]
                    for s in course.sessions
                ],
            )
        if values["episodes"]:
            doc.heading("Rupture episodes")
            doc.table(
                ["Episode", "Kind", "State", "Sessions", "Alliance before/after", "Repair moves"],
                [
                    [
                        e.id,
                        e.kind,
                        e.state.replace("_", " "),
                        f"{_value(e.start_session)}–{_value(e.end_session)}",
                        f"{_value(e.pre_alliance)} / {_value(e.post_alliance)}",
                        ", ".join(e.repair_moves),
                    ]
                    for e in values["episodes"]
                ],
            )
        doc.heading("Dropout warning signs")
        doc.para(f"{course.dropout.level}, score {course.dropout.score:.2f}. {course.dropout.note}")
    else:
        doc.para("No answers and no analyzed, numbered sessions yet.")
    doc.para("Contains health information: store and share it as the clinical record.", 8)
    return bytes(doc.pdf.output())
