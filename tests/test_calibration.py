"""The fitted answer models (qa.answers.decide) and the command that fits them (qa.calibrate)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qa import calibrate
from qa.answers.decide import MODEL_FILE, RERANK_DEPTH, Kind, Model, judge, load_model
from qa.answers.features import EVIDENCE_FEATURES, FEATURES
from qa.answers.highlight import UNIT_FEATURES
from qa.answers.linear import Linear
from qa.answers.unit_vectors import diversity


def test_the_shipped_file_weighs_every_feature_of_both_settings():
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    assert data["command"].startswith("python -m qa.calibrate")
    for setting in ("encoder", "lexical"):
        entry = data["models"][setting]
        assert set(entry["highlight"]["weights"]) == set(UNIT_FEATURES)
        assert entry["highlight"]["weights"]["coverage"] > 0  # a sentence stating more of the question speaks for it
        for kind in entry["kinds"]:
            assert set(kind["rank"]["weights"]) == set(FEATURES)
            assert set(kind["answer"]["weights"]) == set(calibrate.ANSWER_FEATURES[setting]) <= set(EVIDENCE_FEATURES)
            assert np.isfinite(kind["threshold"])
        assert entry["kinds"][0]["answer"]["weights"]["attribute"] > 0  # stating the asked-for attribute speaks for an answer
        assert entry["kinds"][0]["answer"]["weights"]["year_absent"] < 0
        assert data["out_of_fold"][setting]["all"]["questions"] > 100
    assert [kind["diversity"] for kind in data["models"]["lexical"]["kinds"]] == [None]  # no vectors to tell kinds
    report, many_topics = data["models"]["encoder"]["kinds"]
    assert report["diversity"] < many_topics["diversity"]
    # across topics the nearest passage's cosine tells an absent article: the many-topic kind trusts it more
    assert many_topics["answer"]["weights"]["cosine"] > report["answer"]["weights"]["cosine"] > 0
    assert data["models"]["encoder"]["highlight"]["weights"]["reader"] > 0  # ... and for the sentence holding its span
    assert {"drcd_dev_held_out", "drcd_dev_held_out (many-topic kind)"} <= set(data["out_of_fold"]["encoder"])
    model = load_model(True)
    assert isinstance(model, Model) and [k.rank.weights.shape for k in model.kinds] == [(len(FEATURES),)] * 2
    assert model.highlight.weights.shape == (len(UNIT_FEATURES),)


def test_the_shipped_report_is_answered_by_the_report_kind_alone(assistant):
    model = assistant.answerer.model
    assert assistant.answerer.diversity == pytest.approx(model.kinds[0].diversity, abs=1e-6)
    assert model.mix(assistant.answerer.diversity) == pytest.approx((1.0, 0.0), abs=1e-4)


class _AtDiversity:
    """An answerer's state, as if its library measured ``diversity``."""

    def __init__(self, answerer, diversity: float) -> None:
        self._answerer, self.diversity = answerer, diversity

    def __getattr__(self, name: str):
        return getattr(self._answerer, name)


def test_judging_mixes_the_kinds_log_odds_by_the_library_diversity(assistant):
    answerer, question = assistant.answerer, "凤岗办事处有多少名员工？"
    candidates = assistant.retriever.search(question, RERANK_DEPTH)
    report, many_topics = answerer.model.kinds
    halfway = (report.diversity + many_topics.diversity) / 2
    signals = {}
    for diversity in (report.diversity, many_topics.diversity, halfway):
        judged = judge(question, candidates, _AtDiversity(answerer, diversity), keep=RERANK_DEPTH)
        signals[diversity] = {c.passage_index: c.signals["answer"] for c in judged.candidates}
        assert judged.answered  # the report's answer to this question, whichever kind judges it
    assert signals[report.diversity] != signals[many_topics.diversity]
    for index, mixed in signals[halfway].items():
        assert mixed == pytest.approx((signals[report.diversity][index] + signals[many_topics.diversity][index]) / 2)


def test_kinds_are_mixed_by_the_library_diversity_between_their_own():
    kind = Kind(None, Linear(np.zeros(1), 0.0, ("a",)), Linear(np.zeros(1), 0.0, ("a",)), 0.0)
    highlight = Linear(np.zeros(1), 0.0, ("a",))
    two = Model((replace(kind, diversity=0.1), replace(kind, diversity=0.2)), highlight)
    assert two.mix(0.1) == (1.0, 0.0) and two.mix(0.2) == (0.0, 1.0)
    assert two.mix(0.125) == pytest.approx((0.75, 0.25))
    assert two.mix(0.05) == (1.0, 0.0) and two.mix(0.9) == (0.0, 1.0)  # beyond them: the nearest kind
    assert two.mix(None) == (1.0, 0.0)  # no encoder: the first kind
    assert Model((kind,), highlight).mix(0.3) == (1.0,)


def test_diversity_grows_with_how_far_apart_the_sentences_point():
    same = np.tile([[0.6, 0.8, 0.0]], (4, 1))
    assert diversity([same[:2], same[2:]]) == pytest.approx(0.0, abs=1e-9)
    apart = np.eye(3)
    assert diversity([apart[:1], apart[1:], np.zeros((0, 3))]) == pytest.approx(1 - 1 / 3)
    assert diversity([]) == 0.0


def test_weights_on_raw_features_give_the_fitted_log_odds():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, 1.0]
    y = (x[:, 0] + 0.2 * x[:, 1] - 10 * x[:, 2] + rng.normal(size=200) > -8.6)
    weights, bias = calibrate.fit_linear(x, y)
    scaler = StandardScaler().fit(x)
    fitted = LogisticRegression(C=calibrate.REGULARIZATION, max_iter=5000).fit(scaler.transform(x), y)
    assert np.allclose(x @ weights + bias, fitted.decision_function(scaler.transform(x)))
    assert Linear(weights, bias, ("a", "b", "c")).logit(x[0]) == pytest.approx(fitted.decision_function(scaler.transform(x[:1]))[0])


def test_the_sentence_model_learns_what_chooses_a_sentence_within_its_passage():
    rng = np.random.default_rng(2)
    groups, labels = [], []
    for size in [2] * 40 + [6] * 40:
        answering = np.arange(size) == rng.integers(size)
        chooses = np.where(answering, 0.0, -rng.uniform(0.5, 3.0, size))  # the answering sentence leads
        groups.append(np.column_stack([chooses, rng.normal(size=size), np.full(size, float(size == 2))]))
        labels.append(answering)
    weights, bias = calibrate.fit_choice(groups, labels)
    assert all(y[np.argmax(x @ weights + bias)] for x, y in zip(groups, labels))
    # the third feature is the same for every sentence of a passage: it cannot choose one, though a
    # sentence-by-sentence fit would take it (short passages hold more answering sentences)
    assert abs(weights[2]) < 1e-6 < calibrate.fit_linear(np.concatenate(groups), np.concatenate(labels))[0][2]
    probabilities = 1 / (1 + np.exp(-(np.concatenate(groups) @ weights + bias)))
    assert probabilities.mean() == pytest.approx(np.concatenate(labels).mean(), abs=0.02)  # log-odds of each


def _example(group: str, answerable: bool, score: float) -> calibrate.Example:
    """Two candidates, the first one answering when the question is answerable; its passage's
    three sentences, the answering one stating most of the question."""
    features = np.zeros((2, len(FEATURES)))
    features[0, FEATURES.index("exact")] = score
    units = labels = None
    if answerable:
        units = np.zeros((3, len(UNIT_FEATURES)))
        units[1:, UNIT_FEATURES.index("coverage")] = [-0.5, -0.2 - score / 10]
        labels = np.array([True, False, False])
    return calibrate.Example(group, answerable, features, np.array([answerable, False]), units, labels)


def test_the_threshold_refuses_all_it_can_within_the_false_abstention_limit():
    answerable = np.concatenate([np.linspace(0.5, 0.99, 30), [0.35]])
    unanswerable = np.array([0.1, 0.3, 0.4, 0.6])
    answers = np.concatenate([answerable, unanswerable])
    examples = [_example("a", True, s) for s in answerable] + [_example("b", False, s) for s in unanswerable]
    threshold = calibrate.choose_threshold(examples, answers)
    # refusing 0.35 withholds 1 of 31 answers (within 4%); refusing 0.5 as well would withhold 2
    assert 0.4 < threshold <= 0.5
    figures = calibrate.metrics(examples, [e.features[:, 0] for e in examples], answers, threshold)
    assert figures["abstention_recall"] == pytest.approx(3 / 4)
    assert figures["false_abstention"] == pytest.approx(1 / 31)


def test_an_answer_only_set_moves_the_answer_model_alone():
    scores = np.linspace(0.2, 0.9, 8)
    base = [_example("a", True, s) for s in scores] + [_example("b", False, s / 2) for s in scores]
    extra = [_example(calibrate.ANSWER_ONLY_SETS[0], answerable, s)
             for answerable, s in [(True, 0.1), (False, 0.95), (True, 0.15), (False, 0.9)]]
    columns = calibrate.answer_columns("lexical")
    without, with_extra = calibrate.fit_both(base, columns), calibrate.fit_both(base + extra, columns)
    for name in ("rank", "highlight"):
        (w1, b1), (w2, b2) = getattr(without, name), getattr(with_extra, name)
        assert np.array_equal(w1, w2) and b1 == b2, name
    assert not np.allclose(without.answer[0], with_extra.answer[0])


def test_nested_cross_validation_scores_each_set_without_it():
    rng = np.random.default_rng(1)
    examples = [_example(group, answerable, rng.normal(0.8 if answerable else 0.2, 0.1))
                for group in "abcd" for answerable in (True, False) for _ in range(6)]
    figures = calibrate.nested(examples, calibrate.answer_columns("lexical"))  # it weighs "exact"
    assert set(figures) == {"a", "b", "c", "d", "all"}
    assert figures["all"]["questions"] == len(examples)
    assert figures["all"]["hit@1"] == 1.0  # the evidence is always the higher-scoring candidate
    assert figures["all"]["abstention_recall"] > 0.8 and figures["all"]["false_abstention"] < 0.2
    assert figures["all"]["sentence"] == 1.0  # the answering sentence states most of the question


def test_the_ablation_shows_what_each_feature_adds():
    rng = np.random.default_rng(2)
    examples = [_example(group, answerable, rng.normal(0.8 if answerable else 0.2, 0.1))
                for group in "abcd" for answerable in (True, False) for _ in range(6)]
    figures = calibrate.ablation(examples, calibrate.answer_columns("lexical"))
    assert set(figures) == {"every feature"} | {f"without {name}" for name in FEATURES}
    assert figures["every feature"]["abstention_recall"] > 0.8
    # without the one feature that tells them apart every question looks alike: all are answered
    assert figures["without exact"]["abstention_recall"] == 0.0
    assert figures["without names"] == figures["every feature"]  # zero in every example: it adds nothing


def test_sets_the_nested_cross_validation_cannot_fit_are_named():
    both = [("a", True), ("a", False), ("b", True), ("b", False), ("c", True), ("c", False)]
    assert calibrate.unfittable(both) is None
    assert "at least 3" in calibrate.unfittable(both[:4])
    # leaving out a and b leaves only c's answerable questions
    assert calibrate.unfittable([("a", True), ("a", False), ("b", True), ("c", True)]) == (
        "without a and b, the other question sets hold no unanswerable question")


def test_calibrate_refuses_too_few_sets_or_a_broken_file_with_a_message(tmp_path, capsys):
    sets = []
    for name, answerable in (("first", True), ("second", False)):
        sets.append(tmp_path / f"{name}.jsonl")
        sets[-1].write_text(json.dumps({"question": "凤岗办事处有多少名员工？", "evidence": [],
                                        "answerable": answerable}, ensure_ascii=False) + "\n", encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{not json\n", encoding="utf-8")
    out = tmp_path / "decision.json"
    for arguments, message in ((sets, "at least 3 question sets"), ([*sets, broken], "broken.jsonl:1"),
                               ([tmp_path / "missing.jsonl"], "missing.jsonl")):
        with pytest.raises(SystemExit) as stopped:
            calibrate.main([*map(str, arguments), "--no-outside", "--no-near-misses", "--out", str(out)])
        assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_one_set_dealt_into_folds_is_scored_alone():
    rng = np.random.default_rng(3)
    examples = [_example(calibrate.OUTSIDE_SET, answerable, rng.normal(0.8 if answerable else 0.2, 0.1))
                for answerable in (True, False) * 15]
    folded = calibrate.in_folds(examples)
    assert len({e.group for e in folded}) == calibrate.FOLDS
    assert [(e.answerable, e.features.tolist()) for e in folded] == [(e.answerable, e.features.tolist()) for e in examples]
    figures = calibrate.nested(folded, calibrate.answer_columns("lexical"))
    assert figures["all"]["questions"] == 30 and figures["all"]["abstention_recall"] > 0.8
