"""Banking77: the project's NLU pipeline on a public intent benchmark.

Trains the pipeline of config.yml (without FallbackClassifier, which only
rejects low-confidence predictions) on ../shared/datasets/banking77/train.csv
(10,003 English messages, 77 intents) and scores test.csv (3,080), which is
used for nothing else. Published figures (Casanueva et al. 2020, Table 2,
full training data) are printed next to ours. Takes about an hour on 2 cores.

    python -m bench.banking77 [--dataset DIR] [--epochs N]
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


def bench_config(epochs: int = 0) -> str:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] != "FallbackClassifier"]
    if epochs:
        for component in config["pipeline"]:
            if component["name"] == "DIETClassifier":
                component["epochs"] = epochs
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
    parser.add_argument(
        "--epochs", type=int, default=0, help="override DIET epochs (default: as in config.yml)"
    )
    args = parser.parse_args()
    train, test = read_csv(args.dataset / "train.csv"), read_csv(args.dataset / "test.csv")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        nlu = write_nlu(tmp_path / "nlu.yml", nlu_blocks(train))
        config = tmp_path / "config.yml"
        config.write_text(bench_config(args.epochs), encoding="utf-8")
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
        "epochs": args.epochs or "config.yml",
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
