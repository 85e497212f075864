"""Questionnaires as validated data.

An instrument (PHQ-9, GAD-7, the project's alliance and rupture checks, or a clinic's own
licensed questionnaire) is a TOML or JSON file: items, response options and their values,
scoring, the missing-item rule, bands, cutoff, norms for reliable change, codes (LOINC) and
a license note. A licensed scale the clinic uses under its own licence (SRS, ORS) is a
*score-only shell* (``score_only = true``): item ids and a 0–10 ``[scale]``, no wording —
the scores are entered from the paper form, as CamCOPS does. Keeping instruments as data
means a clinic can add its own licensed definition without touching code, and a malformed
file fails at load with a :class:`~attunement.errors.SchemaError` naming the file and the
field.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from attunement.errors import SchemaError
from attunement.safeparse import load_json, load_toml, validate

Role = Literal["outcome", "alliance", "rupture", "other"]
AgeBand = Literal["adult", "adolescent", "child"]


class Option(BaseModel):
    """One response option: what the client sees and the value it scores as."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    label: str
    code: str | None = Field(None, description="Answer code, e.g. LOINC 'LA6568-5'.")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    text: str = Field("", description="The wording; empty for the items of a score-only shell.")
    type: Literal["choice", "text", "scale"] = Field(
        "choice", description="'scale': a number on the instrument's [scale] (score-only shells)."
    )
    code: str | None = None
    reverse: bool = Field(False, description="Reverse-keyed: scores as (min + max) − value.")
    optional: bool = Field(False, description="A blank answer does not count as missing.")
    scored: bool = Field(True, description="Counts toward the total.")
    options: tuple[Option, ...] | None = Field(None, description="Overrides the shared options.")


class Scale(BaseModel):
    """A continuous item range, e.g. a 10 cm visual-analogue line measured to 0.1 cm."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float
    max: float
    step: float = Field(gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError("scale: max must be above min")
        return self

    def allows(self, value: float) -> bool:
        """Within the range and on the step grid (to rounding error)."""
        steps = (value - self.min) / self.step
        return self.min <= value <= self.max and abs(steps - round(steps)) < 1e-6


class Scoring(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["sum", "mean"]
    subscales: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class MissingRule(BaseModel):
    """What to do with blank items: ``prorate`` up to ``max_missing`` blanks, else refuse.

    For a sum, prorating means mean-of-answered × number of items (rounded); for a mean it
    is the mean of the answered items. ``refuse`` scores only complete administrations.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["prorate", "refuse"]
    max_missing: int = Field(ge=0)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float
    max: float
    label: str


class Cutoff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    meaning: str = ""


class AgeCutoff(BaseModel):
    """A clinical cutoff that depends on the client's age band (e.g. the ORS: 25/28/32)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    band: AgeBand
    ages: str = Field(description="The ages the band covers, as published, e.g. '13–17'.")
    value: float
    meaning: str = ""


class AllianceLevels(BaseModel):
    """Where an alliance instrument's total counts as weak or strong (``[alliance]``).

    The course engine weighs alerts by these (weak before an episode → up; strong with
    earlier ruptures repaired → down) and raises an alert when an instrument that gives
    them falls below ``weak_below``. ``strong_from`` may be left out when the literature
    gives no such level (the SRS).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    weak_below: float
    strong_from: float | None = None
    source: str = ""


#: the 0–10 post-session alliance check's levels, used for an alliance instrument on a
#: 0–10 scale that gives none of its own (the course engine's numbers before ``[alliance]``)
LEGACY_ALLIANCE = AllianceLevels(weak_below=6.0, strong_from=8.0)


class Norms(BaseModel):
    """Reliability and reference-sample statistics for Jacobson–Truax change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reliability: float | None = Field(None, gt=0.0, lt=1.0)
    reliability_kind: str | None = None
    reliability_source: str | None = None
    sd: float | None = Field(None, gt=0.0, description="SD of a reference (intake) sample.")
    sd_source: str | None = None
    functional_mean: float | None = None
    functional_sd: float | None = Field(None, gt=0.0)
    functional_source: str | None = None
    dysfunctional_mean: float | None = None
    dysfunctional_sd: float | None = Field(None, gt=0.0)
    dysfunctional_source: str | None = None
    sudden_gain_threshold: float | None = Field(None, gt=0.0)


class Codes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    panel: str | None = None
    panel_display: str | None = None
    total: str | None = None
    total_display: str | None = None


class ItemFlag(BaseModel):
    """An item whose endorsement the clinician must see (e.g. PHQ-9 item 9)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    at_least: float
    label: str


class Instrument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    title: str
    version: str
    role: Role = "other"
    higher_is: Literal["worse", "better"]
    stem: str = ""
    license: str = Field(min_length=1)
    score_only: bool = Field(
        False, description="A licensed scale recorded as scores only: no item wording stored."
    )
    references: tuple[str, ...] = ()
    codes: Codes | None = None
    options: tuple[Option, ...] = ()
    scale: Scale | None = Field(None, description="The range of 'scale' items.")
    items: tuple[Item, ...] = Field(min_length=1)
    scoring: Scoring
    missing: MissingRule
    bands: tuple[Band, ...] = ()
    cutoff: Cutoff | None = None
    age_cutoffs: tuple[AgeCutoff, ...] = Field(
        (), description="Cutoffs by age band; ``cutoff`` is the one used without a band."
    )
    norms: Norms = Field(default_factory=Norms)
    flags: tuple[ItemFlag, ...] = ()
    alliance: AllianceLevels | None = Field(
        None, description="Weak/strong levels of an alliance instrument, on its own scale."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items: duplicate item id")
        for item in self.items:
            if item.type == "choice" and not (item.options or self.options):
                raise ValueError(f"items.{item.id}: a choice item needs options")
            if item.type == "scale" and self.scale is None:
                raise ValueError(f"items.{item.id}: a scale item needs the instrument's [scale]")
            if self.score_only and (item.text or item.type != "scale"):
                raise ValueError(f"items.{item.id}: a score-only item is a scale item, no text")
            if not self.score_only and not item.text:
                raise ValueError(f"items.{item.id}: text is required")
        bands = [c.band for c in self.age_cutoffs]
        if len(set(bands)) != len(bands):
            raise ValueError("age_cutoffs: an age band is given twice")
        if self.age_cutoffs and self.cutoff is None:
            raise ValueError("age_cutoffs: needs a [cutoff] for when no age band is known")
        for n, members in enumerate(self.scoring.subscales.values(), start=1):
            if any(m not in ids for m in members):
                raise ValueError(f"scoring.subscales: subscale {n} names an unknown item")
        for n, flag in enumerate(self.flags, start=1):
            if flag.item not in ids:
                raise ValueError(f"flags: flag {n} names an unknown item")
        if not self.scored_items:
            raise ValueError("items: no scored choice item")
        if self.alliance is not None:
            low, high = self.score_range
            strong = self.alliance.strong_from
            if not low < self.alliance.weak_below <= high:
                raise ValueError("alliance.weak_below: outside the score range")
            if strong is not None and not self.alliance.weak_below <= strong <= high:
                raise ValueError("alliance.strong_from: below weak_below or above the range")
        if self.missing.max_missing > len(self.scored_items):
            raise ValueError("missing.max_missing: larger than the number of scored items")
        for n, (a, b) in enumerate(zip(self.bands, self.bands[1:], strict=False), start=2):
            if b.min <= a.max:
                raise ValueError(f"bands: band {n} overlaps or is out of order")
        return self

    # --- derived views ------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def options_for(self, item: Item) -> tuple[Option, ...]:
        return item.options or self.options

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored and i.type != "text")

    def item_range(self, item: Item) -> tuple[float, float]:
        if item.type == "scale" and self.scale is not None:
            return self.scale.min, self.scale.max
        values = [o.value for o in self.options_for(item)]
        return min(values), max(values)

    @property
    def score_range(self) -> tuple[float, float]:
        """Lowest and highest possible total."""
        lows, highs = zip(*(self.item_range(i) for i in self.scored_items), strict=True)
        if self.scoring.method == "sum":
            return float(sum(lows)), float(sum(highs))
        return float(min(lows)), float(max(highs))

    def alliance_levels(self) -> AllianceLevels | None:
        """The instrument's own ``[alliance]`` levels; for an alliance instrument on a
        0–10 scale without them, :data:`LEGACY_ALLIANCE` (6 and 8); else None (no weak or
        strong level is assumed on a scale nobody described)."""
        if self.alliance is not None:
            return self.alliance
        if self.role == "alliance" and self.score_range == (0.0, 10.0):
            return LEGACY_ALLIANCE
        return None

    def for_age_band(self, band: AgeBand | None) -> Instrument:
        """This instrument with the cutoff of ``band`` (itself when none is defined)."""
        for c in self.age_cutoffs:
            if c.band == band:
                meaning = c.meaning or f"age band {c.band} ({c.ages})"
                return self.model_copy(update={"cutoff": Cutoff(value=c.value, meaning=meaning)})
        return self

    def band(self, score: float) -> str | None:
        for b in self.bands:
            if b.min <= score <= b.max:
                return b.label
        # mean scores can fall between integer-edged bands (e.g. 4.5): take the last band
        # whose lower edge is at or below the score
        below = [b for b in self.bands if b.min <= score]
        return below[-1].label if below else None


def _parse(data: bytes, where: str) -> Instrument:
    raw = load_json(data, where) if where.endswith(".json") else load_toml(data, where)
    instrument: Instrument = validate(Instrument, raw, where)
    return instrument


def load_instrument(path: Path) -> Instrument:
    """Load and validate one instrument file (``.toml`` or ``.json``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"cannot read instrument ({exc.strerror})", where=str(path)) from None
    return _parse(data, str(path))


@cache
def bundled_instruments() -> dict[str, Instrument]:
    """The instruments shipped with Attunement, by id."""
    out: dict[str, Instrument] = {}
    folder = resources.files("attunement.measures") / "instruments"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".toml", ".json")):
            inst = _parse(entry.read_bytes(), f"instruments/{entry.name}")
            out[inst.id] = inst
    return out


def instrument_set(extra_dirs: Iterable[Path] = ()) -> dict[str, Instrument]:
    """Bundled instruments plus a clinic's own files (same id overrides the bundled one)."""
    out = dict(bundled_instruments())
    for folder in extra_dirs:
        for path in sorted(folder.glob("*.toml")) + sorted(folder.glob("*.json")):
            inst = load_instrument(path)
            out[inst.id] = inst
    return out


def get_instrument(instrument_id: str) -> Instrument:
    try:
        return bundled_instruments()[instrument_id]
    except KeyError:
        known = ", ".join(bundled_instruments())
        raise SchemaError(f"unknown instrument {instrument_id!r}; known: {known}") from None
