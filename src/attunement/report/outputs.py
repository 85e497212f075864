"""Where reports go: inputs → output names, and a ``--html PATH`` option → files.

Kept apart from the writers so the CLI (and a batch runner) share one rule set:

* ``-`` means standard output;
* an existing folder, a path ending in ``/``, a path without a suffix, or any path when
  there are several inputs, is a folder: one file per input, named after the input;
* otherwise (one input) the path is the file itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from attunement.errors import AttunementError
from attunement.report.sanitize import safe_name

STDOUT = "-"
_SKIP_NAMES = re.compile(r"^(readme|license|changelog|responses|client)(\..*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """Where one writer's output goes: a folder (one file per input), a file, or stdout."""

    option: str
    kind: str  # "stdout" | "file" | "folder"
    path: Path | None

    def file_for(self, name: str, suffix: str) -> Path | None:
        """The output file for the input called ``name``; None for stdout."""
        if self.kind == "stdout":
            return None
        assert self.path is not None
        return self.path if self.kind == "file" else self.path / f"{name}{suffix}"

    def prepare(self) -> None:
        """Create the folder (or the file's parent) before anything is written."""
        if self.path is None:
            return
        folder = self.path if self.kind == "folder" else self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AttunementError(
                f"cannot create folder ({exc.strerror or type(exc).__name__})", where=self.option
            ) from None


def resolve_target(option: str, spec: str, n_inputs: int) -> Target:
    """Interpret the value ``spec`` given to ``option`` (e.g. ``--html``)."""
    if spec == STDOUT:
        return Target(option, "stdout", None)
    path = Path(spec)
    if path.is_dir() or spec.endswith(("/", "\\")) or not path.suffix:
        return Target(option, "folder", path)
    if n_inputs > 1:
        if path.exists():
            raise AttunementError(
                "several inputs need a folder here, not a file", where=f"{option} {path.name}"
            )
        return Target(option, "folder", path)
    return Target(option, "file", path)


def output_stem(path: Path, relative_to: Path | None = None) -> str:
    """An output name for an input file: its stem (``x.session.json`` → ``x``), prefixed
    with the sub-folders under ``relative_to`` when it came from a folder argument."""
    name = path.name
    for ending in (".session.json",):
        if name.lower().endswith(ending):
            name = name[: -len(ending)]
            break
    else:
        name = path.stem
    if relative_to is not None:
        # the path as found under the folder, not resolved: a symlink may point anywhere
        try:
            inner = path.parent.relative_to(relative_to).parts
        except ValueError:
            inner = ()
        top = relative_to.resolve().name
        name = "-".join((*((top,) if top else ()), *inner, name))
    return name


def unique_names(names: Iterable[str]) -> list[str]:
    """Make output names unique (``a``, ``a-2``, ``a-3``) so no report overwrites another."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        key = n.lower()
        if key in seen:
            seen[key] += 1
            n = f"{n}-{seen[key]}"
        else:
            seen[key] = 1
        out.append(n)
    return out


def expand_inputs(args: Sequence[Path], extensions: Iterable[str]) -> list[tuple[Path, str]]:
    """Files to analyze with their output names; folders are searched (sorted, recursive),
    skipping hidden files, READMEs, and client-folder files (``responses.*``,
    ``client.*``) that are not transcripts. Paths that are not folders are kept as given
    (a missing file is reported when it is read)."""
    exts = {e.lower().lstrip(".") for e in extensions}
    found: list[tuple[Path, str]] = []
    for arg in args:
        if not arg.is_dir():
            found.append((arg, output_stem(arg)))
            continue
        for p in sorted(arg.rglob("*")):
            rel = p.relative_to(arg).parts
            if (
                not p.is_file()
                or any(part.startswith(".") for part in rel)
                or _SKIP_NAMES.match(p.name)
                or p.suffix.lower().lstrip(".") not in exts
            ):
                continue
            found.append((p, output_stem(p, relative_to=arg)))
    # names come from input file names: no control, bidi or path characters in outputs
    names = unique_names(safe_name(n) for _, n in found)
    return [(p, n) for (p, _), n in zip(found, names, strict=True)]
