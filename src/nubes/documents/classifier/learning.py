"""The classifier's learning, apart from the database: TF-IDF over a document's words, one linear one-vs-rest model
per class of each field (trained with scikit-learn), stored as plain numbers and applied with numpy.

A prediction is explained by construction: a linear model's score is the sum of each word's tf-idf weight times the
word's coefficient, so the words with the largest products are the ones that drove it (`WORDS_SHOWN` of them).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FIELDS = ("type", "correspondent", "tag", "category")
"""The fields learnt: a document has one type and one correspondent at most, any number of tags and categories."""
SINGLE = frozenset({"type", "correspondent"})
MIN_EXAMPLES = 3
"""A class is learnt from at least this many documents confirmed with it, and as many confirmed without it (or that
rejected it); a class with fewer is not predicted."""
THRESHOLD = 0.6
"""The least confidence (the model's probability) at which a class is suggested."""
WORDS_SHOWN = 5
"""Words named in a suggestion's reason: those that added the most to its score."""
REJECTED_WEIGHT = 2.0
"""How much a rejected suggestion counts as an example against its class, next to one confirmed document: a person
said no to that very class for that very document."""
MAX_FEATURES = 5000
"""Words kept in a model's vocabulary (the most frequent over the training documents)."""
MAX_CHARS = 100_000
"""Characters of a document's text that are read (its beginning: where a letter says what it is and who sends it)."""
REGULARIZATION = 10.0
"""scikit-learn's C: small organizations have few examples, so the models may follow them closely."""
VERSION = 1
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Words that say nothing of a document's kind, left out of the vocabulary (English and German: the OCR languages).
_STOP = frozenset(
    """
    about above after again against all and any are because been before being below between both but can could did
    does doing down during each few for from further had has have having her here hers herself him himself his how
    into its itself just more most myself nor not now off once only other our ours ourselves out over own same she
    should some such than that the their theirs them themselves then there these they this those through too under
    until very was were what when where which while who whom why will with would you your yours yourself yourselves
    aber alle als also auch auf aus bei bin bis das dass dem den der des die dies diese doch dort durch ein eine
    einem einen einer eines für hat hatte ich ihr ihre im ist jetzt kann mit nach nicht noch nur oder sehr sich sie
    sind über und uns von vor war waren was wie wir wird zum zur
    """.split()  # noqa: SIM905 - a list literal of 170 words would read worse
)


def words(text: str) -> list[str]:
    """The words of a text the classifier looks at: lowercased runs of three letters or more, common words left out."""
    return [word for word in (match.group(0).lower() for match in _WORD.finditer(text[:MAX_CHARS])) if word not in _STOP]


@dataclass(slots=True)
class Example:
    """One document as training sees it: its words, the values people confirmed per field (a field absent: nobody
    set it), and the values they rejected."""

    text: str
    labels: dict[str, set[str]] = field(default_factory=dict)
    rejected: dict[str, set[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Training:
    """What a training made: the model (plain data), the classes learnt per field with their example counts, a note
    per field that learnt nothing, and how many documents it learnt from."""

    model: dict[str, Any]
    classes: dict[str, dict[str, int]]
    notes: dict[str, str]
    documents: int


@dataclass(frozen=True, slots=True)
class Prediction:
    field: str
    value: str
    confidence: float
    words: list[str]


def _rows(examples: Sequence[Example], name: str, value: str) -> tuple[list[int], list[int], list[float]]:
    """The examples of one class: indexes, 1/0 labels and weights (confirmed: 1; a rejected suggestion: more)."""
    indexes, labels, weights = [], [], []
    for index, example in enumerate(examples):
        confirmed = example.labels.get(name)
        if confirmed is not None and (confirmed or name in SINGLE):
            indexes.append(index)
            labels.append(int(value in confirmed))
            weights.append(1.0)
        elif value in example.rejected.get(name, set()):
            indexes.append(index)
            labels.append(0)
            weights.append(REJECTED_WEIGHT)
    return indexes, labels, weights


def _plan(examples: Sequence[Example]) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """The classes each field can learn (enough examples each way), and why a field learns none."""
    plan: dict[str, dict[str, int]] = {}
    notes: dict[str, str] = {}
    for name in FIELDS:
        counts = Counter(value for example in examples for value in example.labels.get(name, ()))
        learnable: dict[str, int] = {}
        for value, positives in counts.items():
            _, labels, _ = _rows(examples, name, value)
            if positives >= MIN_EXAMPLES and len(labels) - sum(labels) >= MIN_EXAMPLES:
                learnable[value] = positives
        plan[name] = learnable
        if not learnable:
            best = max(counts.values(), default=0)
            has = f"the most any has is {best}." if best else "none is confirmed on any document yet."
            notes[name] = f"Each needs {MIN_EXAMPLES} confirmed documents with it and {MIN_EXAMPLES} without it; {has}"
    return plan, notes


def train(examples: Sequence[Example]) -> Training:
    """Learn every class that has enough examples; the model is plain data (`predict` reads it)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - a heavy import, for the worker only
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    plan, notes = _plan(examples)
    used = sorted({index for name, values in plan.items() for value in values for index in _rows(examples, name, value)[0]})
    if not used:
        return Training(model={}, classes=plan, notes=notes, documents=0)
    vectorizer = TfidfVectorizer(analyzer=words, sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float64)
    try:
        matrix = vectorizer.fit_transform([examples[index].text for index in used])
    except ValueError:  # no words at all (scans not read yet)
        notes = dict.fromkeys(FIELDS, "The confirmed documents have no words to learn from yet.")
        return Training(model={}, classes={name: {} for name in FIELDS}, notes=notes, documents=0)
    row_of = {index: row for row, index in enumerate(used)}
    fields: dict[str, list[dict[str, Any]]] = {}
    for name, values in plan.items():
        fields[name] = []
        for value in sorted(values):
            indexes, labels, weights = _rows(examples, name, value)
            model = LogisticRegression(C=REGULARIZATION, class_weight="balanced", max_iter=1000)
            model.fit(matrix[[row_of[index] for index in indexes]], labels, sample_weight=weights)
            fields[name].append(
                {
                    "value": value,
                    "coef": [round(float(weight), 6) for weight in model.coef_[0]],
                    "intercept": round(float(model.intercept_[0]), 6),
                }
            )
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    model_data = {
        "version": VERSION,
        "vocabulary": vocabulary,
        "idf": [round(float(weight), 6) for weight in vectorizer.idf_],
        "fields": fields,
    }
    return Training(model=model_data, classes=plan, notes=notes, documents=len(used))


class Model:
    """A trained model read back from its plain data; predicts with numpy alone."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("version") != VERSION:
            raise ValueError("unknown model version")
        self.vocabulary: dict[str, int] = {word: index for index, word in enumerate(data["vocabulary"])}
        self.words: list[str] = list(data["vocabulary"])
        self.idf = np.asarray(data["idf"], dtype=np.float64)
        self.fields: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
        for name, entries in data["fields"].items():
            if entries:
                self.fields[name] = (
                    [entry["value"] for entry in entries],
                    np.asarray([entry["coef"] for entry in entries], dtype=np.float64),
                    np.asarray([entry["intercept"] for entry in entries], dtype=np.float64),
                )
        for values, coef, intercept in self.fields.values():
            if coef.shape != (len(values), len(self.words)) or intercept.shape != (len(values),):
                raise ValueError("the model's numbers do not fit its vocabulary")

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's tf-idf weights as scikit-learn computes them (sublinear tf, idf, l2): word indexes and weights."""
        counts = Counter(word for word in words(text) if word in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        indexes = np.fromiter((self.vocabulary[word] for word in counts), dtype=np.int64, count=len(counts))
        weights = np.fromiter((1 + math.log(count) for count in counts.values()), dtype=np.float64, count=len(counts))
        weights *= self.idf[indexes]
        return indexes, weights / np.linalg.norm(weights)

    def predict(self, text: str, *, skip: Iterable[tuple[str, str]] = ()) -> list[Prediction]:
        """The classes at or above `THRESHOLD` (the best one only for a single-valued field), each with the words that
        drove it; never one in `skip` (field, value), nor one no word of the text speaks for."""
        skipped = set(skip)
        indexes, weights = self.vector(text)
        found: list[Prediction] = []
        if not len(indexes):
            return found
        for name, (values, coef, intercept) in self.fields.items():
            contributions = coef[:, indexes] * weights  # one row per class, one column per word of the text
            probabilities = 1 / (1 + np.exp(-(contributions.sum(axis=1) + intercept)))
            order = np.argsort(-probabilities)
            for row in (int(row) for row in order):
                confidence = float(probabilities[row])
                if confidence < THRESHOLD:
                    break
                if (name, values[row]) in skipped:
                    continue  # decided for this document already: the next best may be suggested instead
                ranked = np.argsort(-contributions[row])[:WORDS_SHOWN]
                drivers = [self.words[int(indexes[column])] for column in ranked if contributions[row, column] > 0]
                if drivers:
                    found.append(Prediction(name, values[row], round(confidence, 3), drivers))
                if name in SINGLE:
                    break
        return found
