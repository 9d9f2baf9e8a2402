"""Fixtures: real argostranslate packages built offline (tests/support/argos_model.py)."""

from pathlib import Path

import pytest

from tests.support.argos_model import build_package
from translator.install import install


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("argosmodels")
    return {
        pair: build_package(pair[0], pair[1], out, seed=i)
        for i, pair in enumerate([("hi", "en"), ("en", "hi"), ("en", "fr")])
    }


@pytest.fixture(scope="session")
def packages_dir(tmp_path_factory, model_files) -> Path:
    target = tmp_path_factory.mktemp("argos-packages")
    install(list(model_files.values()), target)
    return target
