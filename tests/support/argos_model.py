"""Build a tiny but real `.argosmodel` package, offline, for tests.

No translation model can be downloaded on the build machines, so the tests
exercise argostranslate's real loading and translation path on a package they
build themselves: a sentencepiece model trained on a few lines, a one-layer
CTranslate2 Transformer with small random weights (int8), and a metadata.json.
Its output is gibberish by design: it tests the code path, not the quality.

    .venvs/svc/bin/python -m tests.support.argos_model --from hi --to en --out DIR
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

SAMPLE_TEXT = [
    "where is my order",
    "I want a refund",
    "my parcel has not arrived yet",
    "how long does delivery take",
    "can I return these shoes",
    "payment failed twice",
    "मेरा ऑर्डर कहाँ है",
    "मुझे रिफंड चाहिए",
    "डिलीवरी कब होगी",
    "पेमेंट फेल हो गया",
    "où est ma commande",
    "je veux un remboursement",
    "¿dónde está mi pedido?",
    "quiero devolver los zapatos",
    "thank you very much",
    "hello, I need help",
]
D_MODEL, FFN, HEADS = 16, 32, 2


def _train_sentencepiece(folder: Path) -> Path:
    import sentencepiece

    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(SAMPLE_TEXT * 4), encoding="utf-8")
    prefix = folder / "sentencepiece"
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=120,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


def _spec(vocabulary: list, seed: int):
    import numpy as np
    from ctranslate2.specs import TransformerSpec

    rng = np.random.default_rng(seed)
    spec = TransformerSpec.from_config(1, HEADS)
    v = len(vocabulary)
    shapes = {
        "embeddings_0/weight": (v, D_MODEL),
        "embeddings/weight": (v, D_MODEL),
        "projection/weight": (v, D_MODEL),
        "self_attention/linear_0/weight": (3 * D_MODEL, D_MODEL),
        "attention/linear_0/weight": (D_MODEL, D_MODEL),
        "attention/linear_1/weight": (2 * D_MODEL, D_MODEL),
        "linear_2/weight": (D_MODEL, D_MODEL),
        "self_attention/linear_1/weight": (D_MODEL, D_MODEL),
        "ffn/linear_0/weight": (FFN, D_MODEL),
        "ffn/linear_1/weight": (D_MODEL, FFN),
    }
    for name, value in spec.variables().items():
        if value is not None:
            continue
        obj, attr = spec, name.split("/")
        for part in attr[:-1]:  # "layer_0" is obj.layer[0], "embeddings_0" obj.embeddings[0]
            group, _, index = part.rpartition("_")
            listed = getattr(obj, group, None) if index.isdigit() else None
            obj = listed[int(index)] if isinstance(listed, (list, tuple)) else getattr(obj, part)
        if attr[-1] == "gamma":
            array = np.ones(D_MODEL, dtype=np.float32)
        elif attr[-1] == "beta":
            array = np.zeros(D_MODEL, dtype=np.float32)
        else:
            shape = next(s for suffix, s in shapes.items() if name.endswith(suffix))
            array = rng.normal(0, 0.5, size=shape).astype(np.float32)
        setattr(obj, attr[-1], array)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    return spec


def build_package(source: str, target: str, out_dir: Path, seed: int = 0) -> Path:
    """Write `translate-<source>_<target>-test.argosmodel` into out_dir and return its path."""
    import ctranslate2
    import sentencepiece
    from ctranslate2.converters.converter import Converter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        name = f"translate-{source}_{target}-test"
        package = tmp_path / name
        package.mkdir()
        sp_model = _train_sentencepiece(tmp_path)
        processor = sentencepiece.SentencePieceProcessor(model_file=str(sp_model))
        vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        vocabulary = ["<blank>", "<s>", "</s>"] + [p for p in vocabulary if p not in ("<s>", "</s>")]
        spec = _spec(vocabulary, seed)

        class _SpecConverter(Converter):
            def _load(self):  # noqa: D401 - Converter API
                return spec

        _SpecConverter().convert(str(package / "model"), quantization="int8", force=True)
        (package / "sentencepiece.model").write_bytes(sp_model.read_bytes())
        (package / "metadata.json").write_text(
            json.dumps(
                {
                    "package_version": "0.0.1",
                    "argos_version": "1.11.0",
                    "from_code": source,
                    "to_code": target,
                    "from_name": source,
                    "to_name": target,
                    "type": "translate",
                    "name": name,
                }
            ),
            encoding="utf-8",
        )
        archive = out_dir / f"{name}.argosmodel"
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in sorted(package.rglob("*")):
                zipped.write(path, path.relative_to(tmp_path))
        assert ctranslate2.contains_model(str(package / "model"))
    return archive


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True)
    parser.add_argument("--to", dest="target", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(build_package(args.source, args.target, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
