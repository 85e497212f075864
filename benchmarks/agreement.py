"""Double coding of corpus v2: draw a blind sample, then measure agreement per code.

    python benchmarks/agreement.py sample --turns 1000 --out corpus/v2/double/blind.txt
    python benchmarks/agreement.py score corpus/v2/double/coder-b.txt \
        [--json benchmarks/results/agreement.json]

``sample`` picks whole sessions (seeded, across all batch files) until at least ``--turns``
turns, and writes them with every code replaced by ``?``: a second coder, who never saw
the first coding, fills them in from ``corpus/v2/CODING.md`` alone. ``score`` matches the
second coding to the first by session id and turn text
(turns a writer inserted after the sample was drawn are left out, and counted) and
reports, per binary code, both coders' positives, raw agreement and Cohen's kappa (with a
bootstrap 95 % interval, positive agreement and Krippendorff's alpha, from
``attunement.agreement``, the library of ``attune agree``), plus kappa for behaviour
(7 classes) and each empathy mechanism (3 levels).
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

from attunement.agreement.compute import code_agreement
from attunement.agreement.stats import Ratings, cohen_kappa
from attunement.coding.corpus_format import (
    CLIENT_CODES,
    EMPATHY,
    THERAPIST_CODES,
    format_session,
    parse_text,
    read_files,
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus" / "v2" / "sessions"


def sample(turns: int, out: Path, seed: int) -> int:
    sessions = read_files(CORPUS.glob("*.txt"))
    rng = random.Random(seed)
    order = list(sessions)
    rng.shuffle(order)
    chosen, n = [], 0
    for s in order:
        if n >= turns:
            break
        chosen.append(s)
        n += len(s.turns)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(format_session(s, blind=True) for s in chosen), encoding="utf-8")
    print(f"{len(chosen)} sessions, {n} turns written blind to {out}")
    return 0


def _kappa(a: list[Any], b: list[Any]) -> float | None:
    return cohen_kappa(a, b)


def _binary(code: str, ya: list[bool], yb: list[bool]) -> dict[str, Any]:
    """One code's statistics from the library `attune agree` uses (bootstrap CIs, alpha)."""
    values = np.array([ya, yb], dtype=float).T.reshape(-1, 2)
    r = code_agreement(Ratings(code, "binary", ["a", "b"], ["0", "1"], values), seed=7)
    return {
        "a_pos": sum(ya),
        "b_pos": sum(yb),
        "agreement": r.get("percent_agreement"),
        "kappa": r.get("cohen_kappa"),
        "kappa_ci": r.get("cohen_kappa_ci"),
        "positive_agreement": r.get("positive_agreement"),
        "alpha": r.get("alpha_nominal"),
    }


def score(second: Path, out: Path | None) -> int:
    first = {s.id: s for s in read_files(CORPUS.glob("*.txt"))}
    other = parse_text(second.read_text(encoding="utf-8"), second.name)
    pairs = []
    unmatched = 0
    for s in other:
        ref = first.get(s.id)
        if ref is None:
            print(f"error: {second.name}: session {s.id} is not in the corpus", file=sys.stderr)
            return 2
        # Writers may have inserted turns after the sample was drawn: align by text and
        # compare the turns both codings share (the count is reported).
        a_txt = [(t.role, t.text) for t in ref.turns]
        b_txt = [(t.role, t.text) for t in s.turns]
        matcher = difflib.SequenceMatcher(a=a_txt, b=b_txt, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                pairs.append((ref.turns[block.a + k], s.turns[block.b + k]))
        unmatched += len(s.turns) - sum(b.size for b in matcher.get_matching_blocks())
    codes: dict[str, Any] = {}
    kappas = []
    for code in (*CLIENT_CODES, *THERAPIST_CODES):
        role = "client" if code in CLIENT_CODES else "therapist"
        rows = [(code in a.codes, code in b.codes) for a, b in pairs if a.role == role]
        codes[code] = _binary(code, [r[0] for r in rows], [r[1] for r in rows])
        k = codes[code]["kappa"]
        if k is not None:
            kappas.append(k)
    ther = [(a, b) for a, b in pairs if a.role == "therapist"]
    doc = {
        "command": f"python benchmarks/agreement.py score {second.as_posix()}",
        "sessions": len(other),
        "turns": len(pairs),
        "turns_not_in_corpus_now": unmatched,
        "codes": codes,
        "mean_kappa": sum(kappas) / len(kappas) if kappas else None,
        "behaviour_kappa": _kappa([a.behaviour for a, _ in ther], [b.behaviour for _, b in ther]),
        "empathy_kappa": {
            e: _kappa([a.empathy[e] for a, _ in ther], [b.empathy[e] for _, b in ther])
            for e in EMPATHY
        },
    }
    text = json.dumps(doc, indent=1) + "\n"
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("sample")
    sp.add_argument("--turns", type=int, default=1000)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--seed", type=int, default=7)
    sc = sub.add_parser("score")
    sc.add_argument("second", type=Path)
    sc.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.cmd == "sample":
        return sample(args.turns, args.out, args.seed)
    return score(args.second, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
