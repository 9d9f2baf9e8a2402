"""Run `pip check` in a virtual environment and fail on any finding that is not
listed in requirements/pip-check-known.txt.

    python scripts/pip_check.py .venvs/rasa
"""

import subprocess
import sys
from pathlib import Path

KNOWN = Path(__file__).resolve().parent.parent / "requirements" / "pip-check-known.txt"


def main(venv: str) -> int:
    known = {
        line.strip()
        for line in KNOWN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    result = subprocess.run(
        [str(Path(venv) / "bin" / "python"), "-m", "pip", "check"],
        capture_output=True,
        text=True,
    )
    findings = [
        line.strip()
        for line in result.stdout.splitlines()
        if line.strip() and line.strip() != "No broken requirements found."
    ]
    unknown = [f for f in findings if f not in known]
    for finding in unknown:
        print(f"pip check ({venv}): {finding}", file=sys.stderr)
    if unknown:
        print(f"{len(unknown)} unexpected pip check finding(s); see {KNOWN}", file=sys.stderr)
        return 1
    print(f"pip check ({venv}): OK ({len(findings)} known finding(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
