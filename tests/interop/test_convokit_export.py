"""`attune export convokit`: the real ``convokit`` package loads what we write."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.io import read_session
from attunement.model import Session

EXAMPLE = Path(__file__).resolve().parents[2] / "src/attunement/examples/sessions"
convokit = pytest.importorskip("convokit")


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("analyzed")
    files = [EXAMPLE / "cheerful-goodbye.txt", EXAMPLE / "cbt-sleep.srt"]
    for n, f in enumerate(files, start=1):
        args = ["analyze", str(f), "--fast", "--json", str(out), "--client-id", "C-7"]
        assert main([*args, "--session-number", str(n), "--date", f"2026-03-0{n}"]) == 0
    return sorted(out.glob("*.session.json"))


def test_corpus_loads_and_round_trips(analyzed: list[Path], tmp_path: Path) -> None:
    corpus_dir = tmp_path / "corpus"
    assert main(["export", "convokit", *map(str, analyzed), "--out", str(corpus_dir)]) == 0
    for f in corpus_dir.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0  # PHI: owner only
    sessions: list[Session] = [read_session(p, fmt="json") for p in analyzed]
    corpus = convokit.Corpus(filename=str(corpus_dir))
    assert len(list(corpus.iter_conversations())) == len(sessions)
    assert len(list(corpus.iter_utterances())) == sum(len(s.utterances) for s in sessions)
    for s in sessions:
        conv = corpus.get_conversation(s.id)
        assert conv.check_integrity(verbose=False)
        assert conv.meta["client_id"] == "C-7"
        assert conv.meta["session_number"] == s.meta.session_number
        assert conv.meta["date"] == s.meta.date.isoformat()  # type: ignore[union-attr]
        assert conv.meta["model"] == s.metrics["coding"]["model"]
        assert conv.meta["metrics"] == json.loads(json.dumps(s.metrics))
        assert [e["id"] for e in conv.meta["episodes"]] == [e.id for e in s.episodes]
        previous = None
        for u in s.utterances:
            cu = corpus.get_utterance(f"{s.id}_{u.id}")
            assert cu.text == u.text and cu.reply_to == previous
            assert cu.timestamp == u.start
            assert cu.meta["role"] == u.role.value
            machine: dict[str, float] = {}
            for a in u.annotations:
                if a.source != "human" and a.probability >= 0.5:
                    machine[a.code] = max(machine.get(a.code, 0.0), a.probability)
            assert cu.meta["codes"] == machine
            assert cu.meta["features"] == pytest.approx(dict(u.features))
            assert cu.speaker.meta["role"] == u.role.value
            previous = cu.id
        for e in s.episodes:
            for ev in e.markers:
                assert e.id in corpus.get_utterance(f"{s.id}_{ev.utterance_id}").meta["episodes"]
    # the one client of both sessions is one speaker, named by the pseudonymous client id
    client = corpus.get_speaker("C-7")
    assert client.meta["role"] == "client"
    assert {c.id for c in client.iter_conversations()} == {s.id for s in sessions}
    # ConvoKit's own dump and reload keep our metadata
    corpus.dump("again", base_path=str(tmp_path))
    again = convokit.Corpus(filename=str(tmp_path / "again"))
    uid = f"{sessions[0].id}_{sessions[0].utterances[2].id}"
    assert dict(again.get_utterance(uid).meta) == dict(corpus.get_utterance(uid).meta)


def test_export_refuses_an_existing_corpus(
    analyzed: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c"
    assert main(["export", "convokit", str(analyzed[0]), "--out", str(out)]) == 0
    before = (out / "utterances.jsonl").read_bytes()
    assert main(["export", "convokit", str(analyzed[1]), "--out", str(out)]) == 2
    assert "already holds a corpus" in capsys.readouterr().err
    assert (out / "utterances.jsonl").read_bytes() == before
    assert (
        main(
            ["export", "convokit", str(analyzed[0]), str(analyzed[0]), "--out", str(tmp_path / "d")]
        )
        == 2
    )
    assert "given twice" in capsys.readouterr().err
