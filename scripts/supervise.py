"""Start every process of a Procfile, show their output in one log view, and
stop them all on Ctrl-C (or when one of them exits).

    python scripts/supervise.py [Procfile]

Each output line is prefixed with the process name. On Ctrl-C / SIGTERM every
process gets SIGTERM, and SIGKILL after 10 s if it has not stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Tuple

GRACE_SECONDS = 10
COLOURS = ["36", "33", "35", "32", "34", "31"]


def read_procfile(path: Path) -> List[Tuple[str, str]]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise SystemExit(f"{path}:{number}: expected `name: command`")
        entries.append((name.strip(), os.path.expandvars(command.strip())))
    return entries


def _pump(name: str, colour: str, stream, width: int) -> None:
    tty = sys.stdout.isatty()
    prefix = f"\033[{colour}m{name:<{width}} |\033[0m " if tty else f"{name:<{width}} | "
    for raw in iter(stream.readline, b""):
        sys.stdout.write(prefix + raw.decode("utf-8", "replace").rstrip("\n") + "\n")
        sys.stdout.flush()


def main(argv: List[str]) -> int:
    procfile = Path(argv[1]) if len(argv) > 1 else Path("Procfile")
    entries = read_procfile(procfile)
    width = max(len(name) for name, _ in entries)
    processes: Dict[str, subprocess.Popen] = {}
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for index, (name, command) in enumerate(entries):
        print(f"supervise: starting {name}: {command}", flush=True)
        process = subprocess.Popen(
            command,
            shell=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes[name] = process
        threading.Thread(
            target=_pump,
            args=(name, COLOURS[index % len(COLOURS)], process.stdout, width),
            daemon=True,
        ).start()

    exit_code = 0
    while not stopping.is_set():
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"supervise: {name} exited with status {process.returncode}; stopping all", flush=True)
                exit_code = process.returncode or 1
                stopping.set()
                break
        time.sleep(0.2)

    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"supervise: {name} did not stop in {GRACE_SECONDS}s; killing it", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print("supervise: all processes stopped", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
