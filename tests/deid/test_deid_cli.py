"""`attune deid` end to end: output, report, key, grouping, errors, no network."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest

pytest.importorskip("nicknames")

from attunement.cli.main import main
from attunement.io import read_session

WEEK1 = (
    "Therapist: Morning, Branwen. How did it go with Gethin at the weekend?\n"
    "Client: Gethin came up to Aberdeen on the 14th of May. He's 41 now, can you believe.\n"
    "Therapist: And your mum?\n"
    "Client: She rang from 0161 496 0732, her new number. Write to her at "
    "m.pryce@postbox.example.org if you need to.\n"
)
WEEK2 = (
    "Therapist: Last time you mentioned gethin's visit.\n"
    "Client: yeah gethin and me had a row about the money\n"
)
OTHER = "Therapist: Hello Osagie, come in.\nClient: Thanks. Funmilayo says hi.\n"
ORIGINALS = (
    "Branwen",
    "Gethin",
    "gethin",
    "Aberdeen",
    "14th of May",
    "41",
    "0161 496 0732",
    "m.pryce@postbox.example.org",
    "Osagie",
    "Funmilayo",
)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "branwen").mkdir(parents=True)
    (root / "osagie").mkdir()
    (root / "branwen" / "2024-05-20 Branwen Pryce.txt").write_text(WEEK1)
    (root / "branwen" / "2024-05-27 Branwen Pryce.txt").write_text(WEEK2)
    (root / "osagie" / "first.txt").write_text(OTHER)
    return root


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(folder.rglob("*")) if p.is_file())


def test_writes_deidentified_sessions_a_report_and_a_private_key(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, key = tmp_path / "shared", tmp_path / "private" / "key.json"
    key.parent.mkdir()
    assert main(["deid", str(corpus), "--out", str(out), "--key", str(key)]) == 0
    summary = capsys.readouterr().out
    assert "3 session(s) of 2 client(s)" in summary
    shared = _all_text(out)
    for original in ORIGINALS:
        assert original not in shared, original
    assert "Pryce" not in shared and "2024-05-20" not in shared  # file names stay behind
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert files == [
        "client_1/session_01.json",
        "client_1/session_02.json",
        "client_2/session_01.json",
        "deid_report.json",
    ]
    s1 = read_session(out / "client_1" / "session_01.json")
    s2 = read_session(out / "client_1" / "session_02.json")
    # Gethin is one placeholder in both sessions, lower case included
    gethin = s1.utterances[0].text.split("with ")[1].split(" ")[0]
    assert gethin.startswith("[PERSON_")
    assert gethin in s2.utterances[0].text and gethin in s2.utterances[1].text
    assert s1.utterances[1].text.count("[") >= 4  # person, place, date, age
    # the other client's numbering starts again
    other = read_session(out / "client_2" / "session_01.json")
    assert "[PERSON_1]" in other.utterances[0].text
    report = json.loads((out / "deid_report.json").read_text())
    first = report["files"][0]
    assert first["replaced"]["PHONE"] == 1 and first["replaced"]["EMAIL"] == 1
    rep = first["replacements"][0]
    utt = next(u for u in s1.utterances if u.id == rep["where"])
    assert utt.text[rep["start"] : rep["end"]] == rep["placeholder"]
    # the key holds the originals, only its owner can read it
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    doc = json.loads(key.read_text())
    assert doc["groups"]["client_1"][gethin] == ["Gethin", "gethin"]
    assert doc["files"]["client_1/session_01.json"].endswith("2024-05-20 Branwen Pryce.txt")


def test_text_output_reads_back_and_speaker_names_are_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "named.txt"
    src.write_text("Dr. Halloran: Hello Ines.\nInes: Hi, Dr Halloran.\nDr. Halloran: Sit down.\n")
    out = tmp_path / "shared"
    assert main(["deid", str(src), "--out", str(out), "--format", "text"]) == 0
    text = (out / "client_1" / "session_01.txt").read_text()
    assert "Halloran" not in text and "Ines" not in text
    session = read_session(out / "client_1" / "session_01.txt")
    roles = {s.id: s.role.value for s in session.speakers}
    assert roles == {"Dr. PERSON_1": "therapist", "PERSON_2": "client"}


def test_group_by_all_shares_placeholders_across_clients(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    assert main(["deid", str(corpus), "--out", str(out), "--group-by", "all"]) == 0
    assert sorted(p.name for p in (out / "client_1").iterdir()) == [
        "session_01.json",
        "session_02.json",
        "session_03.json",
    ]


def test_a_bad_input_stops_the_run_and_leaves_nothing(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "osagie" / "broken.vtt").write_bytes(b"\x00\x01 WEBVTT nothing \x00")
    out = tmp_path / "shared"
    assert main(["deid", str(corpus), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.vtt" in err[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in"]  # no hidden partial folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group-by", "clinic"], "--group-by must be one of"),
        (["--format", "xml"], "--format must be one of"),
    ],
)
def test_bad_options_are_one_line_errors(
    corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert main(["deid", str(corpus), "--out", str(tmp_path / "o"), *args]) == 2
    assert message in capsys.readouterr().err


def test_refuses_a_full_output_folder_and_a_key_inside_it(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    assert main(["deid", str(corpus), "--out", str(full)]) == 2
    assert (full / "keep.txt").read_text() == "x"
    out = tmp_path / "shared"
    assert main(["deid", str(corpus), "--out", str(out), "--key", str(out / "k.json")]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "inside the shared folder" in err
    assert not out.exists()


def test_presidio_option_runs_offline(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("presidio_analyzer")
    calls: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    out = tmp_path / "shared"
    assert main(["deid", str(corpus), "--out", str(out), "--presidio"]) == 0
    assert calls == []
    report = json.loads((out / "deid_report.json").read_text())
    assert report["engine"] == {"presidio": True}
    assert "0161 496 0732" not in _all_text(out)


def test_distinct_speaker_labels_stay_distinct_and_ids_are_renumbered(tmp_path: Path) -> None:
    src = tmp_path / "family.json"
    src.write_text(
        json.dumps(
            {
                "utterances": [
                    {
                        "id": "rowan-intake-1",
                        "speaker": "Therapist",
                        "text": "Welcome, both of you.",
                    },
                    {"id": "rowan-intake-2", "speaker": "Elizabeth", "text": "Thank you."},
                    {"id": "rowan-intake-3", "speaker": "Liz", "text": "Hi."},
                ]
            }
        )
    )
    out = tmp_path / "shared"
    assert main(["deid", str(src), "--out", str(out)]) == 0
    session = read_session(out / "client_1" / "session_01.json")
    ids = [s.id for s in session.speakers]
    assert len(set(ids)) == 3
    assert [u.id for u in session.utterances] == ["u0001", "u0002", "u0003"]
    assert "rowan" not in (out / "deid_report.json").read_text()


def test_the_key_never_overwrites_a_file(corpus: Path, tmp_path: Path) -> None:
    original = corpus / "osagie" / "first.txt"
    before = original.read_text()
    out = tmp_path / "shared"
    assert main(["deid", str(corpus), "--out", str(out), "--key", str(original)]) == 2
    assert original.read_text() == before
    assert not out.exists()


def test_inputs_from_a_csv_alone_grouped_by_its_client_id(tmp_path: Path) -> None:
    for name, text in (("a.txt", WEEK1), ("b.txt", WEEK2), ("c.txt", OTHER)):
        (tmp_path / name).write_text(text)
    csv = tmp_path / "sessions.csv"
    csv.write_text("path,client_id\na.txt,k1\nb.txt,k1\nc.txt,k2\n")
    out = tmp_path / "shared"
    assert main(["deid", "--inputs-csv", str(csv), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["client_1", "client_2", "deid_report.json"]
    assert len(list((out / "client_1").iterdir())) == 2
