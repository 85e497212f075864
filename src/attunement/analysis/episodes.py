"""Rupture episodes within a session: markers that belong together, what preceded them,
what the therapist did next, and whether the client came back.

Rules (``docs/episodes.md`` has the full recipe and its limits). Everything is decided from
codes and features already on the session — the coding model's annotations, adjusted by the
context rules when they ran (see :func:`attunement.analysis.context_rules.effective`):

* **grouping** — an episode opens at a client turn with a marker or client flag at
  ``open_threshold`` (0.6) or above; turns at ``threshold`` (0.5) or above join the open
  episode (hysteresis: noisy near-0.5 codes extend an episode but never start one) when the
  marker is of a family already in it and within ``window_utterances`` utterances or
  ``window_seconds`` seconds of its last marker, or of another family in the very next
  client turns (``mixed_gap``); chains merge because each marker is compared with the
  episode's latest one;
* **contribution** — therapist failures ``F_*`` in the ``contribution_turns`` utterances
  before the first marker;
* **repairs** — ``R_*`` moves and strong empathy ``E_*`` after the first marker, up to
  ``repair_window`` utterances after the last (and before the next episode);
* **resolution** — ``not_addressed`` without repair, exploration or a responsive reply; else
  judged on the ``quiet_turns`` client turns after the last repair: ``resolved`` when the
  client re-engages (elaborates or names a feeling) and no marker recurs; ``partially_
  resolved`` when they re-engage but markers recur, or no marker recurs and answers are not
  minimal; ``unresolved`` otherwise (including no client turn after the repair);
* **salience** 1–5 — see :func:`salience`.
"""

from __future__ import annotations

import math
from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.context_rules import codes_at, effective, prob
from attunement.analysis.lexicons import tokenize
from attunement.analysis.suggestions import EpisodeFacts, suggest
from attunement.analysis.vocal import cue_text
from attunement.model import Episode, Evidence, Role, Session, Utterance, default_codebook

FLAGS = ("TERMINATION_RISK", "BOUNDARY_PRESSURE")
QUOTE_CHARS = 200
#: A marker at or above this probability is "clear" for salience.
CLEAR = 0.65


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """The words, shortened to at most ``limit`` characters on a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def evidence(u: Utterance, code: str, p: float = 1.0) -> Evidence:
    return Evidence(
        utterance_id=u.id,
        code=code,
        probability=round(min(1.0, max(0.0, p)), 4),
        quote=quote(u.text),
        timestamp=u.timestamp(),
        speaker=u.speaker,
        cue=cue_text(u),
    )


def words(u: Utterance) -> int:
    w = u.features.get("words")
    return int(w) if w is not None else len(tokenize(u.text))


def salience(
    p_max: float, clear_turns: int, confrontation: bool, termination: bool, min_valence: float
) -> tuple[int, dict[str, float]]:
    """Salience 1–5 and the points that built it (shown to the clinician).

    Start at 1 (one faint marker); +1 for a clear marker (max p ≥ 0.65) and +1 more for a very
    clear one (≥ 0.85); +1 for several clear marker turns (≥ 2 with p ≥ 0.65) and +1 more for
    many (≥ 4) — only clear ones, so a long chain of near-threshold codes stays modest; +0.5 for
    confrontation (moving against is more visible than moving away); +1 for termination
    risk; +0.5 for strongly negative valence (≤ −0.5) in a marker turn. Rounded half up and
    capped at 5: one clear marker of moderate intensity lands on 3, several intense ones on 5.
    """
    parts = {
        "base": 1.0,
        "clear": 1.0 if p_max >= CLEAR else 0.0,
        "very_clear": 1.0 if p_max >= 0.85 else 0.0,
        "several": 1.0 if clear_turns >= 2 else 0.0,
        "many": 1.0 if clear_turns >= 4 else 0.0,
        "confrontation": 0.5 if confrontation else 0.0,
        "termination_risk": 1.0 if termination else 0.0,
        "negative_valence": 0.5 if min_valence <= -0.5 else 0.0,
    }
    total = sum(parts.values())
    return max(1, min(5, math.floor(total + 0.5))), {k: v for k, v in parts.items() if v}


class RuptureEpisodes(Analyzer):
    """Groups client markers into rupture episodes with contribution, repair and resolution."""

    name = "episodes"
    version = "1"
    requires = ("coding",)
    # salience and suggestions read valence and the context rules' adjustments when present
    runs_after = ("tone", "context")

    def __init__(
        self,
        threshold: float = 0.5,
        open_threshold: float = 0.6,
        window_utterances: int = 6,
        window_seconds: float = 60.0,
        mixed_gap: int = 2,
        contribution_turns: int = 4,
        repair_window: int = 6,
        quiet_turns: int = 3,
        elaborated_words: int = 8,
        suggestions: bool = True,
    ) -> None:
        self.threshold = threshold
        self.open_threshold = open_threshold
        self.window_utterances = window_utterances
        self.window_seconds = window_seconds
        self.mixed_gap = mixed_gap
        self.contribution_turns = contribution_turns
        self.repair_window = repair_window
        self.quiet_turns = quiet_turns
        self.elaborated_words = elaborated_words
        self.suggestions = suggestions

    # --- grouping -----------------------------------------------------------------------
    def _marker_turns(self, session: Session) -> list[tuple[Utterance, dict[str, float]]]:
        cb = default_codebook()
        wanted = set(cb.ids("withdrawal", "confrontation")) | set(FLAGS)
        out = []
        for u in session.utterances:
            if u.role is Role.CLIENT:
                found = codes_at(u, wanted, self.threshold)
                if found:
                    out.append((u, {c: a.probability for c, a in found.items()}))
        return out

    @staticmethod
    def _families(codes: dict[str, float]) -> set[str]:
        fams = {"withdrawal" if c.startswith("W_") else "confrontation" for c in codes}
        return fams or {"confrontation"}

    def _group(
        self, turns: list[tuple[Utterance, dict[str, float]]], pos: dict[int, int]
    ) -> list[list[tuple[Utterance, dict[str, float]]]]:
        """Marker turns into episodes; ``pos`` maps ``id(utterance)`` to its position.

        The families of the open group are kept as the group grows, so a session that is
        one long run of markers costs linear, not quadratic, time.
        """
        groups: list[list[tuple[Utterance, dict[str, float]]]] = []
        fams: set[str] = set()
        for u, codes in turns:
            if groups:
                last, _ = groups[-1][-1]
                gap = pos[id(u)] - pos[id(last)]
                last_t = last.end if last.end is not None else last.start
                near_time = (
                    u.start is not None
                    and last_t is not None
                    and u.start - last_t <= self.window_seconds
                )
                near = gap <= self.window_utterances or near_time
                if (near and self._families(codes) & fams) or gap <= self.mixed_gap:
                    groups[-1].append((u, codes))
                    fams |= self._families(codes)
                    continue
            if max(codes.values()) >= self.open_threshold:
                groups.append([(u, codes)])
                fams = self._families(codes)
        return groups

    # --- analysis -----------------------------------------------------------------------
    def __call__(self, session: Session) -> Session:
        session.episodes = []
        cb = default_codebook()
        failures = set(cb.ids("failure"))
        repairs = set(cb.ids("resolution"))
        empathy = set(cb.ids("empathy"))
        turns = self._marker_turns(session)
        marker_ids = {u.id for u, _ in turns}
        utts = session.utterances
        # positions by identity: slicing never trusts ``Utterance.index``
        pos = {id(u): i for i, u in enumerate(utts)}
        at_id = {u.id: i for i, u in enumerate(utts)}
        groups = self._group(turns, pos)
        history = bool(getattr(session.meta, "history_neglect_or_abuse", False))
        details: list[dict[str, Any]] = []
        escalate_ids: set[str] = set()
        for gi, group in enumerate(groups):
            first, last = group[0][0], group[-1][0]
            i_first, i_last = pos[id(first)], pos[id(last)]
            limit = pos[id(groups[gi + 1][0][0])] if gi + 1 < len(groups) else len(utts)
            before = utts[max(0, i_first - self.contribution_turns) : i_first]
            after = utts[i_first + 1 : min(limit, i_last + self.repair_window + 1)]
            markers = [
                evidence(u, c, p)
                for u, codes in group
                for c, p in sorted(codes.items(), key=lambda kv: -kv[1])
            ]
            contribution = [
                evidence(t, c, a.probability)
                for t in before
                if t.role is Role.THERAPIST
                for c, a in codes_at(t, failures, self.threshold).items()
            ]
            boundary = [
                t
                for t in utts[
                    max(0, i_first - self.contribution_turns) : pos[id(after[-1])] + 1
                    if after
                    else i_last + 1
                ]
                if t.role is Role.THERAPIST
                and "F_BOUNDARY" in codes_at(t, failures, self.threshold)
            ]
            repair_ev, addressed_ev = self._repairs(after, repairs, empathy)
            resolution, res_ev = self._resolve(
                session,
                group,
                repair_ev,
                addressed_ev,
                marker_ids,
                self._last_index(repair_ev),
                at_id,
            )
            all_codes = {c for _, codes in group for c in codes}
            flags = [f for f in FLAGS if f in all_codes]
            if boundary:
                flags.append("ESCALATE")
                escalate_ids.update(t.id for t in boundary)
            kinds = set().union(
                *(self._families({c: 1.0 for c in codes if c not in FLAGS}) for _, codes in group)
            )
            kind = "mixed" if len(kinds) > 1 else next(iter(kinds))
            p_max = max(p for _, codes in group for p in codes.values())
            valences = [u.features.get("valence") for u, _ in group]
            min_val = min((v for v in valences if v is not None), default=0.0)
            sal, parts = salience(
                p_max,
                sum(1 for _, codes in group if max(codes.values()) >= CLEAR),
                kind != "withdrawal",
                "TERMINATION_RISK" in flags,
                min_val,
            )
            ep = Episode(
                id=f"e{gi + 1:02d}",
                kind=kind,
                start_id=first.id,
                end_id=last.id,
                start=first.start,
                end=last.end if last.end is not None else last.start,
                markers=markers,
                salience=sal,
                contribution=contribution,
                repairs=repair_ev,
                resolution=resolution,
                resolution_evidence=[
                    *[e for e in addressed_ev if not repair_ev],
                    *res_ev,
                    *[evidence(t, "F_BOUNDARY", prob(t, "F_BOUNDARY")) for t in boundary],
                ],
                flags=flags,
            )
            ep.summary = _summary(ep, boundary)
            if self.suggestions:
                facts = EpisodeFacts(
                    affect_mismatch=self._mismatch(group),
                    recurring=any(e.kind == ep.kind for e in session.episodes),
                    history=history,
                    flagged_at=(boundary[0].timestamp() or boundary[0].id) if boundary else None,
                    flagged_ids=[t.id for t in boundary],
                )
                ep.suggestions = suggest(ep, facts)
            session.episodes.append(ep)
            details.append(
                {
                    "id": ep.id,
                    "kind": ep.kind,
                    "start": ep.start_id,
                    "at": first.timestamp(),
                    "salience": ep.salience,
                    "salience_points": parts,
                    "resolution": ep.resolution,
                    "flags": ep.flags,
                    "contribution": [e.code for e in ep.contribution],
                    "repairs": [e.code for e in ep.repairs],
                }
            )
        self._metrics(session, details, escalate_ids)
        session.mark_applied(self.name, self.version)
        return session

    def _repairs(
        self, after: list[Utterance], repairs: set[str], empathy: set[str]
    ) -> tuple[list[Evidence], list[Evidence]]:
        """(repair moves, other signs the therapist turned to it: exploration, responsive reply)."""
        rep: list[Evidence] = []
        addressed: list[Evidence] = []
        for t in after:
            if t.role is not Role.THERAPIST:
                continue
            for c, a in codes_at(t, repairs | empathy, self.threshold).items():
                if c in repairs or a.level == "strong":
                    rep.append(evidence(t, c, a.probability))
                elif c == "E_EXPLORATION":
                    addressed.append(evidence(t, c, a.probability))
            er = t.features.get("emotional_responsiveness")
            if er is not None and er >= 0.5:
                addressed.append(evidence(t, "responsive_reply", er))
        return rep, addressed

    @staticmethod
    def _last_index(ev: list[Evidence]) -> str | None:
        return ev[-1].utterance_id if ev else None

    def _resolve(
        self,
        session: Session,
        group: list[tuple[Utterance, dict[str, float]]],
        repair_ev: list[Evidence],
        addressed_ev: list[Evidence],
        marker_ids: set[str],
        last_repair: str | None,
        at_id: dict[str, int],
    ) -> tuple[str, list[Evidence]]:
        if not repair_ev and not addressed_ev:
            return "not_addressed", []
        utts = session.utterances
        at = at_id[last_repair or addressed_ev[-1].utterance_id]
        pivot = utts[at]
        # the first few client turns after the pivot, without copying the rest of the list
        post: list[Utterance] = []
        for k in range(at + 1, len(utts)):
            if len(post) >= self.quiet_turns:
                break
            if utts[k].role is Role.CLIENT:
                post.append(utts[k])
        if not post:
            return "unresolved", [evidence(pivot, "no_client_reply", 1.0)]
        ep_words = sum(words(u) for u, _ in group) / len(group)
        confront = any(not c.startswith("W_") for _, codes in group for c in codes)
        need = self.elaborated_words if confront else max(self.elaborated_words, 1.25 * ep_words)
        recurred = [u for u in post if u.id in marker_ids]
        mean_words = sum(words(u) for u in post) / len(post)
        elaborated = [u for u in post if u.id not in marker_ids and words(u) >= need]
        feeling = [u for u in post if u.id not in marker_ids and self._names_feeling(u)]
        ev = [evidence(u, "marker_recurred") for u in recurred]
        ev += [evidence(u, "elaborated") for u in elaborated]
        ev += [evidence(u, "affect_named") for u in feeling if u not in elaborated]
        engaged = bool(elaborated or feeling)
        if engaged and not recurred:
            return "resolved", ev
        if engaged or (not recurred and mean_words >= 5):
            return "partially_resolved", ev
        ev += [evidence(u, "minimal_reply") for u in post if words(u) < 5 and u not in recurred]
        return "unresolved", ev

    @staticmethod
    def _names_feeling(u: Utterance) -> bool:
        if u.meta.get("emotions"):
            return True
        if "valence" in u.features:  # the tone analyzer ran and found no feeling word
            return False
        from attunement.analysis.tone import default_matcher

        return bool(default_matcher().feelings(u.text))

    @staticmethod
    def _mismatch(group: list[tuple[Utterance, dict[str, float]]]) -> bool:
        """Painful content told lightly: the marker, the tone cue, or cheerful ending talk."""
        for u, codes in group:
            if "W_CONTENT_AFFECT" in codes or u.features.get("affect_mismatch") == 1.0:
                return True
            v = u.features.get("valence")
            if "TERMINATION_RISK" in codes and v is not None and v >= 0.3:
                return True
        return False

    def _metrics(self, session: Session, details: list[dict[str, Any]], escalate: set[str]) -> None:
        eps = session.episodes
        open_ = [e for e in eps if e.resolution in ("unresolved", "not_addressed")]
        termination = sum(
            1
            for u in session.utterances
            if u.role is Role.CLIENT
            and (a := effective(u).get("TERMINATION_RISK")) is not None
            and a.probability >= self.threshold
        )
        failures = {"F_BOUNDARY"}
        for u in session.utterances:
            if u.role is Role.THERAPIST and codes_at(u, failures, self.threshold):
                escalate.add(u.id)
        by_res: dict[str, int] = {}
        for e in eps:
            by_res[e.resolution] = by_res.get(e.resolution, 0) + 1
        session.metrics[self.name] = {
            "threshold": self.threshold,
            "episodes": details,
            "by_resolution": by_res,
            "escalate": sorted(escalate),
            "validated": False,
            "headline": {
                "Episodes": len(eps),
                "Unresolved or not addressed": len(open_),
                "Highest salience": max((e.salience for e in eps), default=0),
                "Termination-risk moments": termination,
                "Escalate (boundary)": len(escalate),
            },
        }


def _when(e: Evidence) -> str:
    return e.timestamp or e.utterance_id


def _label(code: str) -> str:
    return default_codebook().get(code).label.lower()


def _summary(ep: Episode, boundary: list[Utterance]) -> str:
    """One observational sentence: what the client did, after what, and what followed."""
    first = ep.markers[0]
    top = max(
        (m for m in ep.markers if m.code not in FLAGS), key=lambda m: m.probability, default=None
    )
    marker = f" ({_label(top.code)})" if top else ""
    if "TERMINATION_RISK" in ep.flags:
        s = f"Client spoke of ending or cutting down therapy at {_when(first)}"
    elif "BOUNDARY_PRESSURE" in ep.flags:
        s = f"Client pressed for a relationship beyond therapy at {_when(first)}"
    elif ep.kind == "withdrawal":
        s = f"Client withdrew{marker} at {_when(first)}"
    elif ep.kind == "confrontation":
        s = f"Client pushed back{marker} at {_when(first)}"
    else:
        s = f"Client withdrew and pushed back from {_when(first)} to {_when(ep.markers[-1])}"
    if ep.contribution:
        f = ep.contribution[-1]
        s += f", after a therapist turn at {_when(f)} coded as {_label(f.code)}"
    moves = [e for e in ep.repairs if e.code.startswith("R_")] or ep.repairs
    rep = moves[0] if moves else None
    other = [e for e in ep.resolution_evidence if e.code in ("E_EXPLORATION", "responsive_reply")]
    if rep:
        move = f"{_label(rep.code)} at {_when(rep)}"
    elif other:
        what = "exploration" if other[0].code == "E_EXPLORATION" else "responsive reply"
        move = f"{what} at {_when(other[0])}"
    else:
        move = "reply"
    codes = {e.code for e in ep.resolution_evidence}
    if ep.resolution == "not_addressed":
        s += "; the therapist did not return to it"
    elif ep.resolution == "resolved":
        s += f"; the therapist responded ({move}) and the client re-engaged"
    elif ep.resolution == "partially_resolved":
        s += f"; the therapist responded ({move}) and the client partly re-engaged"
    elif "no_client_reply" in codes:
        s += (
            f"; the therapist responded ({move}) but the session moved on before the client replied"
        )
    elif "marker_recurred" in codes:
        s += f"; the therapist responded ({move}) but the markers continued"
    else:
        s += f"; the therapist responded ({move}) but the client stayed brief"
    if boundary:
        s += (
            f"; a therapist turn at {boundary[0].timestamp() or boundary[0].id} was coded as a "
            "boundary crossing and is flagged for consultation"
        )
    return s + "."
