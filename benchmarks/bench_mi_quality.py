"""Does the session attunement score tell high- from low-quality MI sessions? (AnnoMI dev)

Run: ``HF_HUB_OFFLINE=1 python benchmarks/bench_mi_quality.py [--data PATH] [--boot 2000]``

AnnoMI (Wu et al.) transcribes real motivational-interviewing demonstration videos and labels
each transcript ``mi_quality`` high or low. That label is about MI skill, which overlaps with
attunement (reflections, empathy, not pushing advice) but is not the same thing, so the AUC
here is a plausibility check of the score, not a validation. The file is evaluation-only
data: nothing from it is copied into the project; the script skips when it is absent.

For each transcript a Session is built here (not by the library readers): rows are ordered
by ``utterance_id``, duplicate annotator rows are dropped (first kept), ``interlocutor``
gives the role, ``utterance_text`` the text, ``timestamp`` (HH:MM:SS) the start time;
consecutive rows of one speaker are merged into one turn, as the readers do. The pipeline
is ``build_pipeline(available())`` with the static encoder (the coding model, context rules
and episodes included when they load). Reported per quality group: mean attunement score and
components; then the ROC AUC (high = positive class) of the score, of each component and of
two trivial baselines measured in the same run (therapist share of words and mean therapist
turn length, both negated: MI favours a therapist who talks less — the direction is fixed
in advance, not read off the data), each with a stratified bootstrap 95 % CI over
transcripts. Episode counts and the failure rate are negated too (fewer = better).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from attunement.analysis.base import PipelineContext
from attunement.analysis.pipeline import analyze, available, build_pipeline
from attunement.errors import AttunementError
from attunement.model import Role, Session, Speaker, Utterance, default_codebook

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "annomi" / "annomi_dev.csv"


def _seconds(ts: str) -> float | None:
    try:
        h, m, s = (int(x) for x in ts.strip().split(":"))
    except ValueError:
        return None
    return float(3600 * h + 60 * m + s)


def load_sessions(path: Path) -> list[tuple[str, Session]]:
    """(mi_quality, Session) per transcript."""
    rows: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
    quality: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            tid, uid = r["transcript_id"], int(r["utterance_id"])
            rows[tid].setdefault(uid, r)  # several annotators: keep the first row
            quality[tid] = r["mi_quality"]
    out = []
    for tid in sorted(rows, key=int):
        utts: list[Utterance] = []
        for uid in sorted(rows[tid]):
            r = rows[tid][uid]
            role = Role.THERAPIST if r["interlocutor"] == "therapist" else Role.CLIENT
            text = r["utterance_text"].strip()
            if not text:
                continue
            if utts and utts[-1].role is role:
                utts[-1].text += " " + text
                continue
            utts.append(
                Utterance(
                    id=f"u{len(utts) + 1:04d}",
                    index=len(utts),
                    speaker=role.value,
                    role=role,
                    text=text,
                    start=_seconds(r["timestamp"]),
                )
            )
        speakers = [Speaker(id=r.value, role=r) for r in (Role.THERAPIST, Role.CLIENT)]
        out.append((quality[tid], Session(id=f"annomi-{tid}", speakers=speakers, utterances=utts)))
    return out


def measures(s: Session) -> dict[str, float | None]:
    """Per-session numbers: the score, its components' raw values, and the baselines."""
    att = s.metrics.get("attunement", {})
    comps = att.get("indicators", {})
    cb = default_codebook()
    empathy, failures = set(cb.ids("empathy")), set(cb.ids("failure"))
    therapist = [u for u in s.utterances if u.role is Role.THERAPIST]
    t_words = [len(u.text.split()) for u in therapist]
    all_words = sum(len(u.text.split()) for u in s.utterances)

    def share(codes: set[str]) -> float | None:
        if not therapist or not any(
            a.code in empathy | failures | set(cb.ids("behaviour"))
            for u in therapist
            for a in u.annotations
        ):
            return None
        from attunement.analysis.context_rules import codes_at

        return sum(bool(codes_at(u, codes, 0.5)) for u in therapist) / len(therapist)

    ep = s.metrics.get("episodes", {}).get("headline", {})
    return {
        "score": att.get("score"),
        **{f"i_{k}": v.get("value") for k, v in comps.items()},
        "empathic_rate": share(empathy),
        "failure_rate": share(failures),
        "lsm": s.metrics.get("lsm", {}).get("session"),
        "emotional_share": s.metrics.get("emotional_responsiveness", {}).get("share_responsive"),
        "semantic_mean": s.metrics.get("semantic_responsiveness", {}).get("mean"),
        "episodes": ep.get("Episodes"),
        "unrepaired": ep.get("Unresolved or not addressed"),
        "base_neg_therapist_word_share": -sum(t_words) / all_words if all_words else None,
        "base_neg_turn_length": -statistics.fmean(t_words) if t_words else None,
    }


def auc_ci(y: np.ndarray, x: np.ndarray, boot: int, seed: int = 0) -> tuple[float, float, float]:
    """ROC AUC and a stratified bootstrap 95 % CI (resampling transcripts within each class)."""
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, x))
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos, n_neg = len(pos), len(neg)
    # all resamples at once; AUC = Mann-Whitney U / (n_pos * n_neg), ties count half
    idx = np.concatenate([rng.choice(pos, (boot, n_pos)), rng.choice(neg, (boot, n_neg))], axis=1)
    ranks = rankdata(x[idx], axis=1)
    u = ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2
    lo, hi = np.percentile(u / (n_pos * n_neg), [2.5, 97.5])
    return auc, float(lo), float(hi)


def _model_fingerprint() -> str:
    """sha256 prefix of the bundled model's files, so a run names the exact model it used."""
    import hashlib

    from attunement.coding.card import default_model_dir

    h = hashlib.sha256()
    folder = Path(default_model_dir())
    for f in sorted(folder.glob("*")):
        if f.is_file():
            h.update(f.read_bytes())
    return f"files sha256 {h.hexdigest()[:12]}"


def _fmt(v: float | None, nd: int = 3) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--boot", type=int, default=2000)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.data.exists():
        print(f"skip: AnnoMI dev file not found at {args.data}")
        return 0
    sessions = load_sessions(args.data)
    ctx = PipelineContext(encoder_name="static")
    names = available()
    try:
        pipeline = build_pipeline(names, ctx)
    except AttunementError as exc:
        print(f"note: full pipeline unavailable ({exc}); running without the coding model")
        from attunement.analysis.attunement_score import AttunementScore
        from attunement.analysis.episodes import RuptureEpisodes

        keep = [n for n in names if n not in ("coding", "context", "episodes", "attunement")]
        pipeline = [*build_pipeline(keep, ctx), RuptureEpisodes(), AttunementScore()]
    t0 = time.perf_counter()
    rows: list[tuple[str, dict[str, float | None]]] = []
    model = "none"
    for q, s in sessions:
        analyze(s, pipeline=pipeline)
        rows.append((q, measures(s)))
        m = s.metrics.get("coding", {}).get("model")
        if m:
            model = f"{m['name']}@{m['version']}"
    elapsed = time.perf_counter() - t0
    n_utt = sum(len(s.utterances) for _, s in sessions)
    print(f"# AnnoMI dev: {len(sessions)} transcripts ({n_utt} turns), {dt.date.today()}")
    print(f"pipeline: {' -> '.join(a.tag for a in pipeline)}")
    print(f"coding model: {model} ({_model_fingerprint()}); analysis time {elapsed:.1f} s")
    keys = list(rows[0][1])
    print("\n| measure | high (mean) | low (mean) | n high / low |")
    print("|---|---|---|---|")
    for k in keys:
        vals: dict[str, list[float]] = {"high": [], "low": []}
        for q, m in rows:
            v = m.get(k)
            if v is not None:
                vals[q].append(float(v))
        hi = statistics.fmean(vals["high"]) if vals["high"] else None
        lo = statistics.fmean(vals["low"]) if vals["low"] else None
        print(f"| {k} | {_fmt(hi)} | {_fmt(lo)} | {len(vals['high'])} / {len(vals['low'])} |")
    print(f"\n| measure (higher = predicted high quality) | ROC AUC | 95 % CI ({args.boot} boot) |")
    print("|---|---|---|")
    results: dict[str, Any] = {}
    for k in keys:
        pairs = [(1 if q == "high" else 0, m[k]) for q, m in rows if m.get(k) is not None]
        if k == "failure_rate":
            pairs = [(y, -v) for y, v in pairs if v is not None]
            k = "failure_rate (negated)"
        if k in ("episodes", "unrepaired"):
            pairs = [(y, -v) for y, v in pairs if v is not None]
            k = f"{k} (negated)"
        y = np.array([p[0] for p in pairs])
        x = np.array([float(p[1]) for p in pairs if p[1] is not None])
        if len(pairs) < 10 or len(set(y.tolist())) < 2 or len(set(x.tolist())) < 2:
            print(f"| {k} | – (constant or missing) | |")
            continue
        auc, lo_, hi_ = auc_ci(y, x, args.boot)
        results[k] = auc
        print(f"| {k} | {auc:.3f} | {lo_:.3f}–{hi_:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
