"""Across-sessions benchmark: 10,000 synthetic clients × 30 sessions.

Computes, for every client: PHQ-9 and alliance-check totals from item responses (with the
missing-item rules), severity bands, RCI against baseline and change category, sudden gains
and losses (Tang & DeRubeis), alliance rupture–repair sequences (k = 1 and k = 2) and the
dropout score — vectorized with NumPy, on 1 process and split over 2 processes — and,
in the same run, a naive per-client Python loop over the library's scalar functions on a
subsample, extrapolated to all clients.

    python benchmarks/bench_longitudinal.py [--clients 10000] [--sessions 30] [--baseline 200]

Data are synthetic (seeded); nothing is read from disk.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np

from attunement.course.risk import dropout_score_arrays
from attunement.measures.alliance import sequence_matrix, sequences, slope, slope_matrix
from attunement.measures.change import change, rci_matrix, sudden_shift_masks, sudden_shifts_loop
from attunement.measures.instruments import get_instrument
from attunement.measures.scoring import band_index_matrix, score, score_matrix

PHQ = get_instrument("phq9")
ALLIANCE = get_instrument("alliance_check")


def synth(n: int, t: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Item-level PHQ-9 (0–3) and alliance (0–10) answers with ~2 % blanks, plus events."""
    rng = np.random.default_rng(seed)
    end = rng.uniform(0.3, 1.1, (n, 1, 1))  # where each client's severity trends to
    trend = 1.0 + (end - 1.0) * np.linspace(0.0, 1.0, t)[None, :, None]
    sev = rng.uniform(0.6, 2.6, size=(n, 1, 1)) * trend
    phq = np.clip(np.rint(sev + rng.normal(0, 0.7, (n, t, 9))), 0, 3)
    level = rng.uniform(5, 9.5, (n, 1, 1)) + rng.normal(0, 0.6, (n, t, 1))
    dips = rng.random((n, t, 1)) < 0.04
    level = level - dips * rng.uniform(2, 5, (n, t, 1))
    alliance = np.clip(np.rint(level + rng.normal(0, 0.7, (n, t, 4))), 0, 10)
    for arr in (phq, alliance):
        arr[rng.random(arr.shape) < 0.02] = np.nan
    return {
        "phq": phq,
        "alliance": alliance,
        "termination": (rng.random((n, t)) < 0.03).astype(np.float64),
        "absences": rng.poisson(0.4, n).astype(np.float64),
    }


def vectorized(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    phq = score_matrix(PHQ, data["phq"])
    alliance = score_matrix(ALLIANCE, data["alliance"])
    bands = band_index_matrix(PHQ, phq)
    # baseline = first scored administration; carry it as column 0 for the RCI
    base = np.where(np.isnan(phq[:, :1]), np.nanmean(phq[:, :3], axis=1, keepdims=True), phq[:, :1])
    rci = rci_matrix(
        np.concatenate([base, phq], axis=1), PHQ.norms.sd or 1, PHQ.norms.reliability or 0.5
    )[:, 1:]
    last = rci[:, -1]
    gains, losses, _ = sudden_shift_masks(phq, PHQ.norms.sudden_gain_threshold or 6)
    a_filled = np.where(np.isnan(alliance), np.nanmean(alliance, axis=1, keepdims=True), alliance)
    seq1 = sequence_matrix(alliance, 1.0)
    seq2 = sequence_matrix(alliance, 2.0)
    slopes = slope_matrix(a_filled[:, -5:])
    term = data["termination"][:, -4:].sum(axis=1)
    risk = dropout_score_arrays(term, data["absences"], seq1["unrepaired"].astype(float), slopes)
    return {
        "bands": bands[:, -1],
        "reliable_improved": (last < -1.96).astype(np.int64),
        "gains": gains.sum(axis=1),
        "losses": losses.sum(axis=1),
        "k1": seq1["drops"],
        "k2": seq2["drops"],
        "risk": risk,
    }


def _chunk(args: tuple[dict[str, np.ndarray], int, int]) -> dict[str, np.ndarray]:
    data, lo, hi = args
    return vectorized({k: v[lo:hi] for k, v in data.items()})


def two_workers(
    data: dict[str, np.ndarray], pool: ProcessPoolExecutor | ThreadPoolExecutor
) -> dict[str, np.ndarray]:
    n = len(data["absences"])
    mid = n // 2
    parts = list(pool.map(_chunk, [(data, 0, mid), (data, mid, n)]))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def naive(data: dict[str, np.ndarray], count: int) -> list[dict[str, Any]]:
    """One client at a time with the scalar library functions (pydantic scores, loops)."""
    out = []
    items = [i.id for i in PHQ.scored_items]
    a_items = [i.id for i in ALLIANCE.scored_items]
    for c in range(count):
        phq_scores, alli = [], []
        for s in range(data["phq"].shape[1]):
            row = data["phq"][c, s]
            answers = {
                k: (None if np.isnan(v) else float(v)) for k, v in zip(items, row, strict=True)
            }
            phq_scores.append(score(PHQ, answers).total)
            arow = data["alliance"][c, s]
            a_ans = {
                k: (None if np.isnan(v) else float(v)) for k, v in zip(a_items, arow, strict=True)
            }
            alli.append(score(ALLIANCE, a_ans).total)
        valid = [x for x in phq_scores if x is not None]
        ch = change(PHQ, valid[0], valid[-1]) if len(valid) > 1 else None
        shifts = sudden_shifts_loop(valid, PHQ.norms.sudden_gain_threshold or 6)
        a_valid = [x for x in alli if x is not None]
        s1, s2 = sequences(a_valid, 1.0), sequences(a_valid, 2.0)
        # same quantity as the vectorized path: last 5 sessions, a refused score → client mean
        mean_a = sum(a_valid) / len(a_valid)
        sl = slope([x if x is not None else mean_a for x in alli][-5:])
        term = float(data["termination"][c, -4:].sum())
        unresolved = float(sum(s.outcome == "unrepaired" for s in s1))
        risk = dropout_score_arrays(
            np.array([term]), data["absences"][c : c + 1], np.array([unresolved]),
            np.array([sl if sl is not None else 0.0]),
        )  # fmt: skip
        out.append(
            {"change": ch, "gains": sum(k == "gain" for k, _ in shifts), "k1": len(s1),
             "k2": len(s2), "risk": float(risk[0])}
        )  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--baseline", type=int, default=200, help="clients for the naive loop")
    args = ap.parse_args()
    n, t = args.clients, args.sessions
    print(f"clients={n} sessions={t} cores_available={os.cpu_count()}")
    t0 = time.perf_counter()
    data = synth(n, t)
    print(f"synthesize data: {time.perf_counter() - t0:.2f} s (not counted below)")

    t0 = time.perf_counter()
    one = vectorized(data)
    t_one = time.perf_counter() - t0

    with ProcessPoolExecutor(max_workers=2) as ppool:
        ppool.submit(int, 0).result()  # start the workers outside the timing
        t0 = time.perf_counter()
        two = two_workers(data, ppool)
        t_proc = time.perf_counter() - t0
    assert all(np.array_equal(one[k], two[k]) for k in one)
    with ThreadPoolExecutor(max_workers=2) as tpool:
        t0 = time.perf_counter()
        two = two_workers(data, tpool)
        t_thr = time.perf_counter() - t0
    assert all(np.array_equal(one[k], two[k]) for k in one)
    t_two = min(t_proc, t_thr)

    m = min(args.baseline, n)
    t0 = time.perf_counter()
    slow = naive(data, m)
    t_naive = (time.perf_counter() - t0) * n / m

    # the naive loop and the vectorized path must agree on the subsample
    agree_k1 = np.mean([s["k1"] == one["k1"][i] for i, s in enumerate(slow)])
    agree_k2 = np.mean([s["k2"] == one["k2"][i] for i, s in enumerate(slow)])
    agree_gain = np.mean([s["gains"] == one["gains"][i] for i, s in enumerate(slow)])
    agree_risk = np.mean([abs(s["risk"] - one["risk"][i]) < 1e-9 for i, s in enumerate(slow)])
    print()
    print(f"{'method':42} {'time (s)':>10} {'speed-up':>9}")
    print(f"{f'naive per-client loop ({m} clients, extrapolated)':42} {t_naive:10.2f} {1.0:9.1f}")
    print(f"{'vectorized, 1 process':42} {t_one:10.2f} {t_naive / t_one:9.1f}")
    print(f"{'vectorized, 2 processes':42} {t_proc:10.2f} {t_naive / t_proc:9.1f}")
    print(f"{'vectorized, 2 threads':42} {t_thr:10.2f} {t_naive / t_thr:9.1f}")
    print()
    print(
        f"agreement on subsample: k=1 sequences {agree_k1:.3f}, k=2 {agree_k2:.3f}, "
        f"sudden gains {agree_gain:.3f}, dropout score {agree_risk:.3f}"
    )
    print(
        f"clients with ≥1 sudden gain {np.mean(one['gains'] > 0):.3f}, sudden loss "
        f"{np.mean(one['losses'] > 0):.3f}, k=1 sequence {np.mean(one['k1'] > 0):.3f}, "
        f"k=2 {np.mean(one['k2'] > 0):.3f}, "
        f"reliable improvement {one['reliable_improved'].mean():.3f}, "
        f"mean dropout score {one['risk'].mean():.3f}"
    )
    best = min(t_one, t_two)
    print(
        f"target < 10 s for {n} clients on ≤ 2 cores: "
        f"{'met' if best < 10 else 'NOT met'} ({best:.2f} s)"
    )


if __name__ == "__main__":
    main()
