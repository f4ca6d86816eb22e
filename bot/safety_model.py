"""A learned second opinion for the safety checks: character n-grams and a linear model.

The phrase lists in ``safety_patterns.yaml`` are precise but only catch phrasings their
authors thought of; a citizen in trouble writes "they took my husband away in a van"
rather than "arrested". This model is trained at start-up (about a second, no weights
on disk) from the labelled messages in ``safety_examples/`` and scores every message
for each label. Character n-grams over folded text carry across inflections, typos,
missing diacritics and scripts written without spaces, which is where the phrase lists
are weakest.

It only ever *adds* findings to what the patterns found, each behind a threshold chosen
on the dev sets (see ``evals/README.md``): the worst mistake is a missed emergency, the
second worst a false alarm on an ordinary question.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EXAMPLES_DIR = Path(__file__).with_name("safety_examples")
LABELS = ("urgent", "none", "human", "out_of_scope", "manipulation")


class SafetyExamplesError(ValueError):
    """A labelled-examples file that cannot be used for training."""


@dataclass(frozen=True)
class SafetyExample:
    text: str
    lang: str
    label: str
    kind: str


@dataclass(frozen=True)
class SafetyScores:
    """Probabilities per label, and the most likely emergency kind."""

    probabilities: Mapping[str, float]
    emergency_kind: str

    def __getitem__(self, label: str) -> float:
        return self.probabilities.get(label, 0.0)


@dataclass(frozen=True)
class ModelThresholds:
    """How sure the model must be before its finding counts (chosen on the dev sets)."""

    urgent: float = 0.6
    doubtful_urgent: float = 0.9  # the writer says all are safe, or the topic is off-scope
    manipulation: float = 0.6
    out_of_scope: float = 0.6
    human: float = 0.75


def load_examples(directory: Path = DEFAULT_EXAMPLES_DIR) -> list[SafetyExample]:
    """Every ``*.jsonl`` file of the folder, validated; duplicates kept once."""
    examples: dict[str, SafetyExample] = {}
    files = sorted(Path(directory).glob("*.jsonl"))
    if not files:
        raise SafetyExamplesError(f"no labelled safety examples (*.jsonl) in {directory}")
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            example = _parse(line, f"{path.name}:{number}")
            examples.setdefault(example.text, example)
    return list(examples.values())


def _parse(line: str, where: str) -> SafetyExample:
    try:
        data = json.loads(line)
        example = SafetyExample(
            text=str(data["text"]).strip(),
            lang=str(data.get("lang", "")),
            label=str(data["label"]),
            kind=str(data.get("kind", "")),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise SafetyExamplesError(f"{where}: not a labelled example ({error})") from error
    if example.label not in LABELS:
        raise SafetyExamplesError(f"{where}: label must be one of {', '.join(LABELS)}")
    if not example.text:
        raise SafetyExamplesError(f"{where}: empty text")
    return example


class SafetyModel:
    """Label probabilities for one message, from models fitted on labelled examples."""

    def __init__(self, features, labels: Mapping, kinds, normalise: Callable[[str], str]) -> None:
        self._features = features  # fitted: texts -> sparse n-gram vectors
        self._labels = labels  # label -> fitted binary classifier (that label or not)
        self._kinds = kinds  # fitted: vector -> emergency kind
        self._normalise = normalise

    @classmethod
    def train(
        cls, examples: Iterable[SafetyExample], normalise: Callable[[str], str]
    ) -> SafetyModel:
        """Fit one binary model per label and an emergency-kind model (scikit-learn)."""
        examples = list(examples)
        texts = [normalise(e.text) for e in examples]
        features = _features()
        vectors = features.fit_transform(texts)
        labels = {}
        for label in LABELS:
            target = [e.label == label for e in examples]
            if any(target) and not all(target):
                labels[label] = _binary_classifier().fit(vectors, target)
        urgent = [i for i, e in enumerate(examples) if e.label == "urgent"]
        kinds = [examples[i].kind or "emergency" for i in urgent]
        if len(set(kinds)) < 2:
            raise SafetyExamplesError("the examples need emergencies of at least two kinds")
        kind_model = _kind_classifier().fit(vectors[urgent], kinds)
        return cls(features, labels, kind_model, normalise)

    def score(self, text: str) -> SafetyScores:
        """Probability of each label for one message as the user typed it."""
        vector = self._features.transform([self._normalise(text)])
        probabilities = {
            label: float(model.predict_proba(vector)[0][1]) for label, model in self._labels.items()
        }
        return SafetyScores(probabilities, str(self._kinds.predict(vector)[0]))


def _features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        # Within-word character n-grams: inflections, typos, CJK without spaces.
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        # Word pairs keep "bi bat" (arrested) apart from "bat buoc" (compulsory).
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    )


def _binary_classifier():
    from sklearn.linear_model import LogisticRegression

    # liblinear shuffles the data: a fixed seed keeps the same examples giving the same model.
    return LogisticRegression(C=10.0, solver="liblinear", class_weight="balanced", random_state=0)


def _kind_classifier():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    # One-vs-rest liblinear: a multinomial fit over a dozen kinds takes seconds, this 0.2 s.
    return OneVsRestClassifier(LogisticRegression(C=10.0, solver="liblinear", random_state=0))


_CACHE: dict[str, SafetyModel] = {}
_CACHE_LOCK = threading.Lock()


def trained_model(
    directory: Path, normalise: Callable[[str], str], cache_key: str = ""
) -> SafetyModel:
    """The model for this folder's examples, trained once per process and content."""
    examples = load_examples(directory)
    digest = hashlib.sha256(cache_key.encode())
    for example in examples:
        digest.update(f"{example.label}\t{example.kind}\t{example.text}\n".encode())
    key = digest.hexdigest()
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = SafetyModel.train(examples, normalise)
        return _CACHE[key]


__all__ = [
    "DEFAULT_EXAMPLES_DIR",
    "LABELS",
    "ModelThresholds",
    "SafetyExample",
    "SafetyExamplesError",
    "SafetyModel",
    "SafetyScores",
    "load_examples",
    "trained_model",
]
