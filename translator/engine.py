"""argostranslate, fully offline, loaded once.

Installed packages (`.argosmodel` files installed into $ARGOS_PACKAGES_DIR)
are found with argostranslate's package API; each package's CTranslate2 model
is loaded once, at `load()`. Sentences are split by the package's own stanza
model when it carries one, otherwise by `ChatSentencizer` below: argostranslate
would otherwise try to download a sentence splitter at run time, which fails
offline. Pairs with no direct model are translated through English when both
halves exist.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from translator.client import Translation, TranslationUnavailable

log = logging.getLogger(__name__)

PIVOT = "en"
MAX_CHARS = 5000


class ChatSentencizer:
    """Splits chat text into sentences on ., !, ?, the danda (।) and newlines.

    Implements argostranslate.sbd.ISentenceBoundaryDetectionModel (duck-typed,
    so this module does not import argostranslate until `load()`)."""

    _boundary = re.compile(r"(?<=[.!?।॥])\s+|\n+")

    def split_sentences(self, text: str) -> List[str]:
        return [part.strip() for part in self._boundary.split(text) if part.strip()]


@dataclass
class _Model:
    package: object  # argostranslate.package.Package
    translator: object  # ctranslate2.Translator
    sentencizer: object
    name: str
    lock: threading.Lock


class TranslationEngine:
    """All installed argostranslate packages, ready to translate."""

    def __init__(self, packages_dir: Optional[Path] = None, compute_type: str = "int8") -> None:
        self.packages_dir = Path(packages_dir) if packages_dir else default_packages_dir()
        self.compute_type = compute_type
        self.models: Dict[Tuple[str, str], _Model] = {}
        self.loaded = False

    def load(self) -> TranslationEngine:
        """Find and load every installed package (seconds per real model)."""
        self.packages_dir.mkdir(parents=True, exist_ok=True)
        os.environ["ARGOS_PACKAGES_DIR"] = str(self.packages_dir)
        import ctranslate2
        from argostranslate import package as argos_package
        from argostranslate.sbd import StanzaSentencizer

        self.models = {}
        for pkg in argos_package.get_installed_packages(path=[self.packages_dir]):
            if getattr(pkg, "type", "translate") not in ("translate", None):
                continue
            model_dir = Path(pkg.package_path) / "model"
            translator = ctranslate2.Translator(
                str(model_dir), device="cpu", compute_type=self.compute_type, inter_threads=1
            )
            has_stanza = (Path(pkg.package_path) / "stanza").exists()
            sentencizer = StanzaSentencizer(pkg) if has_stanza else ChatSentencizer()
            name = f"{Path(pkg.package_path).name} {pkg.package_version}"
            self.models[(pkg.from_code, pkg.to_code)] = _Model(
                pkg, translator, sentencizer, name, threading.Lock()
            )
            log.info("loaded translation model %s (%s->%s)", name, pkg.from_code, pkg.to_code)
        self.loaded = True
        if not self.models:
            log.warning(
                "no translation model installed in %s: machine translation is off "
                "(install one with `python -m translator.install FILE.argosmodel`)",
                self.packages_dir,
            )
        return self

    def pairs(self) -> List[Dict[str, Optional[str]]]:
        """Every (source, target) this engine can translate, direct or via English."""
        found = {pair: None for pair in self.models}
        for src, mid in list(self.models):
            for mid2, tgt in list(self.models):
                if mid == PIVOT == mid2 and src != tgt and (src, tgt) not in found:
                    found[(src, tgt)] = PIVOT
        return [{"source": s, "target": t, "via": via} for (s, t), via in sorted(found.items())]

    def _route(self, source: str, target: str) -> List[_Model]:
        if (source, target) in self.models:
            return [self.models[(source, target)]]
        if (source, PIVOT) in self.models and (PIVOT, target) in self.models:
            return [self.models[(source, PIVOT)], self.models[(PIVOT, target)]]
        raise TranslationUnavailable(f"no translation model installed for {source}->{target}", "no_model")

    def translate(self, text: str, source: str, target: str) -> Translation:
        if not self.loaded:
            raise RuntimeError("TranslationEngine.load() was not called")
        if source == target:
            return Translation(text, source, target, "identity", "")
        from argostranslate.translate import apply_packaged_translation

        route = self._route(source, target)
        for model in route:
            with model.lock:
                hypotheses = apply_packaged_translation(
                    model.package, text, model.translator, model.sentencizer, 1
                )
            text = hypotheses[0].value
        return Translation(text, source, target, "argostranslate", " + ".join(m.name for m in route))


def default_packages_dir() -> Path:
    """$ARGOS_PACKAGES_DIR, or var/translation-models/ in the repository."""
    configured = os.environ.get("ARGOS_PACKAGES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "var" / "translation-models"
