"""Training coding heads: group-aware split, class-weighted logistic regression, calibration.

scikit-learn is used only here (imported inside :func:`fit_model`); the fitted
coefficients are exported to plain arrays so inference never needs it. Everything is
seeded and ordered deterministically: the same data, configuration and seed give
byte-identical weights.

Decisions worth knowing:

* The split is by *group* (session): utterances of one session never straddle train and
  validation, otherwise context leaks and scores flatter the model.
* A binary code with fewer than ``min_support`` positive examples is **skipped with a
  warning** (and listed in the card's ``skipped``), not an error: a lab's rare code should
  not block training the others. No trainable code at all is an error.
* ``C`` is picked per head from a small grid on validation (average precision for binary
  codes, macro-F1 otherwise). Binary heads are then, by default (``calibrate``), refitted
  on train + validation, Platt-calibrated on out-of-fold scores (``cv_folds`` folds by
  session) and given a decision cut (``decision``, ≥ 0.5) that maximizes F-beta
  (``threshold_beta``) on those scores; with ``calibrate=False`` the F-beta threshold is
  folded into the bias as in models before corpus v2. Validation scores are optimistic;
  report a held-out test split.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attunement.coding.card import (
    CodingModel,
    EncoderSpec,
    FeatureRecipe,
    HeadSpec,
    ModelCard,
    TfidfSpec,
)
from attunement.coding.data import LEVELS, Example
from attunement.coding.encoders import Encoder, load_encoder
from attunement.coding.features import dense_features, fit_tfidf
from attunement.coding.metrics import (
    average_precision,
    best_threshold,
    binary_scores,
    multiclass_scores,
)
from attunement.coding.predict import assemble, head_probs
from attunement.errors import ModelError
from attunement.model import default_codebook

log = logging.getLogger(__name__)
Array = npt.NDArray[np.float32]
MODEL_VERSION = "1"


@dataclass
class TrainConfig:
    """What to train and how; stored in the card."""

    name: str = "custom"
    encoders: tuple[str, ...] = ("static",)
    context: tuple[str, ...] = ("prev",)
    lexical: bool = True
    tfidf: TfidfSpec | None = None
    seed: int = 0
    valid_fraction: float = 0.2
    min_support: int = 8
    c_grid: tuple[float, ...] = (0.001, 0.004, 0.016, 0.064)
    #: calibrate binary heads on validation (Platt) and keep the decision cut apart
    calibrate: bool = True
    #: F-beta the binary decision cut maximizes on validation (< 1 favours precision)
    threshold_beta: float = 1.0
    #: folds (by session) for the out-of-fold scores that calibration and the cut use
    cv_folds: int = 5
    created_by: str = ""
    data_info: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    model: CodingModel
    report: dict[str, Any]


def split_groups(groups: Sequence[str], fraction: float, seed: int) -> npt.NDArray[np.bool_]:
    """Seeded group-aware split: True marks validation rows (whole groups)."""
    n = len(groups)
    if fraction <= 0 or n < 2:
        return np.zeros(n, dtype=bool)
    rng = np.random.default_rng(seed)
    uniq = sorted(set(groups))
    if len(uniq) < 2:
        log.warning("only one group/session: validation split falls back to single utterances")
        idx = rng.permutation(n)[: max(1, round(fraction * n))]
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        return mask
    k = min(len(uniq) - 1, max(1, round(fraction * len(uniq))))
    chosen = {uniq[i] for i in rng.permutation(len(uniq))[:k]}
    return np.asarray([g in chosen for g in groups], dtype=bool)


def _fit_lr(x: Array, y: npt.NDArray[np.int64], k: int, c: float, seed: int) -> tuple[Array, Array]:
    """Class-weighted logistic regression → (d, k) weights and (k,) bias.

    ``k == 1`` means one binary code (one logit for the positive class); otherwise a softmax
    over ``k`` classes, where classes missing from the training rows get a very low bias.
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    clf.fit(x, y)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    icpt = np.asarray(clf.intercept_, dtype=np.float64)
    if k == 1:  # binary head: one logit for the positive class
        return coef.T.astype(np.float32), icpt.astype(np.float32)
    w = np.zeros((x.shape[1], k), dtype=np.float32)
    b = np.full(k, -30.0, dtype=np.float32)  # classes absent from training never win
    classes = [int(c) for c in clf.classes_]
    if len(classes) == 2:  # sklearn returns a single logit for two classes
        w[:, classes[1]] = coef[0]
        b[classes[0]], b[classes[1]] = 0.0, icpt[0]
    else:
        for row, cls in enumerate(classes):
            w[:, cls], b[cls] = coef[row], icpt[row]
    return w, b


def _folds(groups: Sequence[str], k: int) -> npt.NDArray[np.int64]:
    """Fold number per row, by a fixed hash of its group (whole sessions per fold)."""
    import hashlib

    return np.asarray(
        [int(hashlib.sha256(g.encode("utf-8")).hexdigest()[8:16], 16) % k for g in groups],
        dtype=np.int64,
    )


def _calibrated(
    data: _Data,
    rows: npt.NDArray[np.bool_],
    y: npt.NDArray[np.int64],
    groups: Sequence[str],
    c: float,
    config: TrainConfig,
) -> tuple[Array, Array, float, dict[str, float]]:
    """Fit on train + validation; calibrate and pick the cut on out-of-fold predictions.

    Validation alone holds too few positives of a rare code to calibrate on (a Platt fit on
    three positives silences the code). So the rows of train and validation are split into
    ``cv_folds`` folds by session; each fold is scored by a model fitted on the others with
    the chosen ``C``; Platt scaling and the F-beta cut (at least 0.5) are fitted on those
    out-of-fold scores, and the final weights are fitted on all rows. The returned scores
    are out-of-fold, at the chosen cut.
    """
    folds = _folds(groups, config.cv_folds)
    z = np.zeros(len(y), dtype=np.float32)
    for f in range(config.cv_folds):
        held = rows & (folds == f)
        fit = rows & (folds != f)
        if not held.any() or y[fit].sum() < 1 or y[fit].sum() == fit.sum():
            continue
        wf, bf = _fit_lr(data.x[fit], y[fit], 1, c, config.seed)
        z[held] = (data.x[held] @ wf + bf)[:, 0]
    w, b = _fit_lr(data.x[rows], y[rows], 1, c, config.seed)
    zr, yr = z[rows].astype(np.float64), y[rows]
    a, off = 1.0, 0.0
    if len(set(yr.tolist())) == 2:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=100.0, max_iter=1000, random_state=config.seed)
        clf.fit(zr[:, None], yr)
        if float(clf.coef_[0, 0]) > 0:
            a, off = float(clf.coef_[0, 0]), float(clf.intercept_[0])
    p = 1 / (1 + np.exp(-(a * zr + off)))
    t = best_threshold(yr, p, lo=0.5, beta=config.threshold_beta)
    w = (w * np.float32(a)).astype(np.float32)
    b = (b * np.float32(a) + np.float32(off)).astype(np.float32)
    return w, b, t, binary_scores(yr, p >= t)


def _logit(t: float) -> float:
    return math.log(t / (1 - t))


@dataclass
class _Data:
    x: Array
    valid: npt.NDArray[np.bool_]


def fit_model(
    examples: Sequence[Example],
    config: TrainConfig,
    *,
    encoders: Sequence[Encoder] | None = None,
    valid_mask: npt.NDArray[np.bool_] | None = None,
) -> TrainResult:
    """Train every head the data supports; returns the model and a validation report."""
    if not examples:
        raise ModelError("no training examples")
    encs = list(encoders) if encoders is not None else [load_encoder(n) for n in config.encoders]
    recipe = FeatureRecipe(
        utterance=True,
        context=list(config.context),
        lexical=config.lexical,
        tfidf=config.tfidf,
    )
    items = [e.item for e in examples]
    valid = (
        valid_mask
        if valid_mask is not None
        else split_groups([e.group for e in examples], config.valid_fraction, config.seed)
    )
    train = ~valid
    if not train.any():
        raise ModelError("validation split left no training data")
    dense = dense_features(items, encs, recipe)
    mean = dense[train].mean(axis=0)
    std = dense[train].std(axis=0)
    scale = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    arrays: dict[str, Array] = {"mean": mean.astype(np.float32), "scale": scale}
    texts = [it.text for it in items]
    if config.tfidf is not None:
        vocab, idf = fit_tfidf([t for t, m in zip(texts, train, strict=True) if m], config.tfidf)
        arrays["tfidf_vocab"] = vocab  # type: ignore[assignment]
        arrays["tfidf_idf"] = idf
    x = assemble(dense, texts, arrays, config.tfidf.ngram_max if config.tfidf else None)
    data = _Data(x=x, valid=valid)

    heads: list[HeadSpec] = []
    report: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for role in ("client", "therapist"):
        rows = np.asarray([e.item.role == role and e.codes is not None for e in examples])
        if rows.any():
            _train_multilabel(examples, rows, role, data, config, heads, arrays, report, skipped)
    cb = default_codebook()
    emp_codes = sorted({c for e in examples for c in e.empathy}, key=cb.ids().index)
    for code in emp_codes:
        ys = [LEVELS.index(e.empathy[code]) if code in e.empathy else -1 for e in examples]
        _train_softmax(
            code,
            "graded",
            list(LEVELS),
            ys,
            data,
            config,
            heads,
            arrays,
            report,
            skipped,
            code=code,
        )
    behaviours = [b for b in cb.ids("behaviour") if any(e.behaviour == b for e in examples)]
    if behaviours:
        ys = [behaviours.index(e.behaviour) if e.behaviour else -1 for e in examples]
        _train_softmax(
            "behaviour", "multiclass", behaviours, ys, data, config, heads, arrays, report, skipped
        )
    if not heads:
        raise ModelError(f"nothing to train: no code has at least {config.min_support} examples")
    card = ModelCard(
        name=config.name,
        version=MODEL_VERSION,
        encoders=[
            EncoderSpec(load=n, name=e.name, dim=e.dim)
            for n, e in zip(config.encoders, encs, strict=True)
        ],
        features=recipe,
        input_dim=int(x.shape[1]),
        heads=heads,
        seed=config.seed,
        training={
            **config.data_info,
            "n_examples": len(examples),
            "n_train": int(train.sum()),
            "n_valid": int(valid.sum()),
            "n_groups": len({e.group for e in examples}),
            "split": (
                f"group-aware (by session/group), seeded, valid_fraction={config.valid_fraction}"
                if valid_mask is None
                else "validation rows given by the caller (see split_rule)"
            ),
            "min_support": config.min_support,
            "c_grid": list(config.c_grid),
        },
        validation=report,
        skipped=skipped,
        created_by=config.created_by,
    )
    return TrainResult(model=CodingModel(card, arrays), report=report)


def _pick_c(
    data: _Data,
    rows: npt.NDArray[np.bool_],
    y: npt.NDArray[np.int64],
    k: int,
    config: TrainConfig,
    score: Any,
) -> tuple[float, Array, Array]:
    tr, va = rows & ~data.valid, rows & data.valid
    best: tuple[float, float, Array, Array] | None = None
    for c in config.c_grid:
        w, b = _fit_lr(data.x[tr], y[tr], k, c, config.seed)
        s = score(w, b, data.x[va], y[va]) if va.any() else 0.0
        if best is None or s > best[0] + 1e-9:
            best = (s, c, w, b)
        if not va.any():
            break
    assert best is not None
    return best[1], best[2], best[3]


def _train_multilabel(
    examples: Sequence[Example],
    rows: npt.NDArray[np.bool_],
    role: str,
    data: _Data,
    config: TrainConfig,
    heads: list[HeadSpec],
    arrays: dict[str, Array],
    report: dict[str, Any],
    skipped: dict[str, str],
) -> None:
    order = {c: i for i, c in enumerate(default_codebook().ids())}
    codes = sorted(
        {c for e, r in zip(examples, rows, strict=True) if r for c in e.codes or ()},
        key=lambda c: (order.get(c, 10_000), c),
    )
    ws, bs, kept, thresholds, support, cs = [], [], [], {}, {}, []
    decision: dict[str, float] = {}
    groups = [e.group for e in examples]
    per_code: dict[str, Any] = {}
    for code in codes:
        y = np.asarray([code in (e.codes or ()) for e in examples], dtype=np.int64)
        pos_train = int(y[rows & ~data.valid].sum())
        if int(y[rows].sum()) < config.min_support or pos_train < 2:
            skipped[code] = f"{int(y[rows].sum())} positive examples (< {config.min_support})"
            log.warning("code %s skipped: too few positive examples", code)
            continue
        if pos_train and pos_train == int((rows & ~data.valid).sum()):
            # a classifier needs both classes; the code is a known codebook/map id
            raise ModelError(
                f"code {code} is on every {role} utterance of the training split: "
                f"training needs {role} utterances without it too"
            )

        def ap(w: Array, b: Array, xv: Array, yv: npt.NDArray[np.int64]) -> float:
            return average_precision(yv, (xv @ w + b)[:, 0])

        c, w, b = _pick_c(data, rows, y, 1, config, ap)
        va = rows & data.valid
        t = 0.5
        if va.any() and config.calibrate:
            w, b, t, per_code[code] = _calibrated(data, rows, y, groups, c, config)
            decision[code] = t
        elif va.any():
            p = 1 / (1 + np.exp(-(data.x[va] @ w + b)[:, 0]))
            t = best_threshold(y[va], p, beta=config.threshold_beta)
            b = b - np.float32(_logit(t))
            per_code[code] = binary_scores(y[va], (data.x[va] @ w + b)[:, 0] >= 0)
        ws.append(w)
        bs.append(b)
        kept.append(code)
        thresholds[code] = t
        support[code] = pos_train
        cs.append(c)
    if not kept:
        return
    name = f"{role}_codes"
    arrays[f"W_{name}"] = np.hstack(ws).astype(np.float32)
    arrays[f"b_{name}"] = np.concatenate(bs).astype(np.float32)
    heads.append(
        HeadSpec(
            name=name,
            kind="multilabel",
            role=role,
            labels=kept,
            thresholds=thresholds,
            decision=decision,
            C=float(np.median(cs)),
            support=support,
        )
    )
    if per_code:
        report[name] = {
            "per_code": per_code,
            "macro_f1": float(np.mean([s["f1"] for s in per_code.values()])),
        }


def _train_softmax(
    name: str,
    kind: str,
    labels: list[str],
    ys: list[int],
    data: _Data,
    config: TrainConfig,
    heads: list[HeadSpec],
    arrays: dict[str, Array],
    report: dict[str, Any],
    skipped: dict[str, str],
    code: str | None = None,
) -> None:
    y = np.asarray(ys, dtype=np.int64)
    rows = y >= 0
    tr = rows & ~data.valid
    counts = np.bincount(y[tr], minlength=len(labels))
    if (counts > 0).sum() < 2 or int(rows.sum()) < config.min_support:
        skipped[name] = "fewer than two classes or too few examples"
        log.warning("head %s skipped: too few examples", name)
        return

    def macro(w: Array, b: Array, xv: Array, yv: npt.NDArray[np.int64]) -> float:
        pred = np.argmax(xv @ w + b, axis=1)
        return float(multiclass_scores(yv, pred, labels)["macro_f1"])

    k = len(labels)
    c, w, b = _pick_c(data, rows, y, k, config, macro)
    spec = HeadSpec(
        name=name,
        kind=kind,
        role="therapist",
        labels=labels,
        code=code,
        C=c,
        support={lab: int(n) for lab, n in zip(labels, counts, strict=True)},
    )
    arrays[f"W_{name}"], arrays[f"b_{name}"] = w, b
    heads.append(spec)
    va = rows & data.valid
    if va.any():
        pred = np.argmax(head_probs(spec, w, b, data.x[va]), axis=1)
        report[name] = multiclass_scores(y[va], pred, labels)


def train_from_path(
    data: Any,
    out: Any,
    *,
    codebook_map: Any = None,
    encoder: str = "static",
    seed: int = 0,
    valid_fraction: float = 0.2,
    min_support: int = 8,
    created_by: str = "",
) -> TrainResult:
    """Read coded data, train, write the model directory atomically (`attune train`)."""
    from pathlib import Path

    from attunement.coding.card import save_model
    from attunement.coding.data import data_hash, load_codebook_map, read_examples

    if not 0.0 <= valid_fraction < 1.0:
        raise ModelError("--valid-fraction must be in [0, 1)")
    examples = read_examples(
        Path(data), load_codebook_map(Path(codebook_map) if codebook_map else None)
    )
    config = TrainConfig(
        name=Path(out).name,
        encoders=tuple(encoder.split("+")),
        seed=seed,
        valid_fraction=valid_fraction,
        min_support=min_support,
        created_by=created_by,
        data_info={"data": Path(data).name, "data_sha256": data_hash(Path(data))},
    )
    result = fit_model(examples, config)
    save_model(result.model, Path(out))
    return result
