"""Choose the NLU pipeline on a development split of the TRAINING examples.

Held-out examples are for reporting only (bench/nlu_heldout.py); choices are
made here: every intent/language block's training examples are split 80/20
(seeded), each candidate config (a YAML file with a `pipeline`) is trained on
the 80% and scored on the 20%, per language.

    python -m bench.tune_nlu CONFIG.yml [CONFIG.yml ...]
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from pathlib import Path

from bench.common import load_agent, save, train_nlu, write_nlu
from bot.content import load_content


def split(seed: int = 0, dev_share: float = 0.2):
    content = load_content()
    rng = random.Random(seed)
    train_blocks, dev = [], []
    for name in sorted(content.intents):
        for lang in content.settings.authored:
            examples = list(content.intents[name].languages[lang].examples)
            rng.shuffle(examples)
            k = max(1, round(len(examples) * dev_share))
            dev += [(text, name, lang) for text in examples[:k]]
            train_blocks.append({"intent": name, "examples": "".join(f"- {t}\n" for t in examples[k:])})
    return train_blocks, dev


async def score(model: Path, dev: list) -> dict:
    agent = load_agent(model)
    by_lang: dict = {}
    for text, gold, lang in dev:
        parse = await agent.parse_message(text)
        ranking = [r for r in parse["intent_ranking"] if r["name"] != "nlu_fallback"]
        best = ranking[0] if ranking else parse["intent"]
        stats = by_lang.setdefault(lang, {"n": 0, "best": 0, "final": 0, "fallback": 0})
        stats["n"] += 1
        stats["best"] += best["name"] == gold
        stats["final"] += parse["intent"]["name"] == gold
        stats["fallback"] += parse["intent"]["name"] == "nlu_fallback"
    return {
        lang: {k: round(v / s["n"], 4) if k != "n" else v for k, v in s.items()}
        for lang, s in by_lang.items()
    }


def main(configs: list) -> int:
    blocks, dev = split()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        nlu = write_nlu(tmp_path / "nlu.yml", blocks)
        for config in configs:
            name = Path(config).stem
            minutes = train_nlu(nlu, Path(config), tmp_path, name)
            results[name] = {
                "train_minutes": minutes,
                "dev": asyncio.run(score(tmp_path / f"{name}.tar.gz", dev)),
            }
            print(name, results[name], flush=True)
    save("tune_nlu", {"dev_examples": len(dev), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
