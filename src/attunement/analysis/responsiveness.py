"""Emotional responsiveness: does the therapist's reply meet the feeling the client just
expressed?

A transparent rule set, **not a validated measure**: for each (client turn, therapist
reply) where the client turn expressed feeling (``expresses_feeling`` from the tone
analyzer), the reply scores 0..1 as the capped sum of

* naming the same feeling family (+0.5), a related one (+0.4) or any feeling (+0.25);
* reflection language — "sounds like", "you feel", "that must" (+0.4);
* acknowledgement — "I hear", "I'm sorry", "that makes sense" (+0.3);
* exploring the feeling — "how did that feel", "say more" (+0.4);

and a reply that turns to logistics or advice ("you should", "next week", "homework")
without any feeling word, reflection or acknowledgement loses 0.3. A score ≥ 0.5 counts as
a responsive reply. Missed moments are reported by utterance id and timestamp only.
"""

from __future__ import annotations

from typing import Any

from attunement.analysis.base import Analyzer
from attunement.analysis.lexicons import normalize, phrase_regex
from attunement.analysis.tone import EmotionMatcher, default_matcher
from attunement.model import Session, Utterance

RESPONSIVE = 0.5
W_SAME, W_RELATED, W_ANY = 0.5, 0.4, 0.25
W_REFLECT, W_ACK, W_EXPLORE = 0.4, 0.3, 0.4
LOGISTICS_PENALTY = 0.3


class ReplyScorer:
    """Scores one therapist reply against the client turn it answers."""

    def __init__(self, matcher: EmotionMatcher | None = None) -> None:
        self.matcher = m = matcher or default_matcher()
        cues = m.lexicon.responsiveness
        self.related = m.lexicon.related
        self.reflection = phrase_regex(cues.reflection)
        self.acknowledgement = phrase_regex(cues.acknowledgement)
        self.exploration = phrase_regex(cues.exploration)
        self.logistics = phrase_regex(cues.logistics)

    def _feelings(self, u: Utterance) -> set[str]:
        """Feeling families the tone analyzer found (recomputed if it has not run)."""
        found = u.meta.get("emotions")
        if isinstance(found, list):
            return {str(e) for e in found}
        if "valence" in u.features:  # tone ran and found none
            return set()
        return set(self.matcher.feelings(u.text))

    def score(self, client: Utterance, reply: Utterance) -> tuple[float, list[str]]:
        """(score 0..1, names of the rules that fired) for ``reply``."""
        client_emos = self._feelings(client)
        said = self._feelings(reply)
        text = normalize(reply.text)
        fired: list[str] = []
        score = 0.0
        if said & client_emos:
            score += W_SAME
            fired.append("same_emotion")
        elif said & {r for e in client_emos for r in self.related.get(e, [])}:
            score += W_RELATED
            fired.append("related_emotion")
        elif said:
            score += W_ANY
            fired.append("names_feeling")
        for rule, regex, weight in (
            ("reflection", self.reflection, W_REFLECT),
            ("acknowledgement", self.acknowledgement, W_ACK),
            ("exploration", self.exploration, W_EXPLORE),
        ):
            if regex.search(text):
                score += weight
                fired.append(rule)
        warm = bool(said) or "reflection" in fired or "acknowledgement" in fired
        if not warm and self.logistics.search(text):
            score -= LOGISTICS_PENALTY
            fired.append("logistics_or_advice")
        return min(1.0, max(0.0, score)), fired


class EmotionalResponsiveness(Analyzer):
    """Scores therapist replies to feeling-bearing client turns (heuristic)."""

    name = "emotional_responsiveness"
    version = "1"
    requires = ("tone",)

    def __init__(self, scorer: ReplyScorer | None = None) -> None:
        self._scorer = scorer

    @property
    def scorer(self) -> ReplyScorer:
        if self._scorer is None:
            self._scorer = ReplyScorer()
        return self._scorer

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        for u in session.utterances:
            u.features.pop(self.name, None)
        scored: list[tuple[Utterance, Utterance, float]] = []
        rules: dict[str, int] = {}
        for client, reply in session.exchanges():
            if client.features.get("expresses_feeling") != 1.0:
                continue
            s, fired = self.scorer.score(client, reply)
            reply.features[self.name] = round(s, 3)
            scored.append((client, reply, s))
            for r in fired:
                rules[r] = rules.get(r, 0) + 1
        n = len(scored)
        hits = sum(1 for *_, s in scored if s >= RESPONSIVE)
        missed = [
            {
                "client": c.id,
                "reply": r.id,
                "client_at": c.timestamp(),
                "reply_at": r.timestamp(),
                "score": round(s, 3),
            }
            for c, r, s in scored
            if s < RESPONSIVE
        ]
        mean = round(sum(s for *_, s in scored) / n, 3) if n else None
        share = round(hits / n, 4) if n else None
        metrics: dict[str, Any] = {
            "threshold": RESPONSIVE,
            "feeling_moments": n,
            "responsive": hits,
            "share_responsive": share,
            "mean_score": mean,
            "rules_fired": rules,
            "missed": missed,
            "validated": False,
            "headline": {
                "Feeling moments": n,
                "Met with a responsive reply %": "n/a" if share is None else round(100 * share, 1),
                "Mean responsiveness": "n/a" if mean is None else mean,
                "Missed moments": len(missed),
            },
        }
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session
