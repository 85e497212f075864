from pathlib import Path

import pytest

from attunement.errors import TranscriptError
from attunement.io import detect_format, read_session, read_session_bytes, read_sessions

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("labelled.txt", "text"),
        ("zoom.vtt", "vtt"),
        ("teams.vtt", "vtt"),
        ("session.srt", "srt"),
        ("labels.csv", "csv"),
        ("simple.json", "json"),
    ],
)
def test_detection_by_content_ignores_a_wrong_extension(name: str, fmt: str) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_format(FIXTURES / name) == fmt
    assert detect_format(data, name="renamed.txt") == fmt
    assert detect_format(data, name="no_extension") == fmt


def test_text_starting_with_bracket_timestamp_is_not_json() -> None:
    assert detect_format(b"[00:00:01] T: hi\n[00:00:02] C: hey\n", "x") == "text"


def test_fmt_forces_a_reader_and_unknown_fmt_is_an_error() -> None:
    data = (FIXTURES / "labelled.txt").read_bytes()
    assert read_session_bytes(data, "x.dat", fmt="text").format == "text"
    with pytest.raises(TranscriptError, match="unknown format 'pdf'"):
        read_session_bytes(data, "x.dat", fmt="pdf")
    with pytest.raises(TranscriptError, match=r"no cues found|cue has no timing"):
        read_session_bytes(data, "x.dat", fmt="vtt")


def test_file_over_max_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"T: hello\nC: hi\n" * 1000)
    with pytest.raises(TranscriptError, match=r"big\.txt: file is .* over the .* limit"):
        read_session(path, max_bytes=1000)
    with pytest.raises(TranscriptError, match="over the"):
        read_session_bytes(path.read_bytes(), "big.txt", max_bytes=1000)


def test_missing_file_and_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match=r"nope\.txt: file not found"):
        read_session(tmp_path / "nope.txt")
    with pytest.raises(TranscriptError, match="is a folder"):
        read_session(tmp_path)


def test_error_names_base_name_not_the_full_path(tmp_path: Path) -> None:
    folder = tmp_path / "Client Jane Roe"
    folder.mkdir()
    path = folder / "s.txt"
    path.write_bytes(b"no labels here\n")
    with pytest.raises(TranscriptError) as err:
        read_session(path)
    assert "Jane" not in str(err.value)


def test_read_sessions_is_lazy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    stream = read_sessions([FIXTURES / "zoom.vtt", bad])
    first = next(stream)
    assert first.format == "vtt"
    with pytest.raises(TranscriptError, match=r"bad\.txt: file is empty"):
        next(stream)
