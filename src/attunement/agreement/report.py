"""The agreement report: read the coders, compute every code and scale, write JSON/CSV.

:func:`agreement_report` is what ``attune agree`` (and ``benchmarks/agreement.py``) call.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attunement.agreement.build import codings_from_sessions, ratings_by_code, ratings_by_scale
from attunement.agreement.compute import (
    DEFAULT_BOOT,
    DEFAULT_LEVEL,
    code_agreement,
    session_icc,
)
from attunement.agreement.table import Coding, expand, read_coder_table, read_ratings
from attunement.errors import SchemaError

FORMAT = "attunement.agreement/1"
MISSING_NOTE = (
    "Cohen's kappa uses the units both coders coded (n_both); Fleiss' kappa the units every "
    "coder coded (n_complete); Krippendorff's alpha and percent agreement every unit with "
    "at least two codings (n_pairable), missing codings being part of alpha's method."
)

#: columns of the CSV output, in order (one row per code, then one per rating scale)
CSV_COLUMNS = (
    "code",
    "kind",
    "n_units",
    "n_pairable",
    "n_both",
    "n_complete",
    "percent_agreement",
    "positive_agreement",
    "cohen_kappa",
    "cohen_kappa_quadratic",
    "mean_pairwise_kappa",
    "fleiss_kappa",
    "alpha_nominal",
    "alpha_ordinal",
    "icc2_1",
    "icc3_1",
)


def parse_coder(spec: str) -> tuple[str, str]:
    """``NAME=PATH`` → (name, path)."""
    name, sep, path = spec.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise SchemaError("--coder takes NAME=FILE (a coder table, session JSON or a folder)")
    return name.strip(), path.strip()


def agreement_report(
    tables: Sequence[Path] = (),
    coders: Sequence[tuple[str, str]] = (),
    ratings: Sequence[Path] = (),
    *,
    boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    mapping: Mapping[str, str] | None = None,
    codes: set[str] | None = None,
) -> dict[str, Any]:
    """Per-code agreement of every coder found in ``tables`` (each row names its coder)
    and ``coders`` (``(name, spec)``: a coder table, or session JSON files, a folder or a
    glob); ICC per scale of the ``ratings`` tables."""
    if boot < 0 or not 0 < level < 1:
        raise SchemaError("--boot must be ≥ 0 and the CI level between 0 and 1")
    rows: list[Coding] = []
    for t in tables:
        rows.extend(read_coder_table(Path(t), mapping=mapping))
    json_specs: list[tuple[str, list[Path]]] = []
    for name, spec in coders:
        files = expand(spec)
        if all(f.suffix.lower() == ".json" for f in files):
            json_specs.append((name, files))
        else:
            for f in files:
                rows.extend(read_coder_table(f, coder=name, mapping=mapping))
    by_index = bool(rows) and all(r.unit.startswith("#") for r in rows)
    if rows and not by_index and any(r.unit.startswith("#") for r in rows):
        raise SchemaError("tables mix 'utterance_id' and 'index'; use one of them")
    known = {r.session for r in rows}
    wanted = codes if codes is not None else ({r.code for r in rows} or None)
    for name, files in json_specs:
        rows.extend(codings_from_sessions(files, name, known, by_index, wanted))
    if codes is not None:
        rows = [r for r in rows if r.code in codes]
    scales = [r for p in ratings for r in read_ratings(Path(p))]
    if not rows and not scales:
        raise SchemaError("nothing to compare: give coder tables, --coder or --ratings")
    per_code, order = ratings_by_code(rows)
    if rows and len(order) < 2:
        raise SchemaError("agreement needs at least two coders; the input names one")
    report: dict[str, Any] = {
        "format": FORMAT,
        "coders": order,
        "n_boot": boot,
        "ci_level": level,
        "seed": seed,
        "missing": MISSING_NOTE,
        "codes": {r.code: code_agreement(r, boot, seed, level) for r in per_code},
        "scales": {
            scale: session_icc(scale, cs, y, boot, seed, level)
            for scale, cs, y in ratings_by_scale(scales)
        },
    }
    return report


def to_csv(report: Mapping[str, Any]) -> str:
    """One row per code and per scale: the headline statistics (CIs are in the JSON)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for name, r in report["codes"].items():
        w.writerow([_name(name) if c == "code" else _cell(r.get(c)) for c in CSV_COLUMNS])
    for name, r in report["scales"].items():
        row = {"code": _name(name), "kind": "rating", "n_units": r["n_sessions_rated"]}
        row["n_complete"] = r["n_sessions"]
        row.update({k: r.get(k) for k in ("icc2_1", "icc3_1")})
        w.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    return buf.getvalue()


def _cell(v: object) -> str:
    return "" if v is None else str(v)


def _name(name: str) -> str:
    """A lab's code or scale name, never read as a spreadsheet formula."""
    return "'" + name if name[:1] in ("=", "+", "-", "@") else name
