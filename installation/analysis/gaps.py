"""The live gap detector: words, the pauses between them, and how long a pause will last.

Causal, block by block. Each block's voice *likelihood* comes from
:class:`~installation.analysis.voicemodel.VoiceModel` (level-free cues and a small network,
compiled); this module turns it into words and gaps. A hysteresis state machine
(:meth:`GapDetector.advance`) smooths the likelihood (``smoothing_s``): a word needs
``word_min_s`` of voice (a pluck in a pause does not split it), a gap start is sent after
``gap_confirm_s`` of silence and back-dated to where the silence began. ``gap_depth`` is
``1 -`` the smoothed likelihood: it moves on the first quiet block, before any gap is
confirmed. Offline, :meth:`GapDetector.likelihoods` runs the model over a whole file in one
call (the same kernel as block by block, so the frames are the same).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from installation.analysis.voicemodel import VoiceModel, alpha


@dataclass(slots=True)
class GapDetector:
    """Feed :meth:`update` once per block; read the state and this block's events.

    ``block_s`` is the block duration and ``lag_s`` how far the taps' window centre lies
    behind the end of the block (s); boundaries are back-dated by it. Times are seconds
    from the stream start. Events (``word_started``, ``word_ended``, ``gap_started``,
    ``gap_ended``) are True only on the block they happen in.
    """

    block_s: float
    lag_s: float = 0.0
    sample_rate: float = 48000.0  # the engine's rate: picks the model (see model_path)
    floor_window_s: float = 3.0
    abs_floor_db: float = -90.0
    on_threshold: float = 0.5
    off_threshold: float = 0.35
    smoothing_s: float = 0.015  # time constant of the likelihood's smoothing (s)
    word_min_s: float = 0.18
    gap_confirm_s: float = 0.05
    gap_min_s: float = 0.1
    rate_window_s: float = 20.0
    noise_floor_db: float = 0.0  # < 0: fixed whole-band floor (dBFS RMS) instead of tracked

    # state, read after update()
    speaking: bool = False
    likelihood: float = 0.0
    gap_depth: float = 1.0
    gap_elapsed: float = 0.0
    word_started: bool = False
    word_ended: bool = False
    gap_started: bool = False
    gap_ended: bool = False
    word_start: float = math.nan      # back-dated start of the current / last word (s)
    word_end: float = 0.0             # back-dated end of the last word (s)
    word_duration: float = 0.0        # duration of the last finished word (s)
    gap_start: float = math.nan       # back-dated start of the current / last gap (s)
    gap_emitted: float = math.nan     # when that gap start was confirmed (s)
    gap_duration: float = 0.0         # duration of the last finished gap (s)
    in_gap: bool = False
    expected_gap: float = 0.0         # predicted length of the current pause (s)
    rate_wpm: float = 0.0
    words: int = 0

    voice: VoiceModel | None = None
    _p: float = 0.0
    _voiced: bool = False
    _run_start: float = math.nan
    _quiet_start: float = 0.0
    _word_times: deque = field(default_factory=deque)
    _recent_gaps: deque = field(default_factory=deque)
    _smooth_a: float = 0.0

    def __post_init__(self) -> None:
        self.voice = VoiceModel(self.block_s, self.sample_rate,
                                floor_window_s=self.floor_window_s,
                                abs_floor_db=self.abs_floor_db,
                                noise_floor_db=self.noise_floor_db)
        self._smooth_a = alpha(self.block_s, self.smoothing_s)

    def update(self, time: float, row: np.ndarray, voicing: float, onset_db: float) -> None:
        """One block ending at ``time`` (s): ``row`` is its tap row (float64 array in
        :data:`~installation.analysis.taps.TAPS` order)."""
        self.advance(time, self.voice.step(row, time - self.lag_s, voicing, onset_db))

    def advance(self, time: float, p: float) -> None:
        """The decision half of :meth:`update`, from this block's voice likelihood ``p``
        (as :meth:`likelihoods` computes it for a whole file)."""
        self.likelihood = p
        self._p += self._smooth_a * (p - self._p)
        self.gap_depth = 1.0 - self._p
        self._step(time, time - self.lag_s, self._p)

    def likelihoods(self, times: np.ndarray, rows: np.ndarray, voicing: np.ndarray,
                    onset_db: np.ndarray) -> np.ndarray:
        """Voice likelihood of many blocks at once (offline analysis): ``times`` are the
        block ends (s, ``(n,)``), ``rows`` their tap rows ``(n, len(TAPS))``. Advances the
        voice model exactly as :meth:`update` would; feed each result to :meth:`advance`."""
        times = np.asarray(times, dtype=np.float64)
        return self.voice.run(rows, times - self.lag_s, voicing, onset_db)

    def _step(self, time: float, t_sig: float, p: float) -> None:
        self.word_started = self.word_ended = self.gap_started = self.gap_ended = False
        voiced = p >= (self.off_threshold if self._voiced else self.on_threshold)
        if voiced and not self._voiced:
            self._run_start = t_sig - self.block_s
        if self._voiced and not voiced:
            self._quiet_start = t_sig - self.block_s
        self._voiced = voiced
        if voiced:
            if not self.speaking and t_sig - self._run_start >= self.word_min_s:
                start = self._run_start
                if self.in_gap:
                    self._end_gap(start)
                self.speaking = True
                self.word_started = True
                self.word_start = start
                self.words += 1
                self._word_times.append(start)
        elif self.speaking and t_sig - self._quiet_start >= self.gap_confirm_s:
            self.speaking = False
            self.word_ended = True
            self.word_end = max(self._quiet_start, self.word_start)
            self.word_duration = self.word_end - self.word_start
            if self.words > 0:
                self.in_gap = True
                self.gap_started = True
                self.gap_start = self.word_end
                self.gap_emitted = time
                self.expected_gap = self._predict_gap()
        self.gap_elapsed = 0.0 if self.speaking else max(0.0, t_sig - self.word_end)
        while self._word_times and t_sig - self._word_times[0] > self.rate_window_s:
            self._word_times.popleft()
        span = min(self.rate_window_s, max(t_sig, 1.0))
        self.rate_wpm = 60.0 * len(self._word_times) / span

    def _end_gap(self, end: float) -> None:
        self.in_gap = False
        self.gap_ended = True
        self.gap_duration = end - self.gap_start
        if self.gap_duration >= self.gap_min_s:
            self._recent_gaps.append(self.gap_duration)
            if len(self._recent_gaps) > 8:
                self._recent_gaps.popleft()

    def _predict_gap(self) -> float:
        """Median of the speaker's recent pauses (log domain); 0.4 s before any."""
        if not self._recent_gaps:
            return 0.4
        logs = sorted(math.log(g) for g in self._recent_gaps)
        n = len(logs)
        mid = logs[n // 2] if n % 2 else 0.5 * (logs[n // 2 - 1] + logs[n // 2])
        return math.exp(mid)


def gaps_from_frames(frames, min_gap_s: float = 0.1) -> list[dict[str, float]]:
    """The gaps between two words in a frame sequence, as ``installation gaps`` prints them:
    ``[{"start", "end", "emitted_at"}]`` in s from the stream start, each closed by a
    ``gap_end`` and lasting at least ``min_gap_s``. Pure: works on any frame sequence."""
    out = []
    for f in frames:
        if f.gap_end >= 0.5 and f.gap_duration >= min_gap_s - 1e-9:
            out.append({"start": round(f.gap_start_time, 4),
                        "end": round(f.gap_start_time + f.gap_duration, 4),
                        "emitted_at": round(f.gap_emit_time, 4)})
    return out
