"""Small pure parts of retrieval: fusion, hubness, confidence."""

from __future__ import annotations

import numpy as np

from retrieval.confidence import ConfidenceModel, Signals, fit
from retrieval.fusion import best_reciprocal_rank, order_by_score, rank_documents
from retrieval.hubness import hubness_scores


def test_documents_rank_by_their_best_chunks_without_extra_votes_for_length():
    chunks = [("a", 0.9), ("b", 0.8), ("b", 0.79), ("b", 0.78), ("c", 0.5)]
    assert rank_documents(chunks, per_doc=1) == ["a", "b", "c"]
    assert rank_documents(chunks, per_doc=2) == ["b", "a", "c"]
    assert rank_documents(chunks, per_doc=2, with_scores=True)[0] == ("b", 0.8 + 0.79)


def test_best_reciprocal_rank_takes_each_documents_best_language():
    scores = best_reciprocal_rank({"vi": ["x", "y"], "en": ["y", "x", "z"]}, {"vi": 2.0}, k=1.0)
    assert scores == {"x": 1.0, "y": 2.0 / 3.0, "z": 0.25}
    assert order_by_score(scores) == ["x", "y", "z"]


def test_hubness_is_the_mean_similarity_to_other_documents_nearest_chunks():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.7, 0.7]])
    ids = ["a/en/1", "a/en/2", "b/en/1", "c/en/1"]
    scores = hubness_scores(ids, ["a", "a", "b", "c"], ["en"] * 4, vectors, neighbours=2)
    # c sits between a and b: it is the hub.
    assert max(scores, key=scores.get) == "c/en/1"
    # A chunk never counts its own document's chunks as neighbours.
    assert scores["a/en/1"] < 0.99
    lone = hubness_scores(["x/vi/1"], ["x"], ["vi"], np.array([[1.0, 0.0]]))
    assert lone == {"x/vi/1": 0.0}


def test_confidence_is_a_probability_and_fitting_separates_right_from_wrong():
    good = Signals(
        fused=1.0, margin=0.3, dense_top=0.9, dense_margin=0.05, agreement=1.0, coverage=1.0
    )
    bad = Signals(
        fused=0.4, margin=0.0, dense_top=0.8, dense_margin=0.0, agreement=0.0, coverage=0.2
    )
    default = ConfidenceModel.default()
    assert 0.0 <= default.score(bad) < default.score(good) <= 1.0
    model = fit([(good, True)] * 10 + [(bad, False)] * 10)
    assert model.score(good) > 0.8 > 0.2 > model.score(bad)


def test_confidence_model_round_trips_through_its_file(tmp_path):
    path = tmp_path / "calibration.json"
    model = ConfidenceModel(weights=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0), bias=-7.0)
    model.save(path, fitted_on=["dev.jsonl"])
    assert ConfidenceModel.load(path) == model
    assert ConfidenceModel.load(tmp_path / "missing.json") == ConfidenceModel.default()
