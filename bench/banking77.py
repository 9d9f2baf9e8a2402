"""Banking77: the project's NLU pipeline on a public intent benchmark.

Trains the pipeline of config.yml (without FallbackClassifier, which only
rejects low-confidence predictions) on ../shared/datasets/banking77/train.csv
(10,003 English messages, 77 intents) and scores test.csv (3,080), which is
used for nothing else. The classifier's settings (the encoder's weight next
to the n-grams, the SVM's C, and the weight of the nearest-neighbour
similarity, bot/text_model.py) are first chosen for this data set by 5-fold
cross-validation on train.csv alone, around the production ones. Training is timed from scratch
(an empty embedding cache). Published figures (Casanueva et al. 2020,
Table 2, full training data) are printed next to ours. About 20 minutes on 2
cores.

    python -m bench.banking77 [--dataset DIR] [--folds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, load_agent, save, train_nlu, write_nlu

PUBLISHED = {
    "BERT-fixed": 87.19,
    "USE": 92.81,
    "ConveRT": 93.01,
    "USE+ConveRT": 93.36,
    "BERT-tuned": 93.66,
}
DEFAULT_DATASET = REPO_ROOT.parent / "shared" / "datasets" / "banking77"


def read_csv(path: Path) -> list:
    with path.open(encoding="utf-8") as handle:
        return [(row["text"].strip(), row["category"].strip()) for row in csv.DictReader(handle)]


def nlu_blocks(rows: list) -> list:
    by_intent: dict = {}
    for text, label in rows:
        by_intent.setdefault(label, []).append(" ".join(text.split()))
    return [
        {"intent": label, "examples": "".join(f"- {t}\n" for t in texts)}
        for label, texts in sorted(by_intent.items())
    ]


# (encoder_weight, C, neighbour_weight): the production settings, then one change at a time.
GRID = [
    (3.0, 1.0, 0.0),
    (3.0, 1.0, 10.0),
    (3.0, 1.0, 20.0),
    (2.0, 1.0, 10.0),
    (4.0, 1.0, 10.0),
    (3.0, 0.5, 10.0),
]


def select_settings(rows: list, folds: int) -> tuple:
    """(encoder_weight, C, neighbour_weight) with the best 5-fold accuracy on the training rows, and the table."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from bot.encoder import EmbeddingCache, get_encoder
    from bot.text_model import TextClassifier

    texts = [" ".join(t.split()) for t, _ in rows]
    labels = np.array([label for _, label in rows])
    embeddings = EmbeddingCache(get_encoder()).encode(texts)
    table = []
    for weight, C, neighbour_weight in GRID:
        right = 0
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels):
            model = TextClassifier(weight, C, calibration_folds=0, neighbour_weight=neighbour_weight).fit(
                [texts[i] for i in train], embeddings[train], labels[train]
            )
            scores = model.decision([texts[i] for i in test], embeddings[test])
            right += int(np.sum(np.array(model.classes)[scores.argmax(axis=1)] == labels[test]))
        accuracy = round(100 * right / len(texts), 2)
        table.append(
            {"encoder_weight": weight, "C": C, "neighbour_weight": neighbour_weight, "cv_accuracy": accuracy}
        )
        print(
            f"  cross-validation: encoder_weight {weight}, C {C}, neighbour_weight {neighbour_weight}: {accuracy}%"
        )
    best = max(table, key=lambda row: row["cv_accuracy"])
    return (best["encoder_weight"], best["C"], best["neighbour_weight"]), table


def bench_config(encoder_weight: float, C: float, neighbour_weight: float) -> str:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].endswith("FallbackClassifier")]
    for component in config["pipeline"]:
        if component["name"].endswith("EncoderIntentClassifier"):
            component.update({"encoder_weight": encoder_weight, "C": C, "neighbour_weight": neighbour_weight})
    config.pop("policies", None)
    return yaml.safe_dump(config, sort_keys=False)


async def score(model: Path, rows: list) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    agent = load_agent(model)
    predicted = []
    for text, _ in rows:
        predicted.append((await agent.parse_message(text))["intent"]["name"])
    gold = [label for _, label in rows]
    return {
        "accuracy": round(accuracy_score(gold, predicted) * 100, 2),
        "macro_f1": round(f1_score(gold, predicted, average="macro") * 100, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--dataset", type=Path, default=Path(os.environ.get("BANKING77_DIR", DEFAULT_DATASET))
    )
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if not (args.dataset / "train.csv").exists() or not (args.dataset / "test.csv").exists():
        raise SystemExit(
            f"Banking77 is not at {args.dataset} (train.csv and test.csv): set BANKING77_DIR "
            "to the folder that holds them (default: ../shared/datasets/banking77 next to the checkout)"
        )
    train, test = read_csv(args.dataset / "train.csv"), read_csv(args.dataset / "test.csv")
    chosen, selection = select_settings(train, args.folds)
    print(
        "chosen by cross-validation on train.csv: encoder_weight {}, C {}, neighbour_weight {}".format(
            *chosen
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        nlu = write_nlu(tmp_path / "nlu.yml", nlu_blocks(train))
        config = tmp_path / "config.yml"
        config.write_text(bench_config(*chosen), encoding="utf-8")
        # Timed from scratch: the training run embeds every example itself.
        os.environ["NIMBUS_EMBEDDING_CACHE"] = str(tmp_path / "embeddings")
        os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # and no cached graph nodes from Rasa
        train_minutes = train_nlu(nlu, config, tmp_path, "banking77")
        start = time.monotonic()
        result = asyncio.run(score(tmp_path / "banking77.tar.gz", test))
        parse_ms = round((time.monotonic() - start) / len(test) * 1000, 2)
    figures = {
        "train_examples": len(train),
        "test_examples": len(test),
        "train_minutes": train_minutes,
        "mean_parse_ms": parse_ms,
        **result,
        "published_accuracy": PUBLISHED,
        "selection": selection,
        "chosen": dict(zip(("encoder_weight", "C", "neighbour_weight"), chosen, strict=True)),
    }
    print(
        f"Banking77 test accuracy {result['accuracy']}%, macro-F1 {result['macro_f1']} "
        f"(trained {train_minutes} min on {os.cpu_count()} cores)"
    )
    for name, accuracy in PUBLISHED.items():
        print(f"  published {name:<12} {accuracy}%")
    save("banking77", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
