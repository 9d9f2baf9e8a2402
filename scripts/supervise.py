"""Start every process of a Procfile, show their output in one log view, restart any that dies, and
stop them all on Ctrl-C.

    python scripts/supervise.py [Procfile]
    python scripts/supervise.py --exec NAME [Procfile]    # become that one process (systemd units)

Each output line is prefixed with the process name. A process that exits on its own is started
again after a back-off (1 s, 2 s, 4 s ... at most `MAX_BACKOFF`; back to 1 s once it has stayed up
`STABLE_SECONDS`), and the log says so. On Ctrl-C / SIGTERM every process group gets SIGTERM, and
SIGKILL after `GRACE_SECONDS` if it has not stopped. In production, systemd does this job
(docs/deployment.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

GRACE_SECONDS = 10
MAX_BACKOFF = float(os.environ.get("SUPERVISE_MAX_BACKOFF", "30"))
STABLE_SECONDS = 60.0
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


def say(text: str) -> None:
    print(f"supervise: {text}", flush=True)


def _pump(prefix: str, stream) -> None:
    for raw in iter(stream.readline, b""):
        sys.stdout.write(prefix + raw.decode("utf-8", "replace").rstrip("\n") + "\n")
        sys.stdout.flush()


@dataclass
class Child:
    name: str
    command: str
    prefix: str
    process: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    failures: int = 0  # exits in a row without staying up STABLE_SECONDS
    restart_at: Optional[float] = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            "exec " + self.command,  # the shell becomes the process: its pid is the one we watch
            shell=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: signals reach its children too
        )
        self.started_at, self.restart_at = time.monotonic(), None
        threading.Thread(target=_pump, args=(self.prefix, self.process.stdout), daemon=True).start()
        say(f"started {self.name} (pid {self.process.pid}): {self.command}")

    def check(self, now: float) -> None:
        """Notice an exit and plan the restart; start it when its time has come."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
            return
        if self.process is None or self.process.poll() is None:
            return
        self.failures = 1 if now - self.started_at >= STABLE_SECONDS else self.failures + 1
        delay = min(MAX_BACKOFF, 2.0 ** (self.failures - 1))
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        say(f"{self.name} {how}; restarting in {delay:g}s (restart {self.failures} in a row)")
        self.restart_at = now + delay

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def signal_group(self, number: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, number)
            except ProcessLookupError:
                pass


def exec_one(name: str, procfile: Path) -> None:
    """Replace this process with the Procfile's `name` (for a systemd unit: systemd supervises)."""
    commands = dict(read_procfile(procfile))
    if name not in commands:
        raise SystemExit(f"{procfile}: no process {name!r} (there are: {', '.join(commands)})")
    os.execvp("/bin/sh", ["/bin/sh", "-c", "exec " + commands[name]])


def main(argv: List[str]) -> int:
    if len(argv) > 2 and argv[1] == "--exec":
        exec_one(argv[2], Path(argv[3]) if len(argv) > 3 else Path("Procfile"))
    procfile = Path(argv[1]) if len(argv) > 1 else Path("Procfile")
    entries = read_procfile(procfile)
    width = max(len(name) for name, _ in entries)
    tty = sys.stdout.isatty()
    children = []
    for index, (name, command) in enumerate(entries):
        colour = COLOURS[index % len(COLOURS)]
        prefix = f"\033[{colour}m{name:<{width}} |\033[0m " if tty else f"{name:<{width}} | "
        children.append(Child(name, command, prefix))
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    for child in children:
        child.start()
    while not stopping.is_set():
        now = time.monotonic()
        for child in children:
            child.check(now)
        stopping.wait(0.2)

    say("stopping all processes")
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            while child.group_alive() and time.monotonic() < deadline:  # its children too
                time.sleep(0.1)
            if child.group_alive():
                raise subprocess.TimeoutExpired(child.command, GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop in {GRACE_SECONDS}s; killing it")
            child.signal_group(signal.SIGKILL)
            child.process.wait()
    say("all processes stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
