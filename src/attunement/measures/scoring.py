"""Scoring one administration of an instrument.

Missing items follow the rule the instrument file states (prorate up to N blanks, else
refuse) and the result always says so: a prorated score is marked, a refused one carries
the reason. Nothing is filled in silently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from attunement.errors import MeasureError
from attunement.measures.instruments import Instrument, Item

Answer = float | str | None


class Score(BaseModel):
    """The scored administration."""

    model_config = ConfigDict(extra="forbid")

    instrument: str
    total: float | None = Field(description="None when the missing rule refuses to score.")
    band: str | None = None
    above_cutoff: bool | None = None
    subscales: dict[str, float | None] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list, description="Blank required items.")
    prorated: bool = False
    refused: str | None = Field(None, description="Why no total was computed.")
    flags: list[str] = Field(default_factory=list, description="Item flags that fired.")


def item_value(instrument: Instrument, item: Item, value: float) -> float:
    """Validate an answer and apply reverse keying."""
    if item.type == "scale" and instrument.scale is not None:
        scale = instrument.scale
        if not scale.allows(value):
            raise MeasureError(
                f"value {value:g} is outside the scale of {instrument.id}.{item.id} "
                f"({scale.min:g}–{scale.max:g} in steps of {scale.step:g})"
            )
        return scale.min + scale.max - value if item.reverse else value
    allowed = {o.value for o in instrument.options_for(item)}
    if value not in allowed:
        raise MeasureError(
            f"value {value:g} is not a response option of {instrument.id}.{item.id} "
            f"(allowed: {', '.join(f'{v:g}' for v in sorted(allowed))})"
        )
    if item.reverse:
        lo, hi = instrument.item_range(item)
        return lo + hi - value
    return value


def _aggregate(values: list[float], n_items: int, method: str) -> float:
    mean = math.fsum(values) / len(values)
    if method == "mean":
        return mean
    if len(values) == n_items:
        return math.fsum(values)
    # prorated sum: mean of answered × number of items, rounded half up as scorers do
    return float(math.floor(mean * n_items + 0.5))


def score(instrument: Instrument, answers: Mapping[str, Answer]) -> Score:
    """Score ``answers`` (item id → value, None/absent for blank).

    Raises :class:`MeasureError` for an unknown item or an impossible value; the message
    names the instrument and item, never the answer text.
    """
    known = {i.id for i in instrument.items}
    for key in answers:
        if key not in known:
            raise MeasureError(f"unknown item {key!r} for instrument {instrument.id}")
    values: dict[str, float] = {}
    raw_values: dict[str, float] = {}
    missing: list[str] = []
    for item in instrument.items:
        raw = answers.get(item.id)
        if item.type == "text":
            continue
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            if item.scored and not item.optional:
                missing.append(item.id)
            continue
        if isinstance(raw, str):
            raise MeasureError(f"value for {instrument.id}.{item.id} must be a number")
        values[item.id] = item_value(instrument, item, float(raw))
        raw_values[item.id] = float(raw)

    scored = instrument.scored_items
    answered = [values[i.id] for i in scored if i.id in values]
    flags = [f.label for f in instrument.flags if raw_values.get(f.item, -math.inf) >= f.at_least]
    subscales = {
        name: _subscale(values, members, instrument.scoring.method)
        for name, members in instrument.scoring.subscales.items()
    }
    n_missing = len(missing)
    if (
        not answered
        or n_missing > instrument.missing.max_missing
        or (n_missing and instrument.missing.rule == "refuse")
    ):
        limit = instrument.missing.max_missing if instrument.missing.rule == "prorate" else 0
        return Score(
            instrument=instrument.id,
            total=None,
            subscales=subscales,
            missing=missing,
            refused=f"{n_missing} required item(s) missing; the rule allows {limit}",
            flags=flags,
        )
    total = _aggregate(answered, len(scored), instrument.scoring.method)
    cutoff = instrument.cutoff
    return Score(
        instrument=instrument.id,
        total=total,
        band=instrument.band(total),
        above_cutoff=(total >= cutoff.value) if cutoff else None,
        subscales=subscales,
        missing=missing,
        prorated=bool(missing),
        flags=flags,
    )


def _subscale(values: Mapping[str, float], members: tuple[str, ...], method: str) -> float | None:
    got = [values[m] for m in members if m in values]
    if len(got) != len(members):
        return None  # subscales are only reported when complete
    return math.fsum(got) if method == "sum" else math.fsum(got) / len(got)


def score_matrix(instrument: Instrument, items: NDArray[np.float64]) -> NDArray[np.float64]:
    """Totals for many administrations at once: ``items[..., j]`` answers scored item j.

    The same rules as :func:`score` (reverse keys, prorating up to ``max_missing`` blanks,
    NaN when refused); values are assumed to be valid options (validate on input).
    """
    scored = instrument.scored_items
    if items.shape[-1] != len(scored):
        raise MeasureError(f"{instrument.id}: expected {len(scored)} item columns")
    x = items.astype(np.float64, copy=True)
    for j, item in enumerate(scored):
        if item.reverse:
            lo, hi = instrument.item_range(item)
            x[..., j] = lo + hi - x[..., j]
    answered = np.sum(~np.isnan(x), axis=-1)
    missing = len(scored) - answered
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(x, axis=-1) / answered
    if instrument.scoring.method == "mean":
        total = mean
    else:
        total = np.where(missing == 0, np.nansum(x, axis=-1), np.floor(mean * len(scored) + 0.5))
    limit = instrument.missing.max_missing if instrument.missing.rule == "prorate" else 0
    out: NDArray[np.float64] = np.where((missing <= limit) & (answered > 0), total, np.nan)
    return out


def band_index_matrix(instrument: Instrument, totals: NDArray[np.float64]) -> NDArray[np.int64]:
    """Index into ``instrument.bands`` for each total (−1 for NaN or no band)."""
    if not instrument.bands:
        return np.full(totals.shape, -1, dtype=np.int64)
    lows = np.array([b.min for b in instrument.bands])
    idx = np.searchsorted(lows, np.nan_to_num(totals, nan=-np.inf), side="right") - 1
    out: NDArray[np.int64] = np.where(np.isnan(totals), -1, idx).astype(np.int64)
    return out
