"""A first voice-activity and gap state machine, one block at a time.

Voice is a level well above the recent noise floor (the quietest 100 ms, by mean power, of
the last five seconds, so a steady room or soft music under the voice raises the bar; for
the first half second, before there is any history, a quiet room is assumed). A word starts
after ``word_min_s`` of voice and ends after ``hangover_s`` without; its end is back-dated
to the first quiet block, less the level measurement's own lag, so the gap starts where the
silence really began. The frame builder now uses the gap detector
(:mod:`installation.analysis.gaps`), which also hears voice over music; this level-only
tracker stays as the simple reference (``vad_margin_db``) and is not run per frame.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class VoiceGapTracker:
    """Feed ``update(time, level_db)`` per block; read ``voice`` and ``gap_s``.

    ``time`` is the end of the block in seconds; ``level_db`` its RMS level in dBFS.
    ``lag_s`` is how late the level measurement falls after the sound stops (the level
    window); it is subtracted from word ends.
    """

    margin_db: float = 14.0
    floor_db: float = -55.0
    word_min_s: float = 0.05
    hangover_s: float = 0.1
    lag_s: float = 0.0
    hysteresis_db: float = 4.0
    floor_window_s: float = 5.0
    floor_segment_s: float = 0.1
    warmup_s: float = 0.5

    voice: bool = False
    gap_s: float = 0.0
    words: int = 0
    word_start: float = math.nan
    last_word_end: float = 0.0
    _voiced: bool = False
    _run_start: float = math.nan
    _silence_start: float = math.nan
    _prev_time: float = 0.0
    _segments: deque = field(default_factory=deque)
    _seg_power: float = 0.0   # sum of linear power in the open segment
    _seg_blocks: int = 0
    _seg_start: float = 0.0
    _closed_min: float = math.inf  # minimum over the closed segments in the window

    def noise_floor_db(self) -> float:
        """Quietest ``floor_segment_s`` (mean power) of the last ``floor_window_s`` (dBFS).

        A mean over 100 ms, not a minimum over blocks, so one silent block between two
        notes does not pull the floor down; a real pause fills whole segments."""
        floor = self._closed_min
        if self._prev_time < self.warmup_s or floor == math.inf:
            floor = min(floor, self.floor_db - self.margin_db)  # no history yet
        return floor

    def threshold_db(self) -> float:
        return max(self.floor_db, self.noise_floor_db() + self.margin_db)

    def _track_floor(self, time: float, level_db: float) -> None:
        self._seg_power += 10.0 ** (level_db / 10.0)
        self._seg_blocks += 1
        if time - self._seg_start >= self.floor_segment_s:
            mean_db = 10.0 * math.log10(self._seg_power / self._seg_blocks + 1e-30)
            self._segments.append((time, mean_db))
            self._seg_start, self._seg_power, self._seg_blocks = time, 0.0, 0
            while self._segments and time - self._segments[0][0] > self.floor_window_s:
                self._segments.popleft()
            self._closed_min = min(m for _, m in self._segments)

    def update(self, time: float, level_db: float) -> None:
        block_start = self._prev_time
        self._prev_time = time
        threshold = self.threshold_db() - (self.hysteresis_db if self._voiced else 0.0)
        self._track_floor(time, level_db)
        voiced = level_db > threshold
        if voiced and not self._voiced:
            self._run_start = block_start
        if self._voiced and not voiced:
            # The level fell below the bar ``lag_s`` after the sound did.
            self._silence_start = time - self.lag_s
        self._voiced = voiced
        if voiced:
            if not self.voice and time - self._run_start >= self.word_min_s:
                self.voice = True
                self.words += 1
                self.word_start = self._run_start
        elif self.voice and time - self.lag_s - self._silence_start >= self.hangover_s:
            self.voice = False
            self.last_word_end = max(self._silence_start, self.word_start)
        if self.voice:
            self.gap_s = 0.0
        else:
            self.gap_s = max(0.0, time - self.last_word_end)
