"""Photosensitive safety: never more than 3 large-area luminance flashes per second.

Pure numpy, no GL: the renderer measures each finished frame's relative luminance on a
coarse grid (linear light, 0..1) and asks :meth:`FlashGuard.limit` how much of the new frame
may be shown; it then shows ``mix(previous shown frame, new frame, a)`` (in linear light),
so whatever a scene or a beat does, the light that reaches the room obeys the rule.

Definitions (after WCAG 2.x "three flashes" and ITU-R BT.1702):

- a **transition** is a change of relative luminance of at least ``delta`` (0.1) where the
  darker state is below ``dark`` (0.8), measured against the extreme reached since the last
  transition in the other direction (so a slow ramp is one transition, not many);
- a **flash** is a pair of opposing transitions;
- a **large area** is any of the :data:`REGIONS`: the whole frame and nine overlapping
  windows of a quarter of the frame each (half the width by half the height), so a flash
  covering 25 % of the screen anywhere is seen by at least one region at >= 1/4 coverage.

The guard lets at most ``2 * max_flashes`` transitions happen in any ``window_s`` seconds in
any region; a frame that would cause one more is mixed with the previous shown frame just
enough to stay ``0.95 * delta`` short of it. One scene cut (a single transition) always
passes untouched.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: Regions as (x0, y0, x1, y1) fractions of the frame.
REGIONS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 1.0, 1.0),
    *((x, y, x + 0.5, y + 0.5) for y in (0.0, 0.25, 0.5) for x in (0.0, 0.25, 0.5)),
)

#: Luminance grid size (w, h) the renderer measures.
GRID = (32, 18)


@dataclass
class _Track:
    lo: float
    hi: float
    direction: int = 0                 # +1 after an up transition, -1 after down
    times: deque = None                # times of recent transitions

    def __post_init__(self) -> None:
        self.times = deque()


class FlashGuard:
    """Limits large-area flashes. ``limit(grid, time)`` -> mix factor ``a`` in [0, 1].

    ``grid`` is relative luminance (linear, 0..1) of the frame about to be shown, shape
    (h, w), top row first or last (regions are symmetric). ``time`` in seconds, injected.
    """

    def __init__(self, *, max_flashes: int = 3, window_s: float = 1.0, delta: float = 0.1,
                 dark: float = 0.8, margin: float = 0.95) -> None:
        if max_flashes < 1 or not window_s > 0 or not 0 < delta < 1:
            raise ValueError("FlashGuard needs max_flashes >= 1, window_s > 0, 0 < delta < 1")
        self.max_transitions = 2 * int(max_flashes)
        self.window_s = float(window_s)
        self.delta = float(delta)
        self.dark = float(dark)
        self.margin = float(margin)
        self._shown: np.ndarray | None = None   # region luminances of the last shown frame
        self._tracks: list[_Track] = []
        self.limited_frames = 0                 # frames the guard had to soften
        self.last_mix = 1.0

    @staticmethod
    def regions(grid: np.ndarray) -> np.ndarray:
        """Mean luminance of each of :data:`REGIONS` in ``grid`` (h, w)."""
        g = np.asarray(grid, dtype=np.float64)
        h, w = g.shape
        out = np.empty(len(REGIONS))
        for i, (x0, y0, x1, y1) in enumerate(REGIONS):
            out[i] = g[int(round(y0 * h)):max(int(round(y1 * h)), int(round(y0 * h)) + 1),
                       int(round(x0 * w)):max(int(round(x1 * w)), int(round(x0 * w)) + 1)].mean()
        return out

    def limit(self, grid: np.ndarray, time: float) -> float:
        cur = self.regions(grid)
        if self._shown is None:
            self._shown = cur
            self._tracks = [_Track(lo=v, hi=v) for v in cur]
            self.last_mix = 1.0
            return 1.0
        prev = self._shown
        a = 1.0
        for i, tr in enumerate(self._tracks):
            while tr.times and time - tr.times[0] >= self.window_s:
                tr.times.popleft()
            if len(tr.times) < self.max_transitions:
                continue
            # budget spent: the shown value must stay short of the next transition
            hi_bound = tr.lo + self.margin * self.delta if tr.direction <= 0 else np.inf
            lo_bound = (tr.hi - self.margin * self.delta if tr.direction >= 0 else -np.inf)
            target = min(max(cur[i], lo_bound), hi_bound)
            if target != cur[i] and cur[i] != prev[i]:
                a = min(a, max(0.0, (target - prev[i]) / (cur[i] - prev[i])))
        shown = prev + a * (cur - prev)
        for i, tr in enumerate(self._tracks):
            self._step(tr, float(shown[i]), time)
        self._shown = shown
        if a < 1.0:
            self.limited_frames += 1
        self.last_mix = a
        return a

    def _step(self, tr: _Track, y: float, time: float) -> None:
        tr.lo, tr.hi = min(tr.lo, y), max(tr.hi, y)
        if tr.direction <= 0 and y - tr.lo >= self.delta and tr.lo < self.dark:
            tr.direction, tr.hi = 1, y
            tr.times.append(time)
        elif tr.direction >= 0 and tr.hi - y >= self.delta and y < self.dark:
            tr.direction, tr.lo = -1, y
            tr.times.append(time)
        # keep tracking the extreme in the current direction only
        if tr.direction > 0:
            tr.lo = y if y < tr.lo else tr.lo
        elif tr.direction < 0:
            tr.hi = y if y > tr.hi else tr.hi


def count_flashes(series: np.ndarray, times: np.ndarray, *, delta: float = 0.1,
                  dark: float = 0.8, window_s: float = 1.0) -> int:
    """The most flashes (pairs of opposing transitions) in any ``window_s`` of a luminance
    ``series`` (same definitions as the guard; for tests and reports)."""
    trans: list[float] = []
    lo = hi = float(series[0])
    direction = 0
    for y, t in zip(map(float, series), map(float, times)):
        lo, hi = min(lo, y), max(hi, y)
        if direction <= 0 and y - lo >= delta and lo < dark:
            direction, hi = 1, y
            trans.append(t)
        elif direction >= 0 and hi - y >= delta and y < dark:
            direction, lo = -1, y
            trans.append(t)
    best = 0
    j = 0
    for i in range(len(trans)):
        while trans[i] - trans[j] >= window_s:
            j += 1
        best = max(best, (i - j + 1) // 2)
    return best
