"""`attune transcribe`: recordings → transcripts with speakers, times and vocal cues."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("transcribe")
    def transcribe_cmd(
        audio: list[Path] = typer.Argument(
            ..., help="Recordings: WAV, MP3, M4A/AAC, OGG/Opus, WebM, MP4, FLAC."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Folder for the transcripts (default: print the text)."
        ),
        tracks: bool = typer.Option(
            False,
            "--tracks",
            help="The files are one session, one file per participant (speaker = file name).",
        ),
        speakers: int | None = typer.Option(
            None, "--speakers", min=1, max=6, help="Number of voices in a mixed track."
        ),
        channels: str = typer.Option(
            "auto",
            "--channels",
            help="Stereo: 'split' (one speaker per channel), 'mix', or 'auto' (decide from "
            "how alike the channels are).",
        ),
        asr_model: Path | None = typer.Option(
            None, "--asr-model", help="A CTranslate2 Whisper model folder (default: tiny.en)."
        ),
        therapist: list[str] = typer.Option(
            [], "--therapist", help="Speaker label of a therapist ('Speaker 1', a file name)."
        ),
        client: list[str] = typer.Option([], "--client", help="Speaker label of a client."),
        fmt: str = typer.Option("json", "--format", help="'json' (session) or 'text'."),
        max_hours: float = typer.Option(4.0, "--max-hours", min=0.01, max=24.0),
    ) -> None:
        """Transcribe on this machine: speech regions (Silero VAD), words with times
        (Whisper), who spoke (per-speaker tracks, or voices clustered in a mixed track),
        roles, and vocal cues per utterance (pause before, speech rate, loudness, pitch
        variation, overlaps). Audio is read, never copied or written. Analyze the result
        with `attune analyze`, or analyze a recording directly: `attune analyze REC.wav`."""
        from attunement.cli.transcribe_run import run

        run(
            audio,
            out=out,
            tracks=tracks,
            speakers=speakers,
            channels=channels,
            asr_model=asr_model,
            therapist=therapist,
            client=client,
            fmt=fmt,
            max_seconds=max_hours * 3600,
        )
