"""Hostile and careless input: bounds at the model, damaged and inflating DOCX, session
numbers, and reading cost that stays linear (issue 8, part A)."""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from pydantic import ValidationError

from attunement.analysis.context_rules import ContextRules
from attunement.analysis.episodes import RuptureEpisodes
from attunement.cli.main import main
from attunement.course.folder import load_client_folder
from attunement.errors import MeasureError, TranscriptError
from attunement.io import read_session_bytes
from attunement.io.base import RawTurn
from attunement.io.docx import MAX_INFLATION, MAX_PARTS
from attunement.io.normalize import merge_turns
from attunement.io.times import MAX_SECONDS as READER_MAX_SECONDS
from attunement.model import Annotation, Role, Session, Speaker, Utterance
from attunement.model.limits import MAX_SECONDS, MAX_SESSION_NUMBER, MAX_UTTERANCES

SECRET = "Zebulon confided the river secret"


def _session_dict(n: int = 4) -> dict[str, Any]:
    s = Session(
        id="s1",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if i % 2 == 0 else "C",
                role=Role.THERAPIST if i % 2 == 0 else Role.CLIENT,
                text=f"{SECRET} number {i}.",
                start=1.0 * i,
                end=1.0 * i + 0.5,
            )
            for i in range(n)
        ],
    )
    return s.model_dump(mode="json")


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, *out: str) -> str:
    """``attune analyze`` on a session JSON; returns stderr after checking exit code 2."""
    path = tmp_path / "s.json"
    text = data if isinstance(data, str) else json.dumps(data)
    path.write_text(text, encoding="utf-8")
    code = main(["analyze", str(path), "--analyzers", "tone", *out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "internal error" not in err
    assert SECRET not in err and "input_value" not in err
    return err


def test_reader_and_model_share_the_time_cap() -> None:
    assert MAX_SECONDS == READER_MAX_SECONDS == 7 * 24 * 3600


@pytest.mark.parametrize("out", [(), ("--markdown", "-"), ("--html", "OUT")])
def test_infinite_start_is_refused_at_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out: tuple[str, ...]
) -> None:
    data = _session_dict()
    text = json.dumps(data).replace('"start": 2.0', '"start": Infinity', 1)
    assert "Infinity" in text
    args = tuple(str(tmp_path / "r.html") if a == "OUT" else a for a in out)
    err = _run(tmp_path, capsys, text, *args)
    assert "utterances.2.start" in err
    assert not (tmp_path / "r.html").exists()


def test_huge_finite_start_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _session_dict()
    data["utterances"][1]["start"] = 1e308
    data["utterances"][1]["end"] = None
    err = _run(tmp_path, capsys, data, "--markdown", "-")
    assert "utterances.1.start" in err and "604800" in err


def test_huge_index_is_a_clean_error_not_an_index_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _session_dict()
    data["utterances"][3]["index"] = 10**9
    err = _run(tmp_path, capsys, data)
    assert "utterances.3.index" in err and "position" in err


@pytest.mark.parametrize(
    ("edit", "where", "what"),
    [
        (lambda d: d["utterances"][2].update(id="u0001"), "utterances.2.id", "duplicate"),
        (lambda d: d["utterances"][1].update(speaker=SECRET), "utterances.1.speaker", "speakers"),
        (lambda d: d["utterances"][1].update(start=50.0), "utterances.1.end", "before it starts"),
        (lambda d: d["meta"].update(session_number=10**9), "meta.session_number", "10000"),
        (lambda d: d["speakers"][0].update(id="T" * 500), "speakers.0.id", "200"),
        (lambda d: d["speakers"].append(dict(d["speakers"][0])), "speakers.2.id", "duplicate"),
    ],
)
def test_inconsistent_sessions_name_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, where: str, what: str
) -> None:
    data = _session_dict()
    edit(data)
    err = _run(tmp_path, capsys, data)
    assert where in err and what in err


def test_model_errors_never_echo_the_value() -> None:
    data = _session_dict()
    data["utterances"][1]["speaker"] = SECRET
    with pytest.raises(ValidationError) as err:
        Session.model_validate(data)
    assert SECRET not in str(err.value)
    assert err.value.errors()[0]["loc"] == ("utterances", 1, "speaker")


def test_model_validation_stays_cheap() -> None:
    data = _session_dict(2)
    data["utterances"] = [
        dict(data["utterances"][i % 2], id=f"u{i:06d}", index=i, start=i / 10, end=None)
        for i in range(20_000)
    ]
    t0 = time.perf_counter()
    Session.model_validate(data)
    assert time.perf_counter() - t0 < 5.0  # well under a second here; generous for CI


# --- DOCX ------------------------------------------------------------------------------


def _docx_bytes(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, replace: dict[str, bytes], extra: int = 0) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for i in range(extra):
            z.writestr(f"extra/part{i}.xml", b"<a/>")
    return out.getvalue()


def test_damaged_word_xml_is_a_transcript_error() -> None:
    good = _docx_bytes(["T: Hello.", "C: Hi."])
    doc = zipfile.ZipFile(io.BytesIO(good)).read("word/document.xml").decode()
    head = doc.split("<w:body>", 1)[0]
    broken = _rezip(good, {"word/document.xml": (head + "<w:nobody/></w:document>").encode()})
    with pytest.raises(TranscriptError, match=r"b\.docx: not a valid DOCX file"):
        read_session_bytes(broken, "b.docx")


def test_damaged_docx_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _docx_bytes(["T: Hello.", "C: Hi."])
    path = tmp_path / "b.docx"
    path.write_bytes(_rezip(good, {"word/document.xml": b"<not-word/>"}))
    assert main(["analyze", str(path), "--analyzers", "tone", "-q"]) == 2
    err = capsys.readouterr().err
    assert "not a valid DOCX" in err and "internal error" not in err


def _filler(size: int) -> bytes:
    good = _docx_bytes(["T: Hello.", "C: Hi."])
    doc = zipfile.ZipFile(io.BytesIO(good)).read("word/document.xml").decode()
    head, tail = doc.split("<w:body>", 1)
    para = "<w:p><w:r><w:t>T: and so on</w:t></w:r></w:p>"
    body = para * (size // len(para) + 1)
    return _rezip(good, {"word/document.xml": (head + "<w:body>" + body + tail).encode()})


def test_docx_refused_by_declared_unpacked_size() -> None:
    data = _filler(600_000)  # ~600 kB of XML, a few kB compressed
    limit = 100_000
    assert len(data) < limit < 600_000 / MAX_INFLATION
    with pytest.raises(TranscriptError, match="too large once unpacked"):
        read_session_bytes(data, "big.docx", max_bytes=limit)


def test_docx_refused_by_compression_ratio() -> None:
    data = _filler(3_000_000)  # 3 MB of repeated XML: a ratio no Word file has
    with pytest.raises(TranscriptError, match="compressed suspiciously"):
        read_session_bytes(data, "bomb.docx")


def test_docx_with_thousands_of_parts_is_refused() -> None:
    data = _rezip(_docx_bytes(["T: Hello.", "C: Hi."]), {}, extra=MAX_PARTS + 1)
    with pytest.raises(TranscriptError, match="parts"):
        read_session_bytes(data, "many.docx")


# --- session numbers of client folders ----------------------------------------------------


def _client_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "client"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / name).write_text("T: How was it?\nC: Fine.\n", encoding="utf-8")
    return folder


def test_huge_session_number_in_file_name_is_refused_fast(tmp_path: Path) -> None:
    folder = _client_folder(tmp_path, "session-" + "9" * 200 + ".txt")
    t0 = time.perf_counter()
    with pytest.raises(MeasureError, match=f"over {MAX_SESSION_NUMBER}"):
        load_client_folder(folder, analyze=False)
    assert time.perf_counter() - t0 < 2.0


def test_huge_session_number_through_the_client_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _client_folder(tmp_path, "session-10000000.txt")
    assert main(["client", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"over {MAX_SESSION_NUMBER}" in err and "internal error" not in err


# --- cost stays linear --------------------------------------------------------------------


def test_long_run_of_continuation_lines_reads_in_linear_time() -> None:
    lines = ["T: Tell me.", "C: Well."] + ["and then another line of it"] * 50_000
    data = ("\n".join(lines) + "\nT: I see.\n").encode()
    t0 = time.perf_counter()
    s = read_session_bytes(data, "long.txt")
    assert time.perf_counter() - t0 < 10.0  # quadratic joining took minutes
    assert s.utterances[1].text.count("another line") == 50_000


def test_merging_many_turns_of_one_speaker_is_linear() -> None:
    turns = [RawTurn("C", "word", float(i), None, i + 1) for i in range(100_000)]
    t0 = time.perf_counter()
    merged = merge_turns(turns)
    assert time.perf_counter() - t0 < 5.0
    assert len(merged) == 1 and merged[0].text.count("word") == 100_000


def _coded_session(n: int) -> Session:
    """Every client turn a minimal answer, every therapist turn an apology: the context
    rules and the episode grouping look back from every turn."""
    utts = []
    for i in range(n):
        client = i % 2 == 1
        code = "W_MINIMAL" if client else "R_ACKNOWLEDGE"
        utts.append(
            Utterance(
                id=f"u{i + 1:05d}",
                index=i,
                speaker="C" if client else "T",
                role=Role.CLIENT if client else Role.THERAPIST,
                text="Fine." if client else "I'm sorry, how are you?",
                annotations=[Annotation(code=code, probability=0.9, source="coding@1")],
            )
        )
    return Session(
        id="coded",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=utts,
    )


def test_context_rules_and_episodes_are_linear_on_long_sessions() -> None:
    s = _coded_session(10_000)
    t0 = time.perf_counter()
    ContextRules()(s)
    RuptureEpisodes()(s)
    took = time.perf_counter() - t0
    assert took < 15.0, took  # ~1 s here; the quadratic versions took minutes
    assert s.episodes and math.isfinite(took)


def test_rules_index_by_position_not_by_the_index_field() -> None:
    s = _coded_session(6)
    s.utterances[3].index = 10**9  # mutated after validation: rules must not trust it
    ContextRules()(s)
    assert "context" in s.metrics


def test_more_turns_than_a_session_can_have_is_refused_before_analysis(capsys: Any) -> None:
    # a 49 MB text file is ~900k turns: analysing it would take gigabytes (about 10 kB
    # per turn), so the reader refuses past MAX_UTTERANCES with the count, not the words
    lines = [f"{'T' if i % 2 == 0 else 'C'}: {SECRET} {i}" for i in range(MAX_UTTERANCES + 1)]
    with pytest.raises(TranscriptError, match="over the 50,000 one session may have") as info:
        read_session_bytes("\n".join(lines).encode(), "long.txt")
    assert SECRET not in str(info.value)
    with pytest.raises(ValidationError):
        Session(
            id="s",
            speakers=[Speaker(id="T", role=Role.THERAPIST)],
            utterances=[
                Utterance(id=f"u{i}", index=i, speaker="T", role=Role.THERAPIST, text="x")
                for i in range(MAX_UTTERANCES + 1)
            ],
        )


def test_cli_session_number_cap_agrees_with_the_model() -> None:
    from attunement.cli import analyze

    assert analyze._MAX_SESSION_NUMBER == MAX_SESSION_NUMBER
