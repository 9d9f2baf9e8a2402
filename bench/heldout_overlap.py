"""Training examples that come too close to a held-out one.

    python -m bench.heldout_overlap [--since REF] [--ratio 0.8] [--cosine 0.97]

Held-out examples measure how the assistant does on messages it has never
seen; a training example that merely rewords one of them (same language block)
makes that measure lie. This lists every training example whose string
similarity (difflib ratio of the case-folded texts) or sentence-embedding
cosine to a held-out example of the same intent and language block reaches the
limit. `--since REF` checks only the training examples added since that git
revision (what a content change brings). The held-out texts are never printed,
so an author can run it without reading them. Exit status 1 when any is found.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import List, Optional, Set, Tuple

import numpy as np

from bot.content import Content, load_content
from bot.encoder import EmbeddingCache, get_encoder

REPO_ROOT = Path(__file__).resolve().parent.parent


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def examples_at(ref: str) -> Set[Tuple[str, str, str]]:
    """(intent, block, text) of every training example at git revision `ref`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "data"], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        content = load_content(Path(tmp) / "data")
    return {
        (n, lang, _normal(t))
        for n, i in content.intents.items()
        for lang, b in i.languages.items()
        for t in b.examples
    }


def too_close(
    content: Content, since: Optional[Set[Tuple[str, str, str]]], ratio: float, cosine: float
) -> List[Tuple[str, str, str, float, float]]:
    """(intent, block, training example, best ratio, best cosine) over the limits."""
    cache = EmbeddingCache(get_encoder())
    found = []
    for name, intent in sorted(content.intents.items()):
        for lang, block in sorted(intent.languages.items()):
            texts = [t for t in block.examples if since is None or (name, lang, _normal(t)) not in since]
            if not texts or not block.heldout:
                continue
            # Each block's texts embedded once: cosines of every example with every held-out one.
            cosines = cache.encode(texts) @ cache.encode(block.heldout).T
            heldout = [_normal(h) for h in block.heldout]
            for text, row in zip(texts, cosines, strict=True):
                best_ratio = max(difflib.SequenceMatcher(None, _normal(text), h).ratio() for h in heldout)
                best_cosine = float(np.max(row))
                if best_ratio >= ratio or best_cosine >= cosine:
                    found.append((name, lang, text, round(best_ratio, 3), round(best_cosine, 3)))
    return found


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", help="only training examples added since this git revision")
    parser.add_argument("--ratio", type=float, default=0.8, help="difflib ratio limit")
    parser.add_argument("--cosine", type=float, default=0.97, help="embedding cosine limit")
    args = parser.parse_args(argv)
    since = examples_at(args.since) if args.since else None
    found = too_close(load_content(), since, args.ratio, args.cosine)
    for name, lang, text, best_ratio, best_cosine in found:
        print(f"{name} {lang}: {text!r} (ratio {best_ratio}, cosine {best_cosine})")
    print(f"{len(found)} training examples too close to a held-out example", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
