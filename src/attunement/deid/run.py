"""The `attune deid` job: read, group by client, de-identify, write — all or nothing.

Output goes to a hidden folder beside ``out`` and is renamed into place only when every
input was read and written; on any error the folder is removed and nothing is left.
Output files are named by group and order (``client_1/session_01.json``): input file
names can hold a client's name and are never copied.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attunement.errors import AttunementError

GROUP_BY = ("auto", "folder", "file", "all")
FORMATS = ("json", "text")
REPORT = "deid_report.json"


def _read(path: str, meta: dict[str, Any]) -> Any:
    from attunement.io import read_session

    return read_session(path).with_meta(meta)


def _group_key(path: str, session: Any, group_by: str, order: int) -> str:
    if group_by == "all":
        return "all"
    if group_by == "file":
        return f"file:{order}"
    if group_by == "auto" and session.meta.client_id:
        return f"client:{session.meta.client_id}"
    return f"folder:{Path(path).resolve().parent}"


def _sort_key(item: tuple[int, str, Any]) -> tuple[Any, ...]:
    order, _, s = item
    return (
        s.meta.session_number is None,
        s.meta.session_number or 0,
        s.meta.date is None,
        str(s.meta.date or ""),
        order,
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def run_deid(
    items: Sequence[tuple[str, dict[str, Any]]],
    out: Path,
    *,
    group_by: str = "auto",
    fmt: str = "json",
    key: Path | None = None,
    use_presidio: bool = False,
) -> str:
    """De-identify every input; return a one-line summary (counts only)."""
    from attunement.deid.session import deidentify_group
    from attunement.report.transcript import as_text

    if group_by not in GROUP_BY:
        raise AttunementError(f"--group-by must be one of {', '.join(GROUP_BY)}")
    if fmt not in FORMATS:
        raise AttunementError(f"--format must be one of {', '.join(FORMATS)}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AttunementError("the output folder exists and is not empty", where=str(out))
    if not out.parent.is_dir():
        raise AttunementError("the output folder's parent does not exist", where=str(out))
    if key is not None:
        if _inside(key, out):
            raise AttunementError(
                "the key must not be written inside the shared folder", where=str(key)
            )
        if key.exists() or key.is_symlink():
            raise AttunementError("the key file exists (it is never overwritten)", where=str(key))
        if not key.parent.is_dir():
            raise AttunementError("the key's folder does not exist", where=str(key))
    groups: dict[str, list[tuple[int, str, Any]]] = {}
    for order, (path, meta) in enumerate(items):
        session = _read(path, meta)
        groups.setdefault(_group_key(path, session, group_by, order), []).append(
            (order, path, session)
        )
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise AttunementError(
            f"cannot create the output ({exc.strerror})", where=str(out)
        ) from None
    totals: Counter[str] = Counter()
    report: dict[str, Any] = {"engine": {"presidio": use_presidio}, "groups": [], "files": []}
    key_doc: dict[str, Any] = {"groups": {}, "files": {}}
    try:
        for gi, members in enumerate(groups.values(), start=1):
            name = f"client_{gi}"
            members.sort(key=_sort_key)
            result = deidentify_group([m[2] for m in members], name, use_presidio)
            (tmp / name).mkdir()
            for (_, path, _), session, rep in zip(
                members, result.sessions, result.reports, strict=True
            ):
                ext = "txt" if fmt == "text" else "json"
                rel = f"{name}/session_{session.meta.session_number:02d}.{ext}"
                body = (
                    as_text(session)
                    if fmt == "text"
                    else session.model_dump_json(indent=2, exclude_none=True)
                )
                (tmp / rel).write_text(body, encoding="utf-8")
                totals.update(rep.replaced)
                report["files"].append(
                    {
                        "output": rel,
                        "group": name,
                        "utterances": len(session.utterances),
                        "replaced": dict(rep.replaced),
                        "replacements": rep.replacements,
                    }
                )
                key_doc["files"][rel] = path
            report["groups"].append(
                {
                    "group": name,
                    "sessions": len(members),
                    "distinct_placeholders": result.placeholders,
                }
            )
            key_doc["groups"][name] = result.key
        report["totals"] = dict(totals)
        (tmp / REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AttunementError(f"cannot write the output ({exc.strerror})", where=str(out)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if key is not None:
        # after the output is in place, so a failed run never leaves a key behind; a key
        # that cannot be written takes the output with it
        try:
            _write_private(key, json.dumps(key_doc, indent=2, ensure_ascii=False) + "\n")
        except BaseException as exc:
            shutil.rmtree(out, ignore_errors=True)
            if isinstance(exc, OSError):
                raise AttunementError(
                    f"cannot write the key ({exc.strerror}); no output was kept", where=str(key)
                ) from None
            raise
    n = sum(len(m) for m in groups.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "nothing found"
    return (
        f"{n} session(s) of {len(groups)} client(s) de-identified to {out} ({parts}); "
        f"report: {out / REPORT}"
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.link(tmp, path)  # fails if the key appeared meanwhile: never overwrite
        tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
