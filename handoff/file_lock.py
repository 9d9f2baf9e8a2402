"""An exclusive flock on a file, given up at a deadline (used to start one embedded Redis at a time)."""

from __future__ import annotations

import errno
import fcntl
import time
from pathlib import Path
from typing import IO, Optional


class FileLock:
    """An exclusive flock on a file in the data directory, given up at `deadline`.

    flock (not the pid file) because the kernel drops it when its holder dies,
    so a crashed starter never blocks the next one.
    """

    def __init__(self, path: Path, deadline: float) -> None:
        self.path, self.deadline = path, deadline
        self._handle: Optional[IO[bytes]] = None

    def __enter__(self) -> FileLock:
        handle = self.path.open("ab")
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    handle.close()
                    raise
                if time.monotonic() >= self.deadline:
                    handle.close()
                    raise RuntimeError(
                        f"timed out waiting for {self.path} (another process is starting Redis)"
                    ) from None
                time.sleep(0.02)
        self._handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
