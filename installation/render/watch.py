"""Hot reload: notice saved shader files by polling their modification times.

Polling (``os.stat`` of the ``.frag`` and ``.glsl`` files, a few dozen) costs ~0.1 ms and
needs no OS-specific watcher. Editors save in bursts (truncate, write, rename), so a change
is reported only once the files have stayed the same for one more poll: with the default
0.15 s interval a save is reported within ~0.3 s, inside the half second the show allows.

Time is injected (``poll(now)``): tests and replays drive it.
"""

from __future__ import annotations

import os
from pathlib import Path

Signature = dict[str, tuple[int, int]]


def _signature(root: Path) -> Signature:
    sig: Signature = {}
    for pattern in ("*.frag", "lib/**/*.glsl", "*.glsl"):
        for path in root.glob(pattern):
            try:
                st = path.stat()
            except OSError:      # deleted between glob and stat
                continue
            sig[str(path.resolve())] = (st.st_mtime_ns, st.st_size)
    return sig


class ShaderWatcher:
    """Reports which shader files under ``directory`` changed since the last report.

    ``poll(now)`` returns the set of changed (resolved) paths, empty when nothing changed
    or a save is still settling; it stats the files at most every ``interval_s`` seconds.
    """

    def __init__(self, directory: str | os.PathLike, *, interval_s: float = 0.15) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        self.directory = Path(directory)
        self.interval_s = float(interval_s)
        self._known = _signature(self.directory)
        self._pending: Signature | None = None
        self._last: float | None = None

    def poll(self, now: float) -> set[str]:
        if self._last is not None and now - self._last < self.interval_s - 1e-9:
            return set()
        self._last = now
        current = _signature(self.directory)
        if current == self._known:
            self._pending = None
            return set()
        if self._pending != current:       # still changing: wait one more poll
            self._pending = current
            return set()
        changed = {p for p in current.keys() | self._known.keys()
                   if current.get(p) != self._known.get(p)}
        self._known, self._pending = current, None
        return changed


def affects(scene, changed: set[str]) -> bool:
    """Whether any of ``changed`` (resolved paths) is the scene file or one it includes."""
    if not changed:
        return False
    files = {str(Path(f).resolve()) for f in getattr(scene, "files", ())
             if not str(f).startswith("<")}
    files.add(str(Path(scene.path).resolve()))
    return bool(files & changed)
