"""Shared helpers of the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "results" / "bench"
MODEL = REPO_ROOT / os.environ.get("MODEL", "models/nimbus.tar.gz")


def percentile(values: list, q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_ms(samples: list) -> Dict[str, float]:
    """p50/p95/p99/max of durations in seconds, as milliseconds rounded to 0.1."""
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 1),
        "p95_ms": round(percentile(samples, 95) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def save(name: str, figures: Dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    return path


def write_nlu(path: Path, blocks: list) -> Path:
    """Write Rasa NLU training data (a list of {intent, examples} blocks)."""
    import yaml

    from bot.compile import _Dumper

    document = {"version": "3.1", "nlu": blocks}
    path.write_text(
        yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10000),
        encoding="utf-8",
    )
    return path


def train_nlu(nlu: Path, config: Path, out: Path, name: str) -> float:
    """`rasa train nlu` into out/<name>.tar.gz; returns the minutes it took."""
    import subprocess
    import sys

    start = time.monotonic()
    rasa = Path(sys.executable).parent / "rasa"
    subprocess.run(
        [
            str(rasa),
            "train",
            "nlu",
            "--nlu",
            str(nlu),
            "--config",
            str(config),
            "--out",
            str(out),
            "--fixed-model-name",
            name,
        ],
        check=True,
        cwd=REPO_ROOT,
    )
    return round((time.monotonic() - start) / 60, 1)


def load_agent(model: Path = MODEL):
    """Load the trained model in-process (Rasa's Agent), quietly."""
    import logging

    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent

    return Agent.load(str(model))
