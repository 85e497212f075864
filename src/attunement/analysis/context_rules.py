"""Clinical context rules: what the codebook says about a code *in context*.

A model codes each utterance from its text and a few turns before it, with noisy
probabilities. Some codes only mean something given what came before, and the codebook
states those conditions explicitly. This analyzer applies them as transparent rules and
never edits another analyzer's annotation: it adds its own (``source="context@1"``) with a
``note`` saying why, and :func:`effective` resolves which annotation counts — a human
coder's first, then this analyzer's, then the most probable model annotation. Re-running
replaces only its own annotations, so the rules are idempotent.

Rules (thresholds are constructor parameters, defaults below):

1. ``W_MINIMAL`` is a minimal answer *to an open invitation*. After a closed question it is
   demoted (probability × ``closed_factor``); after a turn that invited nothing (information,
   advice, small talk) × ``other_factor``. An invitation is an open question, a reflection or
   exploration (behaviour codes when present, otherwise simple cues from the data file).
2. ``R_ACKNOWLEDGE`` (apology, taking responsibility) is repair only after a grievance — a
   confrontation marker in the last ``grievance_turns`` client turns — or a therapist
   failure in the last ``failure_window`` utterances, or when the apology itself names the
   therapist's mistake (``owned_failure`` phrases: a failure between sessions, such as a
   forgotten appointment, leaves no trace earlier in the transcript); otherwise
   × ``ack_factor``.
3. ``F_IGNORE`` is added to a therapist reply when the client turn it answers carries a
   marker (p ≥ ``marker_threshold``) or strong feeling (valence ≤ −0.5 or a named feeling),
   and the reply has no empathy (no ``E_*``), no repair move (no ``R_*``), and low emotional
   and/or semantic responsiveness. Its probability is signal × miss (see :func:`_miss`). The
   rule needs therapist-side codes: a model without empathy/behaviour heads says nothing
   about empathy, so the rule is skipped (reported in the metrics).
4. Derived flags: a ``C_PARAMETERS`` turn that talks of ending, stopping, "last session",
   cost or cutting down gets ``TERMINATION_RISK``; an explicit "last session" / "stop
   coming" gets it even without the marker (p = 0.6). A ``C_CONTROL`` turn pressing for a
   personal relationship gets ``BOUNDARY_PRESSURE``.
5. Boundary and termination codes need corroboration. A model's ``F_BOUNDARY`` (or
   ``BOUNDARY_PRESSURE``) below ``corroborate_keep`` (0.9) is demoted × ``corroborate_factor``
   (0.5) unless the turn or the turn before it uses personal-relationship words (data file);
   a model's ``TERMINATION_RISK`` below 0.9 likewise unless the turn mentions therapy itself
   (sessions, coming here, fees, …) or says explicitly that it is ending. Out of domain the model
   codes backchannels ("Mm-hmm.") as boundary crossings; an escalation flag on every seventh
   therapist turn would be noise that hides a real one. On a therapist turn of at most
   ``short_turn_words`` (3) words the corroboration is required whatever the probability.
   Demoted turns are listed in ``metrics["context"]["boundary_unconfirmed"]`` so a
   clinician can still check them.
6. Any remaining ``F_BOUNDARY`` is listed for escalation (``metrics["context"]["escalate"]``);
   the episodes analyzer flags its episode ``ESCALATE`` and suggests consultation, not repair.
7. A client's minimal answer after a long pause (sessions from recordings) is a
   ``W_MINIMAL`` candidate: :mod:`attunement.analysis.vocal`. It never lowers the text
   model's probability and never touches a turn a human coded.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.lexicons import phrase_regex, spoken, tokenize
from attunement.analysis.suggestions import ContextKeywords, repair_data
from attunement.analysis.vocal import minimal_after_pause
from attunement.model import Annotation, Role, Session, Utterance, default_codebook
from attunement.model.session import CONTEXT_SOURCE

SOURCE_PREFIX = CONTEXT_SOURCE


def effective(u: Utterance) -> dict[str, Annotation]:
    """The annotation that counts for each code on ``u`` (see ``Utterance.effective``)."""
    return u.effective()


def prob(u: Utterance, code: str) -> float:
    """Effective probability of ``code`` on ``u`` (0 when absent)."""
    a = effective(u).get(code)
    return a.probability if a else 0.0


def codes_at(u: Utterance, family_codes: set[str], threshold: float) -> dict[str, Annotation]:
    """Effective annotations of the given codes at or above ``threshold``."""
    return {
        c: a for c, a in effective(u).items() if c in family_codes and a.probability >= threshold
    }


def has_therapist_coding(session: Session) -> bool:
    """True when some therapist turn carries an empathy, behaviour, repair or failure code.

    Without such codes the absence of empathy is unknown, not zero.
    """
    cb = default_codebook()
    codes = set(cb.ids("empathy", "behaviour", "resolution", "failure"))
    return any(
        a.code in codes and not a.source.startswith(SOURCE_PREFIX)
        for u in session.utterances
        if u.role is Role.THERAPIST
        for a in u.annotations
    )


def position(session: Session, u: Utterance) -> int:
    """Where ``u`` sits in ``session.utterances``: its ``index`` when that is right (the
    model checks it), else found by identity — the rules never trust ``index`` blindly."""
    utts = session.utterances
    if 0 <= u.index < len(utts) and utts[u.index] is u:
        return u.index
    return next((i for i, x in enumerate(utts) if x is u), len(utts))


def previous_therapist(session: Session, u: Utterance) -> Utterance | None:
    utts = session.utterances
    for i in range(position(session, u) - 1, -1, -1):
        if utts[i].role is Role.THERAPIST:
            return utts[i]
    return None


class ContextRules(Analyzer):
    """Applies the codebook's context conditions to the coded session (rules, not a model)."""

    name = "context"
    version = "1"
    requires = ("coding",)
    # the F_IGNORE rule reads valence and the responsiveness features when present
    runs_after = ("tone", "emotional_responsiveness", "semantic_responsiveness")

    def __init__(
        self,
        keywords: ContextKeywords | None = None,
        marker_threshold: float = 0.5,
        closed_factor: float = 0.3,
        other_factor: float = 0.5,
        ack_factor: float = 0.3,
        grievance_turns: int = 3,
        failure_window: int = 6,
        ignore_min: float = 0.35,
        sem_low: float = 0.3,
        sem_high: float = 0.6,
        corroborate_keep: float = 0.9,
        corroborate_factor: float = 0.5,
        short_turn_words: int = 3,
    ) -> None:
        self.keywords = keywords
        self.marker_threshold = marker_threshold
        self.closed_factor = closed_factor
        self.other_factor = other_factor
        self.ack_factor = ack_factor
        self.grievance_turns = grievance_turns
        self.failure_window = failure_window
        self.ignore_min = ignore_min
        self.sem_low = sem_low
        self.sem_high = sem_high
        self.corroborate_keep = corroborate_keep
        self.corroborate_factor = corroborate_factor
        self.short_turn_words = short_turn_words
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}

    # --- helpers ----------------------------------------------------------------------
    def _kw(self) -> ContextKeywords:
        if self.keywords is None:
            self.keywords = repair_data().context
        return self.keywords

    def _regex(self, words: tuple[str, ...]) -> re.Pattern[str]:
        if words not in self._compiled:
            self._compiled[words] = phrase_regex(words)
        return self._compiled[words]

    def _invitation(self, t: Utterance) -> str:
        """'invite', 'closed' or 'other' for the therapist turn ``t``."""
        eff = effective(t)
        strong = self.marker_threshold
        if any(eff.get(c) and eff[c].probability >= strong for c in ("question_closed",)):
            return "closed"
        invite_codes = ("question_open", "reflection_simple", "reflection_complex")
        if any(c in eff and eff[c].probability >= strong for c in invite_codes) or (
            "E_EXPLORATION" in eff and eff["E_EXPLORATION"].probability >= strong
        ):
            return "invite"
        if any(c in eff and eff[c].probability >= strong for c in ("information", "advice")):
            return "other"
        # No behaviour code: simple cues on the last sentence of the turn.
        kw = self._kw()
        text = spoken(t.text)
        if self._regex(kw.reflection_cues).search(text):
            return "invite"
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
        last = sentences[-1] if sentences else ""
        if last.endswith("?"):
            if self._regex(kw.open_invitations).search(last):
                return "invite"
            words = tokenize(last)
            if words and words[0] in set(kw.closed_question_starts):
                return "closed"
            return "invite"  # "And then?" — treat an unclassified question as open
        if self._regex(kw.open_invitations).search(text):
            return "invite"
        return "other"

    def _add(self, u: Utterance, code: str, p: float, note: str) -> None:
        u.annotations.append(
            Annotation(
                code=code, probability=round(min(1.0, max(0.0, p)), 4), source=self.tag, note=note
            )
        )

    # --- the rules ----------------------------------------------------------------------
    def __call__(self, session: Session) -> Session:
        self.clear(session)
        cb = default_codebook()
        confront = set(cb.ids("confrontation"))
        markers = set(cb.ids("withdrawal", "confrontation"))
        empathy = set(cb.ids("empathy"))
        repairs = set(cb.ids("resolution"))
        failures = set(cb.ids("failure"))
        kw = self._kw()
        term_explicit_re = self._regex(kw.termination_explicit)
        personal_re = self._regex(kw.personal_relationship)
        owned_re = self._regex(kw.owned_failure)
        th = self.marker_threshold
        fired: dict[str, int] = {}

        def count(rule: str) -> None:
            fired[rule] = fired.get(rule, 0) + 1

        therapist_coded = has_therapist_coding(session)
        escalate: list[dict[str, Any]] = []
        utts = session.utterances
        unconfirmed: list[str] = []
        therapy_re = self._regex(kw.therapy_words)
        for i, u in enumerate(utts):
            if self._uncorroborated_boundary(session, i, personal_re):
                unconfirmed.append(u.id)
                count("boundary_unconfirmed")
            if self._uncorroborated_termination(u, therapy_re, term_explicit_re):
                count("termination_unconfirmed")
        # one pass, by position: the last therapist turn and the last few client turns
        # are carried along instead of searched for (linear in the session's length)
        last_therapist: Utterance | None = None
        recent_clients: deque[Utterance] = deque(maxlen=max(self.grievance_turns, 0))
        for i, u in enumerate(utts):
            eff = effective(u)
            if u.role is Role.CLIENT:
                self._client_rules(u, last_therapist, eff, kw, count, utts[i - 1] if i else None)
                if recent_clients.maxlen:
                    recent_clients.append(u)
                continue
            last_therapist = u
            # therapist turn
            ack = eff.get("R_ACKNOWLEDGE")
            if (
                ack is not None
                and ack.source != "human"
                and ack.probability > 0
                and not self._grievance_before(session, i, recent_clients, confront, failures)
                and not owned_re.search(spoken(u.text))
            ):
                self._add(
                    u,
                    "R_ACKNOWLEDGE",
                    ack.probability * self.ack_factor,
                    "demoted: an apology with no grievance or therapist failure before it, "
                    "and naming no mistake of the therapist's, is politeness, not repair",
                )
                count("acknowledge_without_grievance")
            fb = eff.get("F_BOUNDARY")
            if fb is not None and fb.probability >= th:
                escalate.append(
                    {"utterance": u.id, "at": u.timestamp(), "p": round(fb.probability, 3)}
                )
            if therapist_coded:
                self._ignore_rule(session, i, eff, markers, empathy, repairs, count)
        metrics: dict[str, Any] = {
            "rules_fired": dict(sorted(fired.items())),
            "escalate": escalate,
            "boundary_unconfirmed": unconfirmed,
            "therapist_codes_present": therapist_coded,
            "headline": {
                "Rules applied": sum(fired.values()),
                "Demoted minimal answers": fired.get("w_minimal_after_closed", 0)
                + fired.get("w_minimal_after_other", 0),
                "Ignored markers or feelings": fired.get("ignore", 0),
                "Escalate (boundary)": len(escalate),
            },
        }
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session

    def _client_rules(
        self,
        u: Utterance,
        prev: Utterance | None,
        eff: dict[str, Annotation],
        kw: ContextKeywords,
        count: Any,
        before: Utterance | None = None,
    ) -> None:
        """Minimal answers in context, and the derived termination / boundary flags."""
        th = self.marker_threshold
        term_re, term_explicit_re = (
            self._regex(kw.termination),
            self._regex(kw.termination_explicit),
        )
        personal_re = self._regex(kw.personal_relationship)
        wm = eff.get("W_MINIMAL")
        if wm is not None and wm.source != "human" and wm.probability > 0:
            kind = self._invitation(prev) if prev is not None else "invite"
            if kind != "invite":
                factor = self.closed_factor if kind == "closed" else self.other_factor
                why = "a closed question" if kind == "closed" else "a turn that invited nothing"
                self._add(
                    u,
                    "W_MINIMAL",
                    wm.probability * factor,
                    f"demoted: a short answer after {why} ({prev.id if prev else '-'}) "
                    "is expected, not withdrawal",
                )
                count(f"w_minimal_after_{kind}")
        # the pause is measured from the utterance just before: it must be the therapist's
        heard = minimal_after_pause(u, before, self._invitation(before) if before else "other")
        human = any(a.source == "human" for a in u.annotations)
        if heard is not None and not human:  # a human's coding of the turn stands
            model_p = max(
                (
                    a.probability
                    for a in u.annotations
                    if a.code == "W_MINIMAL" and not a.source.startswith(SOURCE_PREFIX)
                ),
                default=0.0,
            )
            if heard[0] > model_p:  # never lowers what the text model found
                self._add(u, "W_MINIMAL", *heard)
                count("w_minimal_after_pause")
        text = spoken(u.text)
        term = eff.get("TERMINATION_RISK")
        term_p = term.probability if term else 0.0
        cp = eff.get("C_PARAMETERS")
        if cp is not None and cp.probability >= th and term_re.search(text):
            if term_p < cp.probability:
                self._add(
                    u,
                    "TERMINATION_RISK",
                    cp.probability,
                    "parameters complaint that talks of ending, stopping, cost or cutting down",
                )
                count("termination_from_parameters")
        elif term_p < th and term_explicit_re.search(text):
            self._add(u, "TERMINATION_RISK", 0.6, "explicit talk of ending therapy")
            count("termination_explicit")
        cc = eff.get("C_CONTROL")
        bp = eff.get("BOUNDARY_PRESSURE")
        if (
            cc is not None
            and cc.probability >= th
            and personal_re.search(text)
            and (bp.probability if bp else 0.0) < cc.probability
        ):
            self._add(
                u,
                "BOUNDARY_PRESSURE",
                cc.probability,
                "pressure that asks for a personal relationship",
            )
            count("boundary_pressure")

    def _uncorroborated_boundary(
        self, session: Session, at: int, personal_re: re.Pattern[str]
    ) -> bool:
        """Demote an uncorroborated boundary code on the utterance at ``at``; True when it
        did."""
        u = session.utterances[at]
        code = "F_BOUNDARY" if u.role is Role.THERAPIST else "BOUNDARY_PRESSURE"
        a = effective(u).get(code)
        # a backchannel ("Mm-hmm.") cannot cross a boundary by itself: it always needs the
        # words around it, however confident the model is
        short = u.role is Role.THERAPIST and len(tokenize(u.text)) <= self.short_turn_words
        keep = 1.0 + 1e-9 if short else self.corroborate_keep
        if a is None or a.source == "human" or not (0 < a.probability < keep):
            return False
        nearby = [u, *session.utterances[max(0, at - 1) : at]]
        if any(personal_re.search(spoken(x.text)) for x in nearby):
            return False
        self._add(
            u,
            code,
            a.probability * self.corroborate_factor,
            "demoted: no words of a personal relationship in this exchange; check the "
            "model's boundary code before acting on it",
        )
        return True

    def _uncorroborated_termination(
        self, u: Utterance, therapy_re: re.Pattern[str], explicit_re: re.Pattern[str]
    ) -> bool:
        """Demote a model's termination flag on a turn that is not about therapy."""
        if u.role is not Role.CLIENT:
            return False
        a = effective(u).get("TERMINATION_RISK")
        if a is None or a.source == "human" or not (0 < a.probability < self.corroborate_keep):
            return False
        text = spoken(u.text)
        if therapy_re.search(text) or explicit_re.search(text):
            return False
        self._add(
            u,
            "TERMINATION_RISK",
            a.probability * self.corroborate_factor,
            "demoted: the turn does not mention therapy, sessions or ending them",
        )
        return True

    def _grievance_before(
        self,
        session: Session,
        at: int,
        recent_clients: deque[Utterance],
        confront: set[str],
        failures: set[str],
    ) -> bool:
        """A confrontation marker in the last ``grievance_turns`` client turns before the
        therapist turn at ``at``, or a therapist failure in the last ``failure_window``."""
        for prev in reversed(recent_clients):
            if codes_at(prev, confront, self.marker_threshold):
                return True
        window = session.utterances[max(0, at - self.failure_window) : at + 1]
        return any(
            codes_at(w, failures, self.marker_threshold) for w in window if w.role is Role.THERAPIST
        )

    def _ignore_rule(
        self,
        session: Session,
        at: int,
        eff: dict[str, Annotation],
        markers: set[str],
        empathy: set[str],
        repairs: set[str],
        count: Any,
    ) -> None:
        t = session.utterances[at]
        if at == 0 or "F_IGNORE" in eff:
            return
        client = session.utterances[at - 1]
        if client.role is not Role.CLIENT:
            return
        th = self.marker_threshold
        if any(c in eff and eff[c].probability >= th for c in empathy | repairs):
            return
        found = codes_at(client, markers, th)
        marker_p = max((a.probability for a in found.values()), default=0.0)
        valence = client.features.get("valence")
        feeling = 0.0
        if valence is not None and valence <= -0.5:
            feeling = min(1.0, -valence)
        if client.features.get("expresses_feeling") == 1.0 and client.meta.get("emotions"):
            feeling = max(feeling, 0.7)
        signal = max(marker_p, feeling)
        if signal < th:
            return
        miss = self._miss(t)
        if miss is None:
            return
        p = signal * miss
        if p < self.ignore_min:
            return
        what = f"marker {max(found, key=lambda c: found[c].probability)}" if found else "feeling"
        self._add(
            t,
            "F_IGNORE",
            p,
            f"answers a client {what} ({client.id}) with no empathy or repair move and low "
            f"responsiveness (signal {signal:.2f} x miss {miss:.2f})",
        )
        count("ignore")

    def _miss(self, t: Utterance) -> float | None:
        """How far the reply misses the client turn, 0..1 (None when nothing measured).

        Mean of (1 − emotional responsiveness) and the semantic miss, a linear ramp from 1 at
        cosine ≤ ``sem_low`` to 0 at ≥ ``sem_high``.
        """
        parts: list[float] = []
        er = t.features.get("emotional_responsiveness")
        if er is not None:
            parts.append(1.0 - er)
        sem = t.features.get("semantic_responsiveness")
        if sem is not None:
            span = self.sem_high - self.sem_low
            parts.append(min(1.0, max(0.0, (self.sem_high - sem) / span)))
        return sum(parts) / len(parts) if parts else None
