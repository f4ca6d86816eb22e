"""Restoring Vietnamese diacritics on text typed without them.

The multilingual embedding model barely understands "ho chieu het han" but does
understand "hộ chiếu hết hạn". For each folded syllable the model keeps the accented
forms seen in the corpus; a bigram model over those forms and Viterbi pick the most
likely sequence. Trained on the knowledge base's own Vietnamese text.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.text import to_nfc
from retrieval.textnorm import fold_word

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]+|\s+", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.!?;:\n•\-–()\[\]\"]+")
_START = "<s>"


@dataclass
class DiacriticRestorer:
    """Bigram model over accented syllables; ``restore`` fills marks in where they are missing."""

    forms: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    bigrams: Counter[tuple[str, str]] = field(default_factory=Counter)
    unigrams: Counter[str] = field(default_factory=Counter)
    interpolation: float = 0.8

    @classmethod
    def train(cls, texts: Iterable[str]) -> DiacriticRestorer:
        """Learn syllable forms and bigrams from Vietnamese text (with diacritics)."""
        model = cls()
        for text in texts:
            for sentence in _SENTENCE_BREAK.split(to_nfc(text)):
                syllables = [w.lower() for w in re.findall(r"[^\W\d_]+", sentence)]
                previous = _START
                for syllable in syllables:
                    model.forms[fold_word(syllable)][syllable] += 1
                    model.unigrams[syllable] += 1
                    model.bigrams[(previous, syllable)] += 1
                    previous = syllable
                model.unigrams[_START] += 1
        return model

    def restore(self, text: str) -> str:
        """The text with marks restored on syllables typed without them; the rest untouched."""
        pieces = _TOKEN.findall(to_nfc(text))
        word_positions = [i for i, p in enumerate(pieces) if p[0].isalpha()]
        if not word_positions:
            return text
        restored = self._viterbi([pieces[i] for i in word_positions])
        for position, word in zip(word_positions, restored, strict=True):
            pieces[position] = word
        return "".join(pieces)

    def _candidates(self, word: str) -> list[str]:
        lower = word.lower()
        if fold_word(lower) != lower:  # already typed with marks: trust the user
            return [lower]
        forms = self.forms.get(lower)
        return [f for f, _ in forms.most_common(8)] if forms else [lower]

    def _log_prob(self, previous: str, word: str) -> float:
        total = sum(self.unigrams.values()) or 1
        unigram = (self.unigrams.get(word, 0) + 0.1) / (total + 0.1 * (len(self.unigrams) + 1))
        prev_count = self.unigrams.get(previous, 0)
        bigram = self.bigrams.get((previous, word), 0) / prev_count if prev_count else 0.0
        return math.log(self.interpolation * bigram + (1 - self.interpolation) * unigram)

    def _viterbi(self, tokens: list[str]) -> list[str]:
        lattice = [self._candidates(t) for t in tokens]
        scores = {c: self._log_prob(_START, c) for c in lattice[0]}
        back: list[dict[str, str]] = []
        for candidates in lattice[1:]:
            step_scores, step_back = {}, {}
            for cand in candidates:
                best_prev = max(scores, key=lambda p, c=cand: scores[p] + self._log_prob(p, c))
                step_scores[cand] = scores[best_prev] + self._log_prob(best_prev, cand)
                step_back[cand] = best_prev
            scores = step_scores
            back.append(step_back)
        best = max(scores, key=scores.__getitem__)
        path = [best]
        for step in reversed(back):
            path.append(step[path[-1]])
        path.reverse()
        return [_match_case(orig, new) for orig, new in zip(tokens, path, strict=True)]


def _match_case(original: str, restored: str) -> str:
    if original.isupper() and len(original) > 1:
        return restored.upper()
    if original[:1].isupper():
        return restored[:1].upper() + restored[1:]
    return restored
