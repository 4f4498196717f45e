"""Train the answer reader: ``python -m qa.train_reader`` reproduces ``qa/answers/reader/weights.safetensors``.

Data: DRCD dev (traditional; each question also seen in simplified through OpenCC, half the time)
and the CMRC 2018 trial set, from ``../shared/data/mrc`` (CC BY-SA). DRCD test is never read: it
is the held-out check. Each question gives one window that holds its answer (answer head 1, span
head on the answer) and negatives (answer head 0): a window of its own paragraph without the
answer, its paragraph with the answering sentence taken out (the near miss: same subject, same
words, no answer), a window of another paragraph of its article (same subject, other facts), and a
window of the paragraph of another article nearest to it by BM25 (what a question whose article is
absent meets). A share of the training questions (``--keywords``) is asked in keyword form, as
users type a search (``keyword_form``). ``--report-questions`` adds gold questions about the
shipped report, read and retrieved as at answer time (:mod:`qa.report_examples`; answer head
only), and ``--report-validation`` checks the reader on others. ``--unanswerable`` adds questions
about the training paragraphs that they do not answer (:mod:`qa.mrc_unanswerable`: a window
around what each is about; answer head 0, span head on no span), and ``--paraphrases`` questions
asked again in other words (:mod:`qa.mrc_paraphrases`: windows as for the original question);
those about the validation articles check the reader. ``--init`` continues from
earlier weights (the shipped ones are several runs: see ``READER.md``). Twenty DRCD dev
articles are kept out for validation. Prints the data counts, a log line every ``--log-every``
steps, validation figures at every checkpoint, and writes checkpoints.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import bm25s
import numpy as np
import opencc
import torch
from tokenizers import Tokenizer

from embeddings.models import resolve_model
from embeddings.trimmed_tokenizer import TokenIds
from qa.answers.reader.model import LAYERS, base_reader, load_weights, save_weights
from qa.answers.reader.windows import Encode, Window, batch, best_span, compose, cut, encode_text, null_score
from qa.documents.structure import split_sentences
from qa.language.textnorm import STOPWORDS, base_jieba, normalize
from qa.mrc_paraphrases import MrcParaphrase, read_paraphrases
from qa.mrc_unanswerable import MrcUnanswerable, read_unanswerable

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mrc"
TRAIN_FILES = ("DRCD_dev.json", "cmrc2018_trial.json")
WEIGHTS = Path(__file__).with_name("answers") / "reader" / "weights.safetensors"
VALIDATION_ARTICLES = 20
SEED = 0
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Question:
    """A question with its answer's character span in its paragraph."""

    text: str
    answer: str
    start: int
    article: int
    paragraph: int


@dataclass(frozen=True)
class Unanswered:
    """A question its paragraph does not answer, placed in the training data: the character span
    (``start``, ``end``) of what it is about in its paragraph."""

    text: str
    article: int
    paragraph: int
    start: int
    end: int


Asked = TypeVar("Asked", Question, Unanswered)


@dataclass(frozen=True)
class Example:
    """A window and its targets: whether it answers, and the answer's token positions (0, 0 if not);
    ``span`` False when the span head does not learn from it (no short answer is known)."""

    window: Window
    answers: bool
    start: int
    end: int
    span: bool = True


def read_articles(path: Path, convert: opencc.OpenCC | None, rng: random.Random, article_base: int
                  ) -> tuple[list[tuple[str, list[str]]], list[Question]]:
    """Articles (title, paragraphs) and questions of a SQuAD file; with ``convert``, each paragraph
    is turned simplified (with its questions) half the time, where that keeps character positions."""
    articles, questions = [], []
    for number, article in enumerate(json.loads(path.read_text(encoding="utf-8"))["data"]):
        title, paragraphs = article["title"], []
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            change = convert is not None and rng.random() < 0.5
            if change and len(convert.convert(context)) == len(context):
                context, title_used = convert.convert(context), convert.convert(title)
            else:
                change, title_used = False, title
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                text, start = answer["text"], answer["answer_start"]
                if change:
                    text = convert.convert(text)
                if not text.strip() or context[start:start + len(text)] != text:
                    continue
                question = convert.convert(qa["question"]) if change else qa["question"]
                questions.append(Question(question, text, start, article_base + number, len(paragraphs)))
            paragraphs.append((title_used, context))
        articles.append((title, paragraphs))
    return articles, questions


def training_data(data: Path, convert: opencc.OpenCC, rng: random.Random
                  ) -> tuple[list[tuple[str, list[tuple[str, str]]]], list[Question], set[int]]:
    """The articles and questions of ``TRAIN_FILES`` in order, and the DRCD dev articles kept out
    for validation (their positions in the list)."""
    articles, questions, drcd_articles = [], [], 0
    for name in TRAIN_FILES:
        more, asked = read_articles(data / name, convert if "DRCD" in name else None, rng, len(articles))
        articles += more
        questions += asked
        drcd_articles = drcd_articles or len(articles)
    return articles, questions, set(rng.sample(range(drcd_articles), VALIDATION_ARTICLES))


def validation_articles(data: Path = DATA) -> set[int]:
    """The positions in DRCD dev of the articles the reader never trained on."""
    return training_data(data, opencc.OpenCC("t2s"), random.Random(SEED))[2]


def validation_sources(data: Path = DATA) -> set[str]:
    """The DRCD dev articles the reader never trained on, as ``squad_library.py`` names their files."""
    drcd = json.loads((data / TRAIN_FILES[0]).read_text(encoding="utf-8"))["data"]
    return {f"{drcd[i].get('id', i)}.txt" for i in validation_articles(data)}


def _source_files(data: Path) -> list[tuple[str, int, list[dict]]]:
    """Each of ``TRAIN_FILES`` with the position of its first article among all of them, and its articles."""
    files, base = [], 0
    for name in TRAIN_FILES:
        articles = json.loads((data / name).read_text(encoding="utf-8"))["data"]
        files.append((name, base, articles))
        base += len(articles)
    return files


def place_unanswerable(rows: Sequence[MrcUnanswerable], data: Path, paragraphs: list[list[tuple[str, str]]],
                       convert: opencc.OpenCC) -> list[Unanswered]:
    """``rows`` placed in ``paragraphs`` (the articles of ``TRAIN_FILES`` in order), each asked in the
    script its paragraph was read in; a row whose trap is not in its paragraph is left out."""
    placed = []
    for name, base, articles in _source_files(data):
        for row in rows:
            if row.source != name:
                continue
            original = articles[row.article]["paragraphs"][row.paragraph]["context"]
            start = original.find(row.trap)
            if start < 0:
                continue
            changed = paragraphs[base + row.article][row.paragraph][1] != original
            placed.append(Unanswered(convert.convert(row.question) if changed else row.question,
                                     base + row.article, row.paragraph, start, start + len(row.trap)))
    return placed


def place_paraphrases(rows: Sequence[MrcParaphrase], data: Path, paragraphs: list[list[tuple[str, str]]],
                      convert: opencc.OpenCC) -> list[Question]:
    """``rows`` placed in ``paragraphs`` as questions with their original question's answer, each asked
    in the script its paragraph was read in; a row whose question id is not in its paragraph is left out."""
    placed = []
    for name, base, articles in _source_files(data):
        for row in rows:
            if row.source != name:
                continue
            paragraph = articles[row.article]["paragraphs"][row.paragraph]
            answer = next((qa["answers"][0] for qa in paragraph["qas"] if qa["id"] == row.id), None)
            if answer is None:
                continue
            read = paragraphs[base + row.article][row.paragraph][1]
            changed = read != paragraph["context"]
            text = convert.convert(answer["text"]) if changed else answer["text"]
            start = answer["answer_start"]
            if text.strip() and read[start:start + len(text)] == text:
                placed.append(Question(convert.convert(row.question) if changed else row.question, text, start,
                                       base + row.article, row.paragraph))
    return placed


def keyword_form(question: str) -> str:
    """``question`` as a keyword search: its jieba words without function and question words or
    punctuation, space-separated (凤岗办事处有多少名员工？ -> 凤岗 办事处 员工); empty when none is left."""
    return " ".join(w for w in base_jieba().cut(question) if _WORD.search(w) and normalize(w) not in STOPWORDS)


def in_keyword_form(questions: list[Asked], share: float, rng: random.Random) -> list[Asked]:
    """``questions`` with about ``share`` of them asked in :func:`keyword_form` (where any word is left)."""
    asked = []
    for question in questions:
        keywords = keyword_form(question.text) if rng.random() < share else ""
        asked.append(dataclasses.replace(question, text=keywords) if keywords else question)
    return asked


def bigrams(text: str) -> list[str]:
    """Character bigrams: BM25 tokens good enough to find a near paragraph in Chinese."""
    return [text[i:i + 2] for i in range(len(text) - 1)] or [text]


def examples_for(question: Question, paragraphs: list[list[tuple[str, str]]], neighbour: tuple[int, int],
                 encode: Encode, rng: random.Random) -> list[Example]:
    """The positive window of a question and its negatives (see the module docstring)."""
    title, text = paragraphs[question.article][question.paragraph]
    context, offset = compose(title, text)
    first, last = question.start + offset, question.start + offset + len(question.answer)
    encoded_question = encode(question.text)
    windows = cut(encoded_question, encode(context))
    inside = [w for w in windows if w.text_range[0] <= first and last <= w.text_range[1]]
    outside = [w for w in windows if w.text_range[1] <= first or last <= w.text_range[0]]
    if not inside:
        return []
    window = rng.choice(inside)
    tokens = np.flatnonzero((window.spans[:, 1] > first) & (window.spans[:, 0] < last))
    examples = [Example(window, True, int(tokens[0]), int(tokens[-1]))]
    if outside:
        examples.append(Example(rng.choice(outside), False, 0, 0))
    near_miss = without_answer(text, question)
    if near_miss:
        examples.append(Example(rng.choice(cut(encoded_question, encode(compose(title, near_miss)[0]))), False, 0, 0))
    others = [i for i in range(len(paragraphs[question.article])) if i != question.paragraph]
    candidates = [(question.article, rng.choice(others))] if others else []
    candidates.append(neighbour)
    for article, paragraph in candidates:
        title, text = paragraphs[article][paragraph]
        if question.answer in text:
            continue
        examples.append(Example(rng.choice(cut(encoded_question, encode(compose(title, text)[0]))), False, 0, 0))
    return examples


def unanswered_example(question: Unanswered, paragraphs: list[list[tuple[str, str]]], encode: Encode,
                       rng: random.Random) -> Example:
    """A window of the question's paragraph around what it is about: it does not answer."""
    title, text = paragraphs[question.article][question.paragraph]
    context, offset = compose(title, text)
    windows = cut(encode(question.text), encode(context))
    around = [w for w in windows if w.text_range[0] <= question.start + offset and question.end + offset <= w.text_range[1]]
    return Example(rng.choice(around or windows), False, 0, 0)


def without_answer(text: str, question: Question) -> str:
    """The paragraph ``text`` with the sentence(s) holding the question's answer taken out; empty
    when nothing would be left or the answer's words stay in what is left."""
    first, last = question.start, question.start + len(question.answer)
    kept = "".join(s.text for s in split_sentences(text) if s.end <= first or last <= s.start)
    return kept if kept and question.answer not in kept else ""


def nearest_other_article(questions: list[Question], paragraphs: list[list[tuple[str, str]]],
                          convert: opencc.OpenCC) -> list[tuple[int, int]]:
    """For each question, the BM25-nearest paragraph (article, paragraph) of another article."""
    where = [(a, p) for a, article in enumerate(paragraphs) for p in range(len(article))]
    retriever = bm25s.BM25()
    retriever.index([bigrams(convert.convert(paragraphs[a][p][1])) for a, p in where], show_progress=False)
    indexed = len(retriever.scores["indptr"]) - 1
    nearest = []
    for question in questions:
        # bm25s counts only tokens it met in documents; its vocabulary may hold a few more
        token_ids = [i for i in retriever.get_tokens_ids(bigrams(convert.convert(question.text))) if i < indexed]
        order = np.argsort(-retriever.get_scores(token_ids)) if token_ids else range(len(where))
        nearest.append(next(where[i] for i in order if where[i][0] != question.article))
    return nearest


def losses(model: torch.nn.Module, examples: list[Example]) -> torch.Tensor:
    """Answer-head binary cross-entropy plus span cross-entropy over the windows with a span target:
    the answer's first and last tokens where it answers, ``<s>`` (no span) where it does not."""
    ids, mask = batch([e.window for e in examples])
    answer, start, end = model(torch.from_numpy(ids), torch.from_numpy(mask))
    target = torch.tensor([float(e.answers) for e in examples])
    allowed = torch.from_numpy(np.stack([_span_mask(e.window, ids.shape[1]) for e in examples]))
    starts = start.masked_fill(~allowed, -1e4)
    ends = end.masked_fill(~allowed, -1e4)
    spans = torch.tensor([float(e.span) for e in examples])
    span_loss = (torch.nn.functional.cross_entropy(starts, torch.tensor([e.start for e in examples]), reduction="none")
                 + torch.nn.functional.cross_entropy(ends, torch.tensor([e.end for e in examples]), reduction="none"))
    return (torch.nn.functional.binary_cross_entropy_with_logits(answer, target)
            + 0.5 * (span_loss * spans).sum() / spans.sum().clamp(min=1.0))


def _span_mask(window: Window, width: int) -> np.ndarray:
    """Where a span may start or end: ``<s>`` (no span) and the context tokens."""
    mask = np.zeros(width, dtype=bool)
    mask[0] = True
    mask[window.context_from:len(window.ids) - 1] = True
    return mask


@torch.no_grad()
def validate(model: torch.nn.Module, examples: list[Example]) -> dict[str, float]:
    """AUC of answering windows against the rest, by the answer head and by the best span's lead over
    no span; the span exact match on answering windows."""
    model.eval()
    head, lead, exact = [], [], []
    for begin in range(0, len(examples), 32):
        chunk = examples[begin:begin + 32]
        ids, mask = batch([e.window for e in chunk])
        answer, start, end = (t.numpy() for t in model(torch.from_numpy(ids), torch.from_numpy(mask)))
        for row, example in enumerate(chunk):
            score, first, last = best_span(example.window, start[row], end[row], (0, 1 << 30))
            head.append((float(answer[row]), example.answers))
            lead.append((score - null_score(start[row], end[row]), example.answers))
            if example.answers and example.span:
                exact.append((first, last) == (int(example.window.spans[example.start, 0]),
                                                int(example.window.spans[example.end, 1])))
    model.train()
    return {"auc_head": _auc(head), "auc_span": _auc(lead), "span_exact": float(np.mean(exact)) if exact else math.nan}


def report_sets(paths: list[Path], encode: Encode, rng: random.Random) -> list[Example]:
    """Answer-head windows of the gold questions in ``paths``, asked of the shipped report
    (:func:`qa.report_examples.report_windows`); none without paths."""
    if not paths:
        return []
    from qa import Assistant
    from qa.evaluate import read_gold
    from qa.report_examples import report_windows

    questions = [q for path in paths for q in read_gold(path)]
    return [Example(window, answers, 0, 0, span=False)
            for window, answers in report_windows(Assistant(retriever="hybrid"), questions, encode, rng)]


def report_figures(model: torch.nn.Module, examples: list[Example]) -> str:
    """The answer head's AUC on report windows, as a suffix of a validation line (empty without any)."""
    return f"; report auc_head {validate(model, examples)['auc_head']:.4f}" if examples else ""


def unanswerable_figures(model: torch.nn.Module, valid: list[Example], unanswered: list[Example]) -> str:
    """AUCs of the validation's answering windows against the windows of unanswerable questions, as
    a suffix of a validation line (empty without any)."""
    if not unanswered:
        return ""
    found = validate(model, [e for e in valid if e.answers] + unanswered)
    return f"; unanswerable auc_head {found['auc_head']:.4f} auc_span {found['auc_span']:.4f}"


def paraphrase_figures(model: torch.nn.Module, examples: list[Example]) -> str:
    """AUC and span exact match on the windows of the paraphrased validation questions, as a suffix of
    a validation line (empty without any)."""
    if not examples:
        return ""
    found = validate(model, examples)
    return f"; paraphrased auc_head {found['auc_head']:.4f} span_exact {found['span_exact']:.2f}"


def _auc(scored: list[tuple[float, bool]]) -> float:
    """ROC AUC of the scores against the labels (scikit-learn's); NaN with one class only."""
    from sklearn.metrics import roc_auc_score

    labels = [answers for _, answers in scored]
    return float(roc_auc_score(labels, [score for score, _ in scored])) if len(set(labels)) == 2 else math.nan


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa.train_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=WEIGHTS,
                        help="the weights file written at the end (int8 matrices, as shipped)")
    parser.add_argument("--checkpoints", type=Path, default=Path("artifacts/reader"), help="checkpoint folder")
    parser.add_argument("--epochs", type=float, default=1.5, help="the length of the learning-rate schedule")
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop after this many steps (default: the schedule's end)")
    parser.add_argument("--init", type=Path, default=None, help="start from these reader weights, not from e5-small")
    parser.add_argument("--order-seed", type=int, default=SEED, help="seed of the batch order only (the data stay alike)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate of the transformer layers")
    parser.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the two new heads")
    parser.add_argument("--validate-every", type=int, default=300)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--keywords", type=float, default=0.0,
                        help="share of the training questions asked in keyword form (run 3: 0.3)")
    parser.add_argument("--layers", type=int, default=LAYERS, help="the first layers of e5-small the reader keeps")
    parser.add_argument("--report-questions", type=Path, nargs="*", default=[],
                        help="gold .jsonl sets about the shipped report to train on")
    parser.add_argument("--report-validation", type=Path, nargs="*", default=[],
                        help="gold .jsonl sets about the shipped report to validate on")
    parser.add_argument("--report-repeat", type=int, default=2, help="times each report window is trained on per epoch")
    parser.add_argument("--unanswerable", type=Path, default=None,
                        help="unanswerable questions about the training paragraphs (qa/answers/reader/mrc_unanswerable.jsonl)")
    parser.add_argument("--unanswerable-repeat", type=int, default=2,
                        help="times each unanswerable question's window is trained on per epoch")
    parser.add_argument("--paraphrases", type=Path, default=None,
                        help="training questions asked again in other words (qa/answers/reader/mrc_paraphrases.jsonl)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)
    convert = opencc.OpenCC("t2s")
    articles, questions, held = training_data(args.data, convert, rng)
    paragraphs = [article[1] for article in articles]
    paraphrased = [] if args.paraphrases is None else place_paraphrases(
        read_paraphrases(args.paraphrases), args.data, paragraphs, convert)
    neighbours = nearest_other_article(questions + paraphrased, paragraphs, convert)  # one BM25 index for both
    asked = [kept if kept.article in held else changed  # validation stays comparable between runs
             for kept, changed in zip(questions, in_keyword_form(questions, args.keywords, random.Random(SEED + 1)))]
    keyword_questions = sum(a != q for a, q in zip(asked, questions))
    questions = asked
    folder = Path(resolve_model(None))
    tokens = TokenIds(lambda: Tokenizer.from_file(str(folder / "tokenizer.json")))
    encode = functools.lru_cache(maxsize=None)(functools.partial(encode_text, tokens))  # texts repeat
    train, valid = [], []
    for question, neighbour in zip(questions, neighbours):
        (valid if question.article in held else train).extend(examples_for(question, paragraphs, neighbour, encode, rng))
    report_train, report_valid = report_sets(args.report_questions, encode, rng), report_sets(args.report_validation, encode, rng)
    train += report_train * args.report_repeat
    unanswered = [] if args.unanswerable is None else place_unanswerable(
        read_unanswerable(args.unanswerable), args.data, paragraphs, convert)
    unanswered_valid = [unanswered_example(q, paragraphs, encode, rng) for q in unanswered if q.article in held]
    unanswered_train = [unanswered_example(q, paragraphs, encode, rng) for q in in_keyword_form(
        [q for q in unanswered if q.article not in held], args.keywords, random.Random(SEED + 2))]
    train += unanswered_train * args.unanswerable_repeat
    paraphrase_train, paraphrase_valid = [], []
    for question, neighbour in zip(paraphrased, neighbours[len(questions):]):
        (paraphrase_valid if question.article in held else paraphrase_train).extend(
            examples_for(question, paragraphs, neighbour, encode, rng))
    train += paraphrase_train
    print(f"data: {len(articles)} articles, {sum(map(len, paragraphs))} paragraphs, {len(questions)} questions "
          f"({keyword_questions} in keyword form); "
          f"training windows {len(train)} ({sum(e.answers for e in train)} answering), "
          f"validation windows {len(valid)} ({sum(e.answers for e in valid)} answering, {len(held)} DRCD dev articles); "
          f"report windows {len(report_train)} ({sum(e.answers for e in report_train)} answering, "
          f"trained {args.report_repeat}× an epoch), report validation {len(report_valid)} "
          f"({sum(e.answers for e in report_valid)} answering); unanswerable questions {len(unanswered_train)} "
          f"(trained {args.unanswerable_repeat}× an epoch), {len(unanswered_valid)} validating; paraphrased "
          f"questions {len(paraphrased)}: windows {len(paraphrase_train)} ({sum(e.answers for e in paraphrase_train)} "
          f"answering), {len(paraphrase_valid)} validating", flush=True)

    def figures() -> str:
        """The validation figures, DRCD dev's then the report's and the unanswerable questions'."""
        return (f"{validate(model, valid)}{report_figures(model, report_valid)}"
                f"{unanswerable_figures(model, valid, unanswered_valid)}{paraphrase_figures(model, paraphrase_valid)}")

    model = base_reader(folder, args.layers)
    if args.init is not None:
        model = load_weights(model, args.init)
    model.train()
    if args.init is not None:
        print(f"validation of {args.init}: {figures()}", flush=True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    heads = [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith("bert.")]
    layers = [p for name, p in model.named_parameters() if p.requires_grad and name.startswith("bert.")]
    optimizer = torch.optim.AdamW([{"params": layers, "lr": args.lr}, {"params": heads, "lr": args.head_lr}],
                                  weight_decay=0.01)
    total = int(args.epochs * len(train) / args.batch)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))))
    print(f"model: {model.bert.config.num_hidden_layers} layers, {sum(p.numel() for p in trainable):,} trained "
          f"parameters; {total} steps of {args.batch}", flush=True)
    args.checkpoints.mkdir(parents=True, exist_ok=True)
    began, running, step = time.monotonic(), 0.0, 0
    stop = total if args.stop_at is None else min(total, args.stop_at)
    order_rng = random.Random(args.order_seed)
    while step < stop:
        order = list(range(len(train)))
        order_rng.shuffle(order)
        # batches of similar length: less padding, the same examples
        chunks = [order[i:i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
        batches = []
        for chunk in chunks:
            chunk.sort(key=lambda i: len(train[i].window.ids))
            batches += [chunk[i:i + args.batch] for i in range(0, len(chunk), args.batch)]
        order_rng.shuffle(batches)
        for indices in batches:
            if step >= stop:
                break
            loss = losses(model, [train[i] for i in indices])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
            if step % args.log_every == 0:
                print(f"step {step}/{total} loss {running:.4f} lr {schedule.get_last_lr()[0]:.2e} "
                      f"{time.monotonic() - began:.0f} s", flush=True)
            if step % args.checkpoint_every == 0 or step == stop:
                save_weights(model, args.checkpoints / f"step{step:05d}.safetensors")
                save_weights(model, args.checkpoints / "latest.safetensors")
                if step % args.validate_every == 0 or step == stop:
                    print(f"validation at step {step}: {figures()}", flush=True)
    save_weights(model, args.out, int8=True)
    print(f"trained in {(time.monotonic() - began) / 60:.1f} min -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
