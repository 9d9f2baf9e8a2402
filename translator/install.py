"""Install `.argosmodel` translation packages for the translator service, offline.

    python -m translator.install FILE.argosmodel [FILE ...]

Packages go to $ARGOS_PACKAGES_DIR (default var/translation-models/). Get the
files on a machine with internet access (the argospm package index) and copy
them here; restart the translator service to load them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional

from translator.engine import default_packages_dir


def install(paths: list, packages_dir: Optional[Path] = None) -> Path:
    target = Path(packages_dir) if packages_dir else default_packages_dir()
    target.mkdir(parents=True, exist_ok=True)
    os.environ["ARGOS_PACKAGES_DIR"] = str(target)
    from argostranslate import package as argos_package  # reads ARGOS_PACKAGES_DIR on import

    for path in paths:
        argos_package.install_from_path(Path(path))
    return target


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    target = install(args.files)
    print(f"installed {len(args.files)} package(s) into {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
