"""The CLI entry: usage errors are one clear message and exit 2, never an 'internal error'."""

from __future__ import annotations

import pytest

from attunement import __version__
from attunement.cli.main import EXIT_USER_ERROR, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"attune {__version__}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-command"], "No such command"),
        (["analyze"], "Missing argument"),
        (["analyze", "x.txt", "--no-such-option"], "No such option"),
        (["client", "."], None),  # a folder without responses: the project's own error
    ],
)
def test_usage_errors_exit_2_without_internal_error(
    argv: list[str], expected: str | None, capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    if expected:
        assert expected in err
