"""Fit the answer models: ``python -m qa.calibrate [GOLD.jsonl ...] [--ablate]``.

Every question of the gold sets (default: the question sets in ``tests/data``, asked of the
shipped report; near misses: copies of the report without the sentences that answer some of
those questions, which they then ask, unanswerable (:mod:`qa.near_misses`); and an outside
library: DRCD dev articles the reader never trained on, with questions whose article is absent)
is retrieved as at answer time and each of its candidates
gets its evidence features (:mod:`qa.answers.features`, the reader's among them). Three logistic
regressions (scikit-learn, used here only) are fitted for each retrieval setting, with an
encoder (hybrid) and without one (bm25):

- the ranking model, over every candidate and feature: positive when the passage holds the
  gold evidence;
- the answer model, over the evidence features of its setting (:data:`ANSWER_FEATURES`):
  positive for a candidate that holds the evidence, negative for every candidate of an
  unanswerable question;
- the sentence model, over the sentences of the answering passage and their unit features
  (:mod:`qa.answers.highlight`): its weights make the sentences that hold the evidence the
  likeliest of their passage (a conditional logit: the highlight is the passage's best sentence),
  then a logistic regression on that score sets its scale and bias, so that a sentence's logit is
  its own log-odds of holding the evidence.

A question counts as answered when its first candidate's answer log-odds reach a threshold chosen
by leave-one-set-out cross-validation.
With an encoder, the ranking and answer models and a threshold are also fitted on the outside
library alone, its questions dealt into ``FOLDS`` sets: the many-topic kind, which the answer step
mixes in by the library's diversity (see :mod:`qa.answers.decide`).
The figures printed are out of fold, from a nested cross-validation: each set is scored by
models fitted, and a threshold chosen, without it. ``--ablate`` adds, for each feature, the
figures over all sets without it, out of fold at one level (see :func:`ablation`). Then
``qa/answers/decision.json`` is rewritten.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answers.decide import MODEL_FILE, RERANK_DEPTH
from qa.answers.features import EVIDENCE_FEATURES, FEATURES, assess
from qa.answers.highlight import UNIT_FEATURES, answer_units, unit_features
from qa.evaluate import GoldQuestion, contains_evidence, read_gold
from qa.language.question import clean_question
from qa.near_misses import near_miss_reports

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
OUTSIDE_SET = "drcd_dev_held_out"
NEAR_MISS_SET = "report_near_misses"
ABSENT_ARTICLES = 100  # DRCD dev articles left out of the outside library: their questions are unanswerable
# Articles the reader trained on, kept in the outside library as distractors: with the 20 it never
# trained on, a library as large as the DRCD test one (278), whose nearer neighbours an absent
# article's question meets (with 80, those questions' reader log-odds sat about 1 lower).
OTHER_ARTICLES = 260
# Near-miss sets 10 and 12 were written like those the reader trains on (its report_questions) and
# kept out of its training: their near misses tell the decision how far to trust the reader on
# near misses it never saw.
DEFAULT_SETS = ("answerable_variants", "traditional_colloquial", "english", "unanswerable",
                "independent_chinese", "independent_english", "independent_unanswerable", "blind_a", "blind_c",
                "near_misses_10", "near_misses_12", "english_calibration")
# Sets written to calibrate when to answer, read by the answer model and its threshold only: the
# 58 English questions of english_calibration, in the ranking and sentence models too, cost four
# sentence choices over the report's eval sets (see the README, 2026-12-06 eighth stop).
ANSWER_ONLY_SETS = ("english_calibration",)
REGULARIZATION = 1.0  # scikit-learn's C, on standardized features
FALSE_ABSTENTION_LIMIT = 0.04  # the share of answerable questions the threshold may refuse (the goal)
MODES = {"encoder": "hybrid", "lexical": "bm25"}
FOLDS = 5  # the outside library's questions, dealt in turn, when it is fitted alone (the many-topic kind)
# The evidence features the answer model weighs in each setting. With an encoder the reader
# tells an answer from a near miss; the share of key terms the passage states, kept beside it,
# made the decision answer the report's written near misses, which state them all (measured on
# blind sets E, M, O, Q and V to Y: see the README, 2026-12-06 third stop).
ANSWER_FEATURES = {
    "encoder": tuple(name for name in EVIDENCE_FEATURES if name != "exact"),
    "lexical": EVIDENCE_FEATURES,
}


@dataclass(frozen=True)
class Example:
    """One gold question's candidates: features (candidates × FEATURES) and which hold the evidence."""

    group: str
    answerable: bool
    features: np.ndarray
    labels: np.ndarray
    units: np.ndarray | None = None  # the answering passage's sentences × UNIT_FEATURES
    unit_labels: np.ndarray | None = None  # which of them hold the evidence


@dataclass(frozen=True)
class Fitted:
    """Weights and bias of the ranking model, the answer model and the sentence model."""

    rank: tuple[np.ndarray, float]
    answer: tuple[np.ndarray, float]
    highlight: tuple[np.ndarray, float]


def collect(assistant, name: str, questions: Sequence[GoldQuestion]) -> list[Example]:
    """The :class:`Example` of each question the answer step reads terms in (others never answer)."""
    answerer = assistant.answerer
    examples = []
    for gold in questions:
        question = clean_question(gold.question)
        candidates = assistant.retriever.search(question, RERANK_DEPTH)
        reading = answerer.read(question)
        if not reading.weights or not candidates:
            continue
        evidence = assess(question, reading, candidates, answerer)
        labels = [
            gold.answerable
            and (gold.source is None or item.document.source == gold.source)
            and contains_evidence(item.paragraph.text, gold.evidence)
            for item in (assistant.library.passages[c.passage_index] for c in candidates)
        ]
        units = unit_labels = None
        if any(labels):
            index = candidates[labels.index(True)].passage_index
            item = assistant.library.passages[index]
            verdict = answerer.verdicts(question, tuple(c.passage_index for c in candidates)).get(index)
            units = unit_features(question, item, answerer, verdict)
            unit_labels = np.array([contains_evidence(u.text, gold.evidence) for u in answer_units(item.paragraph)])
        examples.append(Example(name, gold.answerable, np.stack([e.vector() for e in evidence]), np.array(labels),
                                units, unit_labels))
    return examples


def outside_library(home: Path) -> tuple[Path, list[GoldQuestion]]:
    """DRCD dev as a library (``squad_library.py``, built once under ``home``): the articles the
    reader never trained on, with their questions, ``OTHER_ARTICLES`` other articles beside them,
    and one question of each of ``ABSENT_ARTICLES`` articles left out (unanswerable)."""
    from qa.train_reader import DATA as MRC, validation_sources

    folder = home / "calibration" / f"drcd_dev_{OTHER_ARTICLES}_{ABSENT_ARTICLES}"
    kept = validation_sources()
    if not (folder / "gold.jsonl").is_file():
        subprocess.run([sys.executable, str(MRC / "squad_library.py"), str(MRC / "DRCD_dev.json"), str(folder),
                        "--absent", str(ABSENT_ARTICLES)], check=True, stdout=subprocess.DEVNULL)
        others = sorted(path for path in (folder / "docs").iterdir() if path.name not in kept)
        for path in others[OTHER_ARTICLES:]:
            path.unlink()
    return folder / "docs", [q for q in read_gold(folder / "gold.jsonl") if not q.answerable or q.source in kept]


def fit_linear(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression on standardized features (rows weighted by ``sample_weight``); weights
    and bias on the raw features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=REGULARIZATION, max_iter=5000).fit((x - scaler.mean_) / scale, y,
                                                                    sample_weight=sample_weight)
    weights = model.coef_[0] / scale
    return weights, float(model.intercept_[0] - weights @ scaler.mean_)


def answer_columns(setting: str) -> list[int]:
    """The columns of :data:`FEATURES` the answer model weighs in ``setting`` (see :data:`ANSWER_FEATURES`)."""
    return [FEATURES.index(name) for name in ANSWER_FEATURES[setting]]


def fit_both(examples: Sequence[Example], columns: Sequence[int]) -> Fitted:
    """The ranking model on every candidate (positive: it holds the evidence); the answer model on
    the candidates that hold the evidence (positive) and every candidate of the unanswerable
    questions (negative); the sentence model on the sentences of each answering passage, as a
    choice of the ones that hold the evidence (:func:`fit_choice`). The sets of
    :data:`ANSWER_ONLY_SETS` enter the answer model only."""
    ranked = [e for e in examples if e.group not in ANSWER_ONLY_SETS]
    rank = fit_linear(np.concatenate([e.features for e in ranked]), np.concatenate([e.labels for e in ranked]))
    answer_rows = [e.features[e.labels | (not e.answerable)][:, columns] for e in examples]
    answer_labels = [e.labels[e.labels | (not e.answerable)] for e in examples]
    weights = set_weights(examples)
    answer_weights = [np.full(len(labels), weight) for labels, weight in zip(answer_labels, weights)]
    read = [e for e in ranked if e.units is not None]
    highlight = fit_choice([e.units for e in read], [e.unit_labels for e in read])
    answer = fit_linear(np.concatenate(answer_rows), np.concatenate(answer_labels), np.concatenate(answer_weights))
    return Fitted(rank, answer, highlight)


def fit_choice(groups: Sequence[np.ndarray], labels: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """Weights and bias over the rows of each group (a passage's sentences) that make its positive
    rows the likeliest of the group: a conditional logit (softmax within each group, L2 as in
    :func:`fit_linear`, on standardized features; groups without a positive row are left out),
    scaled and offset by a logistic regression of every row's label on its score."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    rows = np.concatenate(groups)
    spread = rows.std(axis=0)
    scale = np.where(spread > 0, spread, 1.0)
    chosen = [(x / scale, y.astype(bool)) for x, y in zip(groups, labels) if y.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = w @ w / (2 * REGULARIZATION), w / REGULARIZATION
        for x, positive in chosen:
            scores = x @ w
            every, held = logsumexp(scores), logsumexp(scores[positive])
            total += every - held
            gradient += x.T @ (np.exp(scores - every) - np.where(positive, np.exp(scores - held), 0.0))
        return total, gradient

    weights = minimize(loss, np.zeros(scale.size), jac=True, method="L-BFGS-B").x / scale
    (slope,), bias = fit_linear(rows @ weights[:, None], np.concatenate(labels))
    return slope * weights, bias


def set_weights(examples: Sequence[Example]) -> np.ndarray:
    """Each question's weight in the answer model and its threshold: every set counts alike, so the
    outside library's many questions do not outweigh the shipped report's near-misses."""
    sizes = {group: sum(e.group == group for e in examples) for group in {e.group for e in examples}}
    weights = np.array([1.0 / sizes[e.group] for e in examples])
    return weights * len(examples) / weights.sum()


def predict(fitted: Fitted, examples: Sequence[Example],
            columns: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Candidate ranking log-odds of every question, and each question's answer log-odds (those of
    its first candidate by the ranking)."""
    (rank_weights, rank_bias), (answer_weights, answer_bias) = fitted.rank, fitted.answer
    logits = [e.features @ rank_weights + rank_bias for e in examples]
    answers = np.array([e.features[int(np.argmax(s)), columns] @ answer_weights + answer_bias
                        for e, s in zip(examples, logits)])
    return logits, answers


def out_of_fold(examples: Sequence[Example], columns: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Leave-one-set-out predictions of every question (see :func:`predict`)."""
    logits: dict[int, np.ndarray] = {}
    answers = np.zeros(len(examples))
    for group in sorted({e.group for e in examples}):
        held = [i for i, e in enumerate(examples) if e.group == group]
        fitted = fit_both([e for e in examples if e.group != group], columns)
        held_logits, held_answers = predict(fitted, [examples[i] for i in held], columns)
        logits.update(zip(held, held_logits))
        answers[held] = held_answers
    return [logits[i] for i in range(len(examples))], answers


def choose_threshold(examples: Sequence[Example], answers: np.ndarray) -> float:
    """The highest threshold on the answer log-odds (midpoints between questions) whose false
    abstention stays within ``FALSE_ABSTENTION_LIMIT``, each question weighted by
    :func:`set_weights`: it refuses every unanswerable question it can within that limit."""
    answerable = np.array([e.answerable for e in examples])
    weights = set_weights(examples)
    values = np.unique(answers)
    cuts = np.concatenate([[values[0] - 1.0], (values[1:] + values[:-1]) / 2, [values[-1] + 1.0]])
    withheld = np.array([weights[(answers < cut) & answerable].sum() for cut in cuts])
    allowed = withheld <= FALSE_ABSTENTION_LIMIT * max(weights[answerable].sum(), 1e-9)
    return float(cuts[allowed][-1])


def threshold_out_of_fold(examples: Sequence[Example], columns: Sequence[int]) -> float:
    """The threshold :func:`choose_threshold` picks on the leave-one-set-out answer log-odds."""
    return choose_threshold(examples, out_of_fold(examples, columns)[1])


def metrics(examples: Sequence[Example], logits: Sequence[np.ndarray], answers: np.ndarray,
            threshold: float | np.ndarray) -> dict[str, float]:
    """hit@1 and hit@3 of the ranking, abstention recall and false abstention of the answer model."""
    answered = answers >= threshold
    out: dict[str, float] = {"questions": len(examples)}
    tops = [e.labels[np.argsort(-s, kind="stable")] for e, s in zip(examples, logits) if e.answerable]
    flags = [a for e, a in zip(examples, answered) if e.answerable]
    refused = [not a for e, a in zip(examples, answered) if not e.answerable]
    if tops:
        out["hit@1"] = float(np.mean([t[0] for t in tops]))
        out["hit@3"] = float(np.mean([t[:3].any() for t in tops]))
        out["false_abstention"] = 1.0 - float(np.mean(flags))
    if refused:
        out["abstention_recall"] = float(np.mean(refused))
    return out


def sentence_hits(highlight: tuple[np.ndarray, float], examples: Sequence[Example]) -> list[bool]:
    """For each question with an answering passage: whether the sentence model's best sentence of it
    holds the evidence."""
    weights, bias = highlight
    return [bool(e.unit_labels[int(np.argmax(e.units @ weights + bias))]) for e in examples if e.units is not None]


def nested(examples: Sequence[Example], columns: Sequence[int]) -> dict[str, dict[str, float]]:
    """Out-of-fold figures per held-out set and overall: each set is scored by models fitted, and a
    threshold chosen (by leave-one-set-out within the rest), without it."""
    figures, ordered, all_logits, all_answers, thresholds, sentences = {}, [], [], [], [], []
    for group in sorted({e.group for e in examples}):
        train = [e for e in examples if e.group != group]
        held = [e for e in examples if e.group == group]
        threshold = threshold_out_of_fold(train, columns)
        fitted = fit_both(train, columns)
        logits, answers = predict(fitted, held, columns)
        figures[group] = metrics(held, logits, answers, threshold)
        hits = sentence_hits(fitted.highlight, held)
        if hits:
            figures[group]["sentence"] = float(np.mean(hits))
        ordered += held
        all_logits += logits
        all_answers.append(answers)
        thresholds += [threshold] * len(held)
        sentences += hits
    figures["all"] = metrics(ordered, all_logits, np.concatenate(all_answers), np.array(thresholds))
    figures["all"]["sentence"] = float(np.mean(sentences))
    return figures


def in_folds(examples: Sequence[Example]) -> list[Example]:
    """``examples`` of one set dealt into ``FOLDS`` sets, in turn, so that :func:`nested` can score it alone."""
    return [replace(e, group=f"fold {i % FOLDS}") for i, e in enumerate(examples)]


def unfittable(questions: Sequence[tuple[str, bool]]) -> str | None:
    """Why :func:`nested` cannot score these ``(set, answerable)`` questions, or None: each of its
    fits leaves out two sets, and what remains must hold answerable and unanswerable questions."""
    sets = sorted({group for group, _ in questions})
    if len(sets) < 3:
        return f"the nested cross-validation needs at least 3 question sets, not {len(sets)}"
    for pair in itertools.combinations(sets, 2):
        kinds = {answerable for group, answerable in questions if group not in pair}
        if kinds != {True, False}:
            missing = "unanswerable" if True in kinds else "answerable"
            return f"without {pair[0]} and {pair[1]}, the other question sets hold no {missing} question"
    return None


def table(figures: dict[str, dict[str, float]]) -> str:
    """Figures as a plain-text table, one set a line."""
    columns = ("questions", "hit@1", "hit@3", "sentence", "abstention_recall", "false_abstention")
    lines = [f"{'set':26}" + "".join(f"{c:>19}" for c in columns)]
    for name, row in figures.items():
        cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append(f"{name:26}" + "".join(f"{cell:>19}" for cell in cells))
    return "\n".join(lines)


def one_level(examples: Sequence[Example], columns: Sequence[int]) -> dict[str, float]:
    """Figures over all sets, out of fold at one level: each set scored by models fitted without
    it (:func:`out_of_fold`), one threshold chosen on those scores."""
    logits, answers = out_of_fold(examples, columns)
    return metrics(examples, logits, answers, choose_threshold(examples, answers))


def ablation(examples: Sequence[Example], columns: Sequence[int]) -> dict[str, dict[str, float]]:
    """:func:`one_level` figures with every feature, then with each one left out (its column
    zeroed: a constant gets no weight), to see which features still add something. One level, not
    :func:`nested`: it ranks the features in minutes (nested, 19 features took over 37 minutes);
    a model without some of them is then judged by the nested figures."""
    figures = {"every feature": one_level(examples, columns)}
    for column, name in enumerate(FEATURES):
        kept = [replace(e, features=np.where(np.arange(len(FEATURES)) == column, 0.0, e.features)) for e in examples]
        figures[f"without {name}"] = one_level(kept, columns)
    return figures


def _entry(weights: np.ndarray, bias: float, names: Sequence[str]) -> dict:
    return {"weights": {name: round(float(w), 6) for name, w in zip(names, weights)}, "bias": round(bias, 6)}


def _kind(fitted: Fitted, threshold: float, setting: str, diversity: float | None) -> dict:
    """A kind's entry of ``decision.json`` (see :class:`qa.answers.decide.Kind`)."""
    return {"diversity": diversity,  # unrounded: the calibration library itself then gets this kind alone
            "rank": _entry(*fitted.rank, FEATURES), "answer": _entry(*fitted.answer, ANSWER_FEATURES[setting]),
            "threshold": round(threshold, 6)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path, help="gold .jsonl question sets (default: tests/data's sets)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write the fitted models")
    parser.add_argument("--no-outside", action="store_true", help="leave out the outside library (DRCD dev)")
    parser.add_argument("--no-near-misses", action="store_true", help="leave out the report's near misses")
    parser.add_argument("--ablate", action="store_true", help="also print figures with each feature left out (out of fold, one level)")
    args = parser.parse_args(argv)
    paths = args.gold or [DATA / f"{name}.jsonl" for name in DEFAULT_SETS]
    from embeddings import report_qa_home
    from qa import Assistant
    from qa.assistant import default_report
    from qa.documents.ingest import read_report

    try:
        gold = {path: read_gold(path) for path in paths}
    except (OSError, ValueError) as error:
        parser.error(str(error))
    home = report_qa_home()
    outside = [] if args.no_outside else [outside_library(home)]
    near_misses = [] if args.no_near_misses else near_miss_reports(
        read_report(default_report()), [q for questions in gold.values() for q in questions],
        home / "calibration" / "near_misses")
    named = [(path.stem, questions) for path, questions in gold.items()]
    named += [(name, questions) for name, found in ((NEAR_MISS_SET, near_misses), (OUTSIDE_SET, outside))
              for _, questions in found]
    reason = unfittable([(name, q.answerable) for name, questions in named for q in questions])
    if reason:
        parser.error(f"{reason}: give more sets (by default the outside library and the near misses are added)")
    models, report = {}, {}
    for setting, retriever in MODES.items():
        assistant = Assistant(retriever=retriever)
        examples = [e for path, questions in gold.items() for e in collect(assistant, path.stem, questions)]
        for folder, questions in near_misses:
            examples += collect(Assistant(folder, retriever=retriever, encoder=assistant.encoder), NEAR_MISS_SET, questions)
        outside_diversity = None
        for folder, questions in outside:
            library = Assistant(folder, retriever=retriever, encoder=assistant.encoder)
            examples += collect(library, OUTSIDE_SET, questions)
            outside_diversity = library.answerer.diversity  # None without an encoder: one kind then
        columns = answer_columns(setting)
        figures = nested(examples, columns)
        print(f"\n{setting} ({retriever}), out of fold:\n{table(figures)}")
        if args.ablate:
            print(f"\n{setting}, each feature left out:\n{table(ablation(examples, columns))}")
        fitted = fit_both(examples, columns)
        kinds = [_kind(fitted, threshold_out_of_fold(examples, columns), setting, assistant.answerer.diversity)]
        if outside_diversity is not None:
            folded = in_folds([e for e in examples if e.group == OUTSIDE_SET])
            many = nested(folded, columns)["all"]
            print(f"\n{setting}, the many-topic kind on {OUTSIDE_SET} alone, out of fold over {FOLDS} folds:\n"
                  f"{table({OUTSIDE_SET: many})}")
            figures[f"{OUTSIDE_SET} (many-topic kind)"] = many
            kinds.append(_kind(fit_both(folded, columns), threshold_out_of_fold(folded, columns), setting,
                               outside_diversity))
        models[setting] = {"kinds": kinds, "highlight": _entry(*fitted.highlight, UNIT_FEATURES)}
        report[setting] = {name: {k: round(v, 4) for k, v in row.items()} for name, row in figures.items()}
    data = {
        "command": "python -m qa.calibrate " + " ".join(path.name for path in paths)
                   + "".join(f" (+ {name})" for name, used in ((NEAR_MISS_SET, near_misses), (OUTSIDE_SET, outside)) if used),
                "models": models,
        "out_of_fold": report,
    }
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
