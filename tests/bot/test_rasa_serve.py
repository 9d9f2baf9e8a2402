"""scripts/rasa_serve.py: the arguments it gives `rasa run`, read by Rasa's own argument parser."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from rasa.__main__ import create_argument_parser

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rasa_serve.py"


@pytest.mark.parametrize("token", ["-Abc_123-xyz", "--x", "plain_Token-1"])
def test_every_token_reaches_rasa_whole_even_one_that_starts_with_a_dash(token):
    rasa_argv = runpy.run_path(str(SCRIPT), run_name="rasa_serve")["rasa_argv"]
    argv = rasa_argv(token, "127.0.0.1", ["--port", "5005", "--model", "models/nimbus.tar.gz"])
    args = create_argument_parser().parse_args(argv[1:])
    assert (args.auth_token, args.interface, args.enable_api, args.port) == (token, "127.0.0.1", True, 5005)
