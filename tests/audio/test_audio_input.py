"""Recognising and decoding recordings, and every kind of bad audio input."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from attunement.audio.probe import is_audio, sniff_audio
from attunement.cli.main import main


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", True),
        (b"ID3\x04\x00\x00\x00\x00\x00", True),
        (b"\xff\xfb\x90\x64\x00", True),
        (b"OggS\x00\x02", True),
        (b"\x1aE\xdf\xa3\x9fB\x86", True),
        (b"\x00\x00\x00\x20ftypM4A ", True),
        (b"\xff\xfeT\x00h\x00", False),  # UTF-16 text, not MPEG audio
        (b"Therapist: hello", False),
        (b"WEBVTT\n\n00:00", False),
    ],
)
def test_audio_is_told_by_its_first_bytes(head: bytes, expected: bool) -> None:
    assert sniff_audio(head) is expected


def _wav(path: Path, samples: np.ndarray, rate: int = 16_000, frames: int | None = None) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    if frames is not None:  # rewrite the header to claim another length
        data = bytearray(path.read_bytes())
        data[40:44] = (frames * 2).to_bytes(4, "little")
        data[4:8] = (frames * 2 + 36).to_bytes(4, "little")
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "webm", "m4a", "mp4", "flac"])
def test_every_container_decodes_to_16k(spoken: Path, tmp_path: Path, fmt: str) -> None:
    av = pytest.importorskip("av")
    from attunement.audio.decode import RATE, decode

    codec = {
        "mp3": "mp3",
        "ogg": "libopus",
        "webm": "libopus",
        "m4a": "aac",
        "mp4": "aac",
        "flac": "flac",
    }[fmt]
    src = decode(spoken / "client.wav").samples[0][: RATE * 5]
    out = tmp_path / f"clip.{fmt}"
    with av.open(str(out), "w") as container:
        stream = container.add_stream(codec, rate=48_000 if "opus" in codec else 44_100)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.repeat(src[None], 1, 0), format="fltp", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format=stream.format, layout="mono", rate=stream.rate)
        for f in resampler.resample(frame):
            for packet in stream.encode(f):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert is_audio(out)
    decoded = decode(out)
    assert decoded.samples.shape[0] == 1
    assert abs(decoded.seconds - 5.0) < 0.2


def test_stereo_keeps_its_two_channels(spoken: Path) -> None:
    from attunement.audio.decode import decode

    d = decode(spoken / "stereo.wav")
    assert d.samples.shape[0] == 2 and d.samples.dtype == np.float32


def _fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_not_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("av")
    fake = tmp_path / "session.mp3"
    fake.write_bytes(b"ID3" + b"\x00" * 64 + b"this is not mpeg audio at all" * 10)
    err = _fails(["transcribe", str(fake), "--out", str(tmp_path / "o")], capsys)
    assert "session.mp3" in err
    assert not (tmp_path / "o").exists()


def test_truncated_file(spoken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.wav"
    data = (spoken / "mixed.wav").read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    err = _fails(["transcribe", str(cut)], capsys)
    assert "truncated" in err


def test_silence_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("faster_whisper")
    quiet = tmp_path / "quiet.wav"
    _wav(quiet, np.random.default_rng(0).normal(0, 1e-4, 16_000 * 20))
    assert "no speech found" in _fails(["transcribe", str(quiet)], capsys)


@pytest.mark.parametrize("args", [["--speakers", "1"], ["--tracks"]])
def test_one_speaker_only(
    spoken: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    err = _fails(["transcribe", str(spoken / "therapist.wav"), *args], capsys)
    assert "only 1 speaker found" in err


def test_over_the_length_limit(spoken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(["transcribe", str(spoken / "mixed.wav"), "--max-hours", "0.01"], capsys)
    assert "over the 0:00:36 limit" in err


def test_ten_hour_file_is_refused_before_decoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("av")
    long = tmp_path / "long.wav"
    _wav(long, np.zeros(16_000), frames=16_000 * 3600 * 10)
    err = _fails(["transcribe", str(long)], capsys)
    assert "10:00:00" in err and "limit" in err


def test_a_video_without_sound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    av = pytest.importorskip("av")
    video = tmp_path / "screen.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height = 64, 48
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert "no audio track" in _fails(["transcribe", str(video)], capsys)


def test_an_upload_is_decoded_from_memory(spoken: Path, tmp_path: Path) -> None:
    from attunement.io import read_session_bytes

    before = set(Path("/tmp").iterdir())
    session = read_session_bytes((spoken / "stereo.wav").read_bytes(), "upload.wav")
    assert session.source == "upload.wav" and session.format == "audio"
    assert len(session.speakers) == 2
    assert set(Path("/tmp").iterdir()) - before == set()  # nothing written


def test_nothing_is_sent_or_left_behind(spoken: Path, tmp_path: Path) -> None:
    """ONNX Runtime (the VAD) would write a device id and send usage events; the hub
    client would look for files online. A run leaves no file outside --out."""
    import os
    import subprocess
    import sys

    home, tmp, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "out"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORT_", "HF_"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), XDG_CACHE_HOME=str(home / ".cache"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "attunement.cli.main",
            "transcribe",
            str(spoken / "stereo.wav"),
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    left = [p for p in (*home.rglob("*"), *tmp.rglob("*")) if p.is_file()]
    assert left == []
    assert [p.name for p in out.iterdir()] == ["stereo.json"]


def test_a_model_folder_missing_its_tokenizer_is_refused_offline(
    tmp_path: Path, spoken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from attunement.audio.asr import bundled_model

    model = tmp_path / "my-model"
    model.mkdir()
    for name in ("model.bin", "config.json"):
        (model / name).symlink_to(bundled_model() / name)
    err = _fails(["transcribe", str(spoken / "stereo.wav"), "--asr-model", str(model)], capsys)
    assert "no tokenizer.json" in err


def test_split_needs_stereo(spoken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fails(["transcribe", str(spoken / "mixed.wav"), "--channels", "split"], capsys)
    assert "needs a stereo file" in err


def test_tracks_of_the_same_name_stay_two_speakers(spoken: Path, tmp_path: Path) -> None:
    from attunement.audio.transcribe import transcribe

    for who in ("therapist", "client"):
        (tmp_path / who).mkdir()
        (tmp_path / who / "audio.wav").write_bytes((spoken / f"{who}.wav").read_bytes())
    session = transcribe([tmp_path / "therapist" / "audio.wav", tmp_path / "client" / "audio.wav"])
    assert sorted(s.id for s in session.speakers) == ["audio", "audio (2)"]
