"""Deterministic safety checks run on every user message before retrieval.

The engine asks one question per message: is this an emergency, a request for a person,
an attempt to manipulate the assistant, something clearly outside consular work, or a
plain "yes"? The answer comes from phrase lists in ``safety_patterns.yaml`` (grouped by
category and language, so operators extend them without code) matched on word
boundaries over *folded* text: lower-case, no diacritics, đ→d. "bị bắt", "bi bat" and
"BỊ BẮT" are therefore the same phrase, and Vietnamese chat abbreviations ("ck", "hc",
"cs", "ko") are expanded before matching.

Pattern syntax (one string per phrase):

- words separated by spaces must follow each other: ``bi bat``;
- ``...`` lets up to four words come between: ``bi ... bat`` ("bị cảnh sát Nhật bắt");
- ``{a|b|}`` is one of several words or word sequences (an empty one makes it optional);
- ``word*`` matches any ending: ``arrest*``;
- ``!{a|b}`` at the end refuses the match when the next word is one of them
  (``bi ... bat !{buoc|dau}`` leaves "bị bắt buộc", compulsory, alone);
- a phrase containing Chinese, Japanese, Korean or Thai characters matches as a substring
  (those scripts do not separate words with spaces);
- ``re:...`` is a raw regular expression over the folded text.

A rule can require other sets to match somewhere in the message (``with``) and can be
cancelled by guard sets (``unless``): a hypothetical ("what can the embassy do *if*
someone is arrested") or an old event ("died *last year*"). Missing an emergency is the
worst mistake the product can make, so guards only look at the sentence of the match.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from retrieval.textnorm import SPACELESS_SCRIPT, fold_word, words

DEFAULT_PATTERNS_FILE = Path(__file__).with_name("safety_patterns.yaml")

# Where a sentence ends; guards are scoped to the sentence of the match.
_SENTENCE_END = re.compile(r"[.!?;\n。！？；]")
_GAP_WORDS = 4
# Long runs of base64 hide instructions from the phrase lists; they are decoded and checked.
_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


@dataclass(frozen=True)
class SafetyVerdict:
    """What the engine needs to know about one message before answering it."""

    emergency: str | None = None
    human_request: bool = False
    manipulation: str | None = None
    out_of_scope: bool = False
    affirmative: bool = False
    reassured: bool = False  # the writer says everyone is safe
    reason: str = "ordinary"

    @property
    def ordinary(self) -> bool:
        """True when nothing stops the engine from answering from the knowledge base."""
        return not (self.emergency or self.human_request or self.manipulation or self.out_of_scope)


@dataclass(frozen=True)
class _Sentence:
    """One sentence as folded words joined by single spaces, with a way back to the input."""

    text: str
    spans: tuple[tuple[int, int], ...]  # original (start, end) of each folded character
    original: str

    def quote(self, start: int, end: int) -> str:
        """The input text that produced ``text[start:end]``."""
        begin = next(s for s, _ in self.spans[start:end] if s >= 0)
        finish = max(e for _, e in self.spans[start:end])
        return self.original[begin:finish]


@dataclass(frozen=True)
class _Message:
    sentences: tuple[_Sentence, ...]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class _Hit:
    sentence: _Sentence
    start: int
    end: int

    @property
    def quote(self) -> str:
        return self.sentence.quote(self.start, self.end)


@dataclass(frozen=True)
class PhraseSet:
    """Compiled phrases; ``where`` says how a guard set is scoped (see ``Rule``)."""

    regexes: tuple[re.Pattern[str], ...]
    where: str = "sentence"

    def search(self, sentence: _Sentence, end: int | None = None) -> _Hit | None:
        """First match in one sentence (only before ``end`` when given)."""
        text = sentence.text if end is None else sentence.text[:end]
        for regex in self.regexes:
            match = regex.search(text)
            if match:
                return _Hit(sentence, match.start(), match.end())
        return None

    def search_all(self, message: _Message) -> Iterable[_Hit]:
        """Every first match, sentence by sentence and phrase by phrase."""
        for sentence in message.sentences:
            for regex in self.regexes:
                for match in regex.finditer(sentence.text):
                    yield _Hit(sentence, match.start(), match.end())

    def matches(self, message: _Message) -> bool:
        return any(self.search(s) for s in message.sentences)


@dataclass(frozen=True)
class Rule:
    """Phrases that mean ``kind``, with the sets that must also match and the guards."""

    kind: str
    match: PhraseSet
    with_: tuple[PhraseSet, ...] = ()
    unless: tuple[PhraseSet, ...] = ()

    def find(self, message: _Message) -> _Hit | None:
        """The first match that is not cancelled by a guard, if every ``with`` set is met."""
        if not all(required.matches(message) for required in self.with_):
            return None
        for hit in self.match.search_all(message):
            if not any(self._guarded(hit, guard, message) for guard in self.unless):
                return hit
        return None

    @staticmethod
    def _guarded(hit: _Hit, guard: PhraseSet, message: _Message) -> bool:
        if guard.where == "message":
            return guard.matches(message)
        if guard.where == "before":  # "if ... arrested": the condition comes first
            return guard.search(hit.sentence, end=hit.start) is not None
        return guard.search(hit.sentence) is not None


@dataclass(frozen=True)
class _Affirmation:
    """Short acceptances: the whole message is made of yes-words and politeness."""

    yes: re.Pattern[str] | None
    filler: re.Pattern[str] | None
    max_words: int = 8

    def accepts(self, message: _Message) -> bool:
        text = message.text
        if self.yes is None or not text or len(text.split()) > self.max_words:
            return False
        if not self.yes.search(text):
            return False
        rest = self.yes.sub(" ", text)
        if self.filler is not None:
            rest = self.filler.sub(" ", rest)
        return not rest.strip()

    def starts(self, message: _Message) -> bool:
        """Whether the message opens with a yes-word ("ok cho e gap can bo di")."""
        return bool(self.yes and self.yes.match(message.text))


@dataclass(frozen=True)
class SafetyClassifier:
    """Classifies messages with the rules of one patterns file."""

    abbreviations: Mapping[tuple[str, ...], tuple[str, ...]]
    emergency: tuple[Rule, ...]
    manipulation: tuple[Rule, ...]
    human_request: tuple[Rule, ...]
    out_of_scope: tuple[Rule, ...]
    affirmation: _Affirmation
    reassurance: PhraseSet | None = None
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> SafetyClassifier:
        """Read the patterns file (default: ``safety_patterns.yaml`` beside this module)."""
        path = Path(path) if path is not None else DEFAULT_PATTERNS_FILE
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls.from_mapping(data, source=path)

    @classmethod
    def from_mapping(cls, data: Mapping, source: Path | None = None) -> SafetyClassifier:
        """Build from the parsed YAML (tests pass small mappings)."""
        sets = {
            name: _compile_set(spec, f"sets.{name}") for name, spec in data.get("sets", {}).items()
        }
        abbreviations = {
            tuple(_fold_words(str(key))): tuple(_fold_words(str(value)))
            for key, value in (data.get("abbreviations") or {}).items()
        }
        affirmative = data.get("affirmative") or {}
        return cls(
            abbreviations=abbreviations,
            emergency=_compile_rules(data.get("emergency"), sets, "emergency"),
            manipulation=_compile_rules(data.get("manipulation"), sets, "manipulation"),
            human_request=_compile_rules(data.get("human_request"), sets, "human_request"),
            out_of_scope=_compile_rules(data.get("out_of_scope"), sets, "out_of_scope"),
            affirmation=_Affirmation(
                yes=_alternation(affirmative.get("yes")),
                filler=_alternation(affirmative.get("filler")),
                max_words=int(affirmative.get("max_words", 8)),
            ),
            reassurance=sets.get("reassurance"),
            source=source,
        )

    def check(self, text: str) -> SafetyVerdict:
        """Classify one message as the user typed it."""
        message = self._prepare(text or "")
        reasons: list[str] = []

        emergency = _first(self.emergency, message)
        if emergency:
            reasons.append(f"emergency: {emergency[0]} (matched {emergency[1]!r})")

        human = _first(self.human_request, message)
        if human:
            reasons.append(f"human request (matched {human[1]!r})")

        manipulation = _first(self.manipulation, message) or self._hidden_manipulation(text)
        if manipulation:
            reasons.append(f"manipulation: {manipulation[0]} (matched {manipulation[1]!r})")

        # An emergency or a request for a person is never turned away as off-topic.
        off_topic = None if emergency or human else _first(self.out_of_scope, message)
        if off_topic:
            reasons.append(f"out of scope: {off_topic[0]} (matched {off_topic[1]!r})")

        affirmative = self.affirmation.accepts(message) or bool(
            human and self.affirmation.starts(message)
        )
        if affirmative:
            reasons.append("affirmative")

        return SafetyVerdict(
            emergency=emergency[0] if emergency else None,
            human_request=bool(human),
            manipulation=manipulation[0] if manipulation else None,
            out_of_scope=bool(off_topic),
            affirmative=affirmative,
            reassured=bool(self.reassurance and self.reassurance.matches(message)),
            reason="; ".join(reasons) or "ordinary",
        )

    def normalise(self, text: str) -> str:
        """The message as the phrase lists see it: folded, chat abbreviations expanded."""
        return self._prepare(text or "").text

    def _hidden_manipulation(self, text: str) -> tuple[str, str] | None:
        """Instructions smuggled in base64 are checked once decoded."""
        for blob in _BASE64.findall(text or ""):
            decoded = _decode_base64(blob)
            if decoded:
                found = _first(self.manipulation, self._prepare(decoded))
                if found:
                    return found[0], f"base64: {found[1]}"
        return None

    def _prepare(self, text: str) -> _Message:
        """Split into sentences of folded, abbreviation-expanded words."""
        original = unicodedata.normalize("NFC", text)
        sentences = []
        for tokens in _sentence_tokens(original):
            sentences.append(self._sentence(self._expand(tokens), original))
        return _Message(tuple(s for s in sentences if s.text))

    def _expand(self, tokens: list[tuple[str, int, int, bool]]) -> list[tuple[str, int, int]]:
        """Replace chat abbreviations typed without marks ("ck" → "chong", "hc" → "ho chieu")."""
        longest = max((len(k) for k in self.abbreviations), default=0)
        out: list[tuple[str, int, int]] = []
        i = 0
        while i < len(tokens):
            for length in range(min(longest, len(tokens) - i), 0, -1):
                window = tokens[i : i + length]
                key = tuple(t[0] for t in window)
                if key in self.abbreviations and all(t[3] for t in window):
                    start, end = window[0][1], window[-1][2]
                    out.extend((word, start, end) for word in self.abbreviations[key])
                    i += length
                    break
            else:
                out.append(tokens[i][:3])
                i += 1
        return out

    @staticmethod
    def _sentence(tokens: list[tuple[str, int, int]], original: str) -> _Sentence:
        chars: list[str] = []
        spans: list[tuple[int, int]] = []
        for word, start, end in tokens:
            if chars:
                chars.append(" ")
                spans.append((-1, -1))
            chars.extend(word)
            spans.extend([(start, end)] * len(word))
        return _Sentence("".join(chars), tuple(spans), original)


def _first(rules: Iterable[Rule], message: _Message) -> tuple[str, str] | None:
    """The kind and quoted text of the first rule (file order) that matches."""
    for rule in rules:
        hit = rule.find(message)
        if hit:
            return rule.kind, hit.quote
    return None


def _sentence_tokens(text: str) -> list[list[tuple[str, int, int, bool]]]:
    """Words of each sentence: (folded, start, end, typed without marks)."""
    sentences: list[list[tuple[str, int, int, bool]]] = [[]]
    position = 0
    for word in words(text):
        start = text.index(word, position)
        if sentences[-1] and _SENTENCE_END.search(text, position, start):
            sentences.append([])
        folded = fold_word(word)
        sentences[-1].append((folded, start, start + len(word), folded == word.lower()))
        position = start + len(word)
    return sentences


def _decode_base64(blob: str) -> str | None:
    """Readable text hidden in a base64 run, or None."""
    try:
        decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
    return decoded if decoded and printable / len(decoded) > 0.95 else None


# --- compiling the patterns file ----------------------------------------------------------

_PART = re.compile(r"!\{[^}]*\}|\{[^}]*\}|\.\.\.|\S+")


def _fold_words(text: str) -> list[str]:
    return [fold_word(w) for w in words(text)]


def _compile_phrase(phrase: str) -> re.Pattern[str]:
    """One phrase of the patterns file as a regular expression over folded text."""
    phrase = str(phrase).strip()
    if phrase.startswith("re:"):
        return re.compile(phrase[3:].strip())
    parts = _PART.findall(phrase)
    refusal = "".join(
        rf"(?! (?:{'|'.join(o for o in _alternatives(p[2:-1]) if o)})(?!\S))"
        for p in parts
        if p.startswith("!{") and any(_alternatives(p[2:-1]))
    )
    body, leading = "", False  # leading: the next element must bring its own space
    for part in (p for p in parts if not p.startswith("!{")):
        if part == "...":
            body += rf"(?: \S+){{0,{_GAP_WORDS}}}"
            continue
        options = _alternatives(part[1:-1]) if part.startswith("{") else [_word(part)]
        inner = "|".join(o for o in options if o)
        if not inner:
            continue
        if "" in options:  # optional: "a {b|} c" matches "a b c" and "a c"
            body += f"(?: (?:{inner}))?" if leading else f"(?:(?:{inner}) )?"
            continue
        body += f"{' ' if leading else ''}(?:{inner})"
        leading = True
    if SPACELESS_SCRIPT.search(phrase):
        return re.compile(body + refusal)
    return re.compile(rf"(?<!\S){body}(?!\S){refusal}")


def _word(part: str) -> str:
    """One word of a phrase (``word*`` matches any ending)."""
    star = part.endswith("*") and len(part) > 1
    tokens = _fold_words(part.rstrip("*") if star else part)
    text = " ".join(re.escape(t) for t in tokens)
    return text + r"\S*" if star and text else text


def _alternatives(body: str) -> list[str]:
    """Each option of ``{a|b c|d*}`` as a regex fragment ("" for the empty option)."""
    options = []
    for option in body.split("|"):
        pieces = [_word(w) for w in option.split()]
        options.append(" ".join(p for p in pieces if p))
    return options


def _compile_set(spec, where_name: str) -> PhraseSet:
    """A mapping ``{where: ..., <lang>: [phrases]}`` or a plain list of phrases."""
    where = "sentence"
    phrases: list[str] = []
    if isinstance(spec, Mapping):
        where = str(spec.get("where", "sentence"))
        for key, value in spec.items():
            if key != "where":
                phrases.extend(value or [])
    elif isinstance(spec, list):
        phrases.extend(spec)
    else:
        raise ValueError(f"{where_name}: expected a mapping of languages or a list of phrases")
    if where not in {"sentence", "before", "message"}:
        raise ValueError(f"{where_name}: where must be sentence, before or message")
    regexes = []
    for phrase in phrases:
        if not isinstance(phrase, str):  # YAML reads a bare yes/no/on/off as a boolean
            raise ValueError(f"{where_name}: quote the phrase {phrase!r}")
        try:
            regexes.append(_compile_phrase(str(phrase)))
        except re.error as error:
            raise ValueError(f"{where_name}: bad pattern {phrase!r}: {error}") from error
    return PhraseSet(tuple(regexes), where)


def _compile_rules(specs, sets: Mapping[str, PhraseSet], section: str) -> tuple[Rule, ...]:
    rules = []
    for index, spec in enumerate(specs or []):
        where = f"{section}[{index}]"
        kind = str(spec.get("kind", section))
        rules.append(
            Rule(
                kind=kind,
                match=_compile_set(spec["match"], f"{where}.match"),
                with_=tuple(_resolve(s, sets, f"{where}.with") for s in spec.get("with", [])),
                unless=tuple(_resolve(s, sets, f"{where}.unless") for s in spec.get("unless", [])),
            )
        )
    return tuple(rules)


def _resolve(spec, sets: Mapping[str, PhraseSet], where: str) -> PhraseSet:
    """A named set from ``sets:`` or an inline one."""
    if isinstance(spec, str):
        if spec not in sets:
            raise ValueError(f"{where}: unknown set {spec!r}")
        return sets[spec]
    return _compile_set(spec, where)


def _alternation(spec) -> re.Pattern[str] | None:
    """Phrases of the affirmative section as one regex, longest first."""
    if not spec:
        return None
    phrases = []
    for value in spec.values() if isinstance(spec, Mapping) else [spec]:
        for phrase in value or []:
            if not isinstance(phrase, str):  # a bare yes/no/on/off reads as a boolean
                raise ValueError(f"affirmative: quote the phrase {phrase!r}")
            phrases.append(" ".join(_fold_words(phrase)))
    phrases = sorted({p for p in phrases if p}, key=len, reverse=True)
    return re.compile(r"(?<!\S)(?:" + "|".join(re.escape(p) for p in phrases) + r")(?!\S)")


__all__ = ["PhraseSet", "Rule", "SafetyClassifier", "SafetyVerdict"]
