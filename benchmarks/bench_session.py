"""How fast and how lean is session analysis? Synthetic 60-minute and 3-hour sessions.

Run: ``HF_HUB_OFFLINE=1 python benchmarks/bench_session.py`` (add ``--quick`` for one
repeat and the static encoder only). Reports, each with its baseline from the same run:

a. end to end — ``build_pipeline(available())`` then ``analyze`` — once the encoder is
   loaded, for the ``static`` and ``minilm`` encoders, median of ``--repeats`` runs, plus
   the time of each analyzer in one extra run;
b. the bare ``encoder.encode`` of the same utterances, and the ratio pipeline / bare;
c. peak RSS (``resource.getrusage``) of a fresh process analyzing the 3-hour session,
   next to the peak of a process that only loaded the encoder;
d. resident memory while 50 sessions stream through one pipeline (flat or growing);
e. CLI start: ``attune --help`` and ``python -c "import attunement.analysis.lsm"`` next to
   a bare ``python -c pass``, and ``attune analyze`` when that command exists.

The encoders memoize texts, so the memo is emptied before every timed run: otherwise the
second run would measure cache hits. Sessions are generated from invented sentence parts
(no real session content).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from attunement.analysis.base import PipelineContext
from attunement.analysis.pipeline import analyze, analyze_many, available, build_pipeline
from attunement.coding.encoders import Encoder
from attunement.model import Role, Session, Speaker, Utterance

# --- synthetic sessions ------------------------------------------------------------------
_SLOTS: dict[str, list[str]] = {
    "person": [
        "my sister",
        "my boss",
        "my partner",
        "my dad",
        "my mother",
        "the neighbour",
        "my son",
        "my best friend",
        "the landlord",
        "my ex",
        "my coach",
        "the doctor",
    ],
    "topic": [
        "the move",
        "work",
        "the wedding",
        "money",
        "the kids",
        "my health",
        "the exam",
        "the holidays",
        "the new job",
        "the divorce",
        "the car",
        "sleep",
        "the garden",
    ],
    "feeling": [
        "sad",
        "angry",
        "worried",
        "tired",
        "lonely",
        "ashamed",
        "relieved",
        "nervous",
        "frustrated",
        "hopeful",
        "numb",
        "scared",
        "fine",
        "overwhelmed",
        "happy",
    ],
    "event": [
        "we argued on Sunday",
        "the phone rang at night",
        "I lost the keys again",
        "the letter came",
        "she cancelled dinner",
        "I missed the train",
        "he forgot my birthday",
        "the results came back",
        "we painted the kitchen",
        "I started the course",
        "the dog got sick",
        "we visited grandma",
    ],
    "did": [
        "called me twice",
        "ignored my message",
        "said it was my fault",
        "moved out",
        "brought flowers",
        "shouted at the kids",
        "asked for money",
        "never showed up",
        "apologised in the end",
        "laughed at me",
        "offered to help",
    ],
    "task": [
        "the breathing exercise",
        "a sleep diary",
        "the worksheet",
        "a short walk",
        "writing it down",
        "the thought record",
        "a call to her",
        "a list of worries",
    ],
    "hedge": [
        "it's hard to say",
        "maybe it doesn't matter",
        "I just keep going",
        "it is what it is",
        "I try not to think about it",
        "whatever, really",
    ],
}
_CLIENT = [
    "I feel {feeling} about {topic}.",
    "{person} {did} and I felt {feeling}.",
    "It's been hard since {event}.",
    "I don't know, {hedge}.",
    "When {event}, I just went quiet.",
    "{person} keeps bringing up {topic} and it makes me {feeling}.",
    "Honestly {topic} is all I think about lately.",
    "We talked about {topic} but nothing changed.",
    "I guess I was {feeling} when {event}.",
    "Yeah.",
    "I guess.",
    "Maybe, I'm not sure.",
    "(laughs) {person} {did}, it's funny really.",
    "I tried {task} twice but it didn't help much.",
]
_THERAPIST = [
    "It sounds like {topic} has left you feeling {feeling}.",
    "What was that like for you when {event}?",
    "How did you feel when {person} {did}?",
    "Tell me more about {topic}.",
    "You felt {feeling}, and nobody noticed.",
    "Let's look at {task} for next week.",
    "Mm-hm.",
    "I see.",
    "Have you tried {task}?",
    "I'm sorry, that sounds really hard.",
    "What do you notice in your body as you say that?",
    "Could we go back to what you said about {topic}?",
]


def _fill(template: str, rng: random.Random) -> str:
    text = template.format(**{k: rng.choice(v) for k, v in _SLOTS.items()})
    return text[0].upper() + text[1:]


def make_session(n: int, minutes: float, seed: int) -> Session:
    """``n`` alternating-ish turns spread over ``minutes`` with gaps, silences, overlaps."""
    rng = random.Random(seed)
    utts: list[Utterance] = []
    role = Role.THERAPIST
    clock = 0.0
    for i in range(n):
        if i and rng.random() > 0.1:  # 10 % of turns: same role again (a new speaker turn)
            role = Role.CLIENT if role is Role.THERAPIST else Role.THERAPIST
        pool = _CLIENT if role is Role.CLIENT else _THERAPIST
        k = rng.choice((1, 1, 2, 3)) if role is Role.CLIENT else rng.choice((1, 1, 2))
        text = " ".join(_fill(rng.choice(pool), rng) for _ in range(k))
        dur = 0.4 * len(text.split()) + rng.uniform(0.3, 1.5)
        r = rng.random()
        gap = rng.uniform(3.0, 8.0) if r < 0.08 else -0.4 if r < 0.12 else rng.uniform(0.2, 1.5)
        start = max(0.0, clock + gap)
        utts.append(
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="Therapist" if role is Role.THERAPIST else "Client",
                role=role,
                text=text,
                start=start,
                end=start + dur,
            )
        )
        clock = start + dur
    scale = minutes * 60.0 / clock
    for u in utts:
        assert u.start is not None and u.end is not None
        u.start, u.end = round(u.start * scale, 2), round(u.end * scale, 2)
    return Session(
        id=f"bench-{n}-{seed}",
        speakers=[
            Speaker(id="Therapist", role=Role.THERAPIST),
            Speaker(id="Client", role=Role.CLIENT),
        ],
        utterances=utts,
    )


# --- measurement helpers -------------------------------------------------------------------
def _cold(encoder: Encoder) -> None:
    """Empty the encoder's text memo so a timed run really encodes (benchmark-only access)."""
    memo = getattr(encoder, "_memo", None)
    if memo is not None:
        memo._store.clear()


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _hwm_mb() -> float:
    """This address space's peak (VmHWM): unlike ru_maxrss it does not carry over the
    parent's peak through fork+exec, so it cross-checks the child's own number."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def speed(encoder_name: str, sizes: list[tuple[int, float]], repeats: int) -> list[dict[str, Any]]:
    ctx = PipelineContext(encoder_name=encoder_name)
    load = _timed(lambda: ctx.encoder)
    enc = ctx.encoder
    names = available()
    rows = []
    for n, minutes in sizes:
        e2e, bare = [], []
        for r in range(repeats):
            s = make_session(n, minutes, seed=1000 * n + r)
            texts = [u.text for u in s.utterances]
            _cold(enc)
            e2e.append(_timed(lambda s=s: analyze(s, pipeline=build_pipeline(names, ctx))))
            _cold(enc)
            bare.append(_timed(lambda t=texts: enc.encode(t)))
        # one more cold run, timing each analyzer
        s = make_session(n, minutes, seed=1000 * n + repeats)
        _cold(enc)
        per: dict[str, float] = {}
        t0 = time.perf_counter()
        pipeline = build_pipeline(names, ctx)
        build = time.perf_counter() - t0
        for a in pipeline:
            per[a.name] = _timed(lambda a=a, s=s: a(s))
        med_e2e, med_bare = statistics.median(e2e), statistics.median(bare)
        rows.append(
            {
                "encoder": encoder_name,
                "utterances": n,
                "minutes": minutes,
                "encoder_load_s": load,
                "end_to_end_s": med_e2e,
                "bare_encode_s": med_bare,
                "ratio": med_e2e / med_bare if med_bare > 0 else float("nan"),
                "build_pipeline_s": build,
                "per_analyzer_s": per,
                "analyzers": names,
            }
        )
    return rows


def child_peak(encoder_name: str, n: int, minutes: float, analyze_it: bool) -> dict[str, float]:
    """Peak RSS of a fresh process (this script re-run with --child)."""
    cmd = [sys.executable, __file__, "--child", encoder_name, str(n), str(minutes)]
    if not analyze_it:
        cmd.append("--load-only")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _child(encoder_name: str, n: int, minutes: float, load_only: bool) -> None:
    ctx = PipelineContext(encoder_name=encoder_name)
    _ = ctx.encoder
    session = make_session(n, minutes, seed=7)
    loaded = _peak_mb()
    if not load_only:
        analyze(session, pipeline=build_pipeline(available(), ctx))
    print(json.dumps({"after_load_mb": loaded, "peak_mb": _peak_mb(), "hwm_mb": _hwm_mb()}))


def stream_child(encoder_name: str, count: int) -> list[tuple[int, float]]:
    """Run :func:`stream` in a fresh process so nothing loaded before skews its RSS."""
    cmd = [sys.executable, __file__, "--stream-child", encoder_name, str(count)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [(int(i), float(mb)) for i, mb in json.loads(out.strip().splitlines()[-1])]


def stream(encoder_name: str, count: int, n: int) -> list[tuple[int, float]]:
    ctx = PipelineContext(encoder_name=encoder_name)
    pipeline = build_pipeline(available(), ctx)

    def sessions() -> Iterator[Session]:
        for i in range(count):
            yield make_session(n, 60.0, seed=50_000 + i)

    step = max(1, count // 10)
    marks = {1, *range(step, count + 1, step), count}
    points = []
    for i, s in enumerate(analyze_many(sessions(), pipeline), start=1):
        s.model_dump_json()  # what a writer would do with it
        del s
        if i in marks:
            points.append((i, _rss_mb()))
    return points


def _first_output(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.stdout is not None
    p.stdout.read(1)
    t = time.perf_counter() - t0
    p.stdout.read()
    p.wait()
    return t


def cli_start(repeats: int) -> list[tuple[str, float]]:
    attune = str(Path(sys.executable).with_name("attune"))
    if not Path(attune).exists():
        attune = "attune"
    cmds: list[tuple[str, list[str]]] = [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        (
            "python -c 'import attunement.analysis.lsm'",
            [sys.executable, "-c", "import attunement.analysis.lsm"],
        ),
        ("attune --help", [attune, "--help"]),
    ]
    probe = subprocess.run([attune, "analyze", "--help"], capture_output=True, text=True)
    tmp = None
    if probe.returncode == 0:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "bench.session.json"
        path.write_text(make_session(600, 60.0, seed=3).model_dump_json(), encoding="utf-8")
        label = "attune analyze <600-utterance session.json>"
        cmds.append((label + " (all analyzers, static encoder)", [attune, "analyze", str(path)]))
        if "--no-encoder" in probe.stdout:
            cmds.append((label + " --no-encoder", [attune, "analyze", str(path), "--no-encoder"]))
        elif "--analyzers" in probe.stdout:
            light = "talk,lsm,tone,emotional_responsiveness"
            cmds.append(
                (
                    f"{label} --analyzers {light}",
                    [attune, "analyze", str(path), "--analyzers", light],
                )
            )
    else:
        cmds.append(("attune analyze (command not available yet)", []))
    out = []
    for label, cmd in cmds:
        if not cmd:
            out.append((label, float("nan")))
            continue
        out.append((label, statistics.median(_first_output(cmd) for _ in range(repeats))))
    if tmp is not None:
        tmp.cleanup()
    return out


def annomi_lsm() -> None:
    """Session LSM on the AnnoMI dev transcripts by MI quality (evaluation data, read only)."""
    import csv
    from collections import defaultdict

    from attunement.analysis.lsm import LanguageStyleMatching

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "annomi" / "annomi_dev.csv"
    if not path.exists():
        print(f"AnnoMI not found at {path}; skipping")
        return
    turns: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)
    quality: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):  # several annotators per utterance: one row is enough
            tid = r["transcript_id"]
            turns[tid][int(r["utterance_id"])] = (r["interlocutor"], r["utterance_text"])
            quality[tid] = r["mi_quality"]
    by_q: dict[str, list[tuple[float, float]]] = defaultdict(list)
    analyzer = LanguageStyleMatching()
    for tid, rows in turns.items():
        utts = [
            Utterance(
                id=f"u{i:04d}",
                index=k,
                speaker=who,
                role=Role.THERAPIST if who == "therapist" else Role.CLIENT,
                text=text,
            )
            for k, (i, (who, text)) in enumerate(sorted(rows.items()))
        ]
        s = Session(
            id=tid,
            speakers=[Speaker(id=w, role=Role(w)) for w in ("therapist", "client")],
            utterances=utts,
        )
        m = analyzer(s).metrics["lsm"]
        if m["session"] is not None and m["rolling"]["mean"] is not None:
            by_q[quality[tid]].append((m["session"], m["rolling"]["mean"]))
    print(
        f"{'MI quality':>10} {'n':>4} {'session LSM median':>19} {'IQR':>14} {'rolling mean':>13}"
    )
    for q, vals in sorted(by_q.items()):
        sess = [v for v, _ in vals]
        q1, _, q3 = statistics.quantiles(sess, n=4)
        print(
            f"{q:>10} {len(vals):>4} {statistics.median(sess):>19.3f} {q1:>6.3f}–{q3:<7.3f} "
            f"{statistics.median(r for _, r in vals):>13.3f}"
        )


# --- report --------------------------------------------------------------------------------
PARTS = ("c", "a", "d", "e")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def part_c(encoders: list[str], report: dict[str, Any]) -> None:
    # run first: a forked child's ru_maxrss starts from this process's peak, which must
    # therefore still be small (no encoder loaded here yet); VmHWM cross-checks it
    print(f"\n(c) peak RSS of a fresh process, 3-hour session (MiB; parent {_peak_mb():.0f})")
    print(f"{'encoder':>8} {'encoder loaded':>15} {'after analysis':>15} {'VmHWM':>7}")
    report["peak_rss"] = {}
    for name in encoders:
        base = child_peak(name, 1800, 180.0, analyze_it=False)
        full = child_peak(name, 1800, 180.0, analyze_it=True)
        report["peak_rss"][name] = {"load_only": base, "analyzed": full}
        print(f"{name:>8} {base['peak_mb']:>15.0f} {full['peak_mb']:>15.0f} {full['hwm_mb']:>7.0f}")


def part_a(encoders: list[str], repeats: int, report: dict[str, Any]) -> None:
    print(f"\nanalyzers: {', '.join(available())}")
    print(f"\n(a, b) end to end after encoder load, median of {repeats} (seconds)")
    print(
        f"{'encoder':>8} {'utts':>5} {'load':>6} {'pipeline':>9} {'bare encode':>12} "
        f"{'ratio':>6} {'language analyzers':>19}"
    )
    report["speed"] = []
    light_names = ("talk", "lsm", "tone", "emotional_responsiveness")
    for name in encoders:
        for row in speed(name, [(600, 60.0), (1800, 180.0)], repeats):
            report["speed"].append(row)
            per = row["per_analyzer_s"]
            light = sum(v for k, v in per.items() if k in light_names)
            print(
                f"{name:>8} {row['utterances']:>5} {row['encoder_load_s']:>6.2f} "
                f"{row['end_to_end_s']:>9.3f} {row['bare_encode_s']:>12.3f} "
                f"{row['ratio']:>6.2f} {light:>19.3f}"
            )
            print(
                "         per analyzer: "
                + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in per.items())
                + f"; build_pipeline {row['build_pipeline_s'] * 1000:.0f} ms"
            )


def part_d(encoder: str, count: int, report: dict[str, Any]) -> None:
    print(
        f"\n(d) resident memory of a fresh process streaming {count} 600-utterance sessions "
        f"through one pipeline ({encoder} encoder)"
    )
    points = stream_child(encoder, count)
    report["stream"] = points
    print("   " + "  ".join(f"after {i}: {mb:.0f} MiB" for i, mb in points))


def part_e(report: dict[str, Any]) -> None:
    print("\n(e) CLI start to first output, median of 5 (seconds)")
    report["cli"] = cli_start(5)
    for label, t in report["cli"]:
        print(f"   {t:6.3f}  {label}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--encoders", default="static,minilm")
    ap.add_argument("--stream", type=int, default=50, help="sessions streamed for (d)")
    ap.add_argument("--parts", default=",".join(PARTS), help="which of c,a,d,e to run")
    ap.add_argument("--quick", action="store_true", help="1 repeat, static only, 10 streamed")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    ap.add_argument(
        "--annomi-lsm", action="store_true", help="only: session LSM on AnnoMI dev by MI quality"
    )
    ap.add_argument("--child", nargs=3, metavar=("ENCODER", "N", "MINUTES"), help=argparse.SUPPRESS)
    ap.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--stream-child", nargs=2, metavar=("ENCODER", "COUNT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.annomi_lsm:
        annomi_lsm()
        return
    if args.child:
        enc, n, minutes = args.child
        _child(enc, int(n), float(minutes), args.load_only)
        return
    if args.stream_child:
        enc, count = args.stream_child
        print(json.dumps(stream(enc, int(count), 600)))
        return
    if args.quick:
        args.repeats, args.encoders, args.stream = 1, "static", 10
    encoders = [e for e in args.encoders.split(",") if e]
    parts = [p for p in PARTS if p in args.parts.split(",")]
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    report["loadavg_start"] = os.getloadavg()
    print(f"load average at start: {_load()}")
    for part in parts:
        if part == "c":
            part_c(encoders, report)
        elif part == "a":
            part_a(encoders, args.repeats, report)
        elif part == "d":
            part_d(encoders[0], args.stream, report)
        else:
            part_e(report)
    report["loadavg_end"] = os.getloadavg()
    print(f"\nload average at end: {_load()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
