"""The live gap detector: words, the pauses between them, and how long a pause will last.

Causal, block by block. Each block's voice *likelihood* comes from
:class:`~installation.analysis.voicemodel.VoiceModel` (level-free cues and a small network,
compiled); this module turns it into words and gaps. A hysteresis state machine
(:meth:`GapDetector.advance`) smooths the likelihood (``smoothing_s``): a word needs
``word_min_s`` of voice (a pluck in a pause does not split it), a gap start is sent after
``gap_confirm_s`` of silence. Both are back-dated to where they happened: a word's start to
the foot of the likelihood's rise, its end to where the likelihood fell, and under music
further by the part of the word's rise and tail the music masked (estimated from how far
the word stood over its floor; see ``mask_db``). ``gap_depth`` is ``1 -`` the smoothed
likelihood: it moves on the first quiet block, before any gap is confirmed. Offline,
:meth:`GapDetector.likelihoods` runs the model over a whole file in one call (the same
kernel as block by block, so the frames are the same).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from installation.analysis.voicemodel import VoiceModel, alpha, whole_snr_db

# The expected pause before a speaker has paused, and how many pauses that guess weighs.
PRIOR_GAP_S = 0.4
PRIOR_WEIGHT = 2.0


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
    # A word's start is back-dated to the foot of the likelihood's rise: where the raw
    # likelihood last climbed through foot_threshold, at most foot_max_s before the
    # smoothed one crossed on_threshold (under music a voice's first consonant is heard
    # late: the network needs a few blocks of evidence).
    foot_threshold: float = 0.1
    foot_max_s: float = 0.15
    # Likewise a word's end goes back to where the raw likelihood fell through
    # fall_threshold (the smoothing and the hysteresis add a few blocks).
    fall_threshold: float = 0.5
    # Under music a word's first consonant is masked: labels (and ears in a quiet room)
    # start a word where it rises out of silence, 40 dB below its peak. A word that stands
    # only S dB over the floor had (mask_db - S) dB of its rise hidden; at rise_db_s that
    # took (mask_db - S) / rise_db_s seconds, and its start is back-dated by that much.
    mask_db: float = 45.0
    rise_db_s: float = 600.0  # 0: no back-dating for masking
    # Likewise its tail: the end moves later by (tail_mask_db - S) / decay_db_s.
    tail_mask_db: float = 35.0
    decay_db_s: float = 1000.0

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

    weights: tuple | None = None  # the voice model's weights; None: the shipped model file
    voice: VoiceModel | None = None
    _p: float = 0.0
    _voiced: bool = False
    _run_start: float = math.nan
    _onset: float = math.nan
    _foot: float = math.nan
    _fall: float = math.nan
    _run_snr: float = 0.0
    _word_snr: float = 0.0
    _quiet_start: float = 0.0
    _word_times: deque = field(default_factory=deque)
    _recent_gaps: deque = field(default_factory=deque)
    _smooth_a: float = 0.0

    def __post_init__(self) -> None:
        self.voice = VoiceModel(self.block_s, self.sample_rate,
                                floor_window_s=self.floor_window_s,
                                abs_floor_db=self.abs_floor_db,
                                noise_floor_db=self.noise_floor_db,
                                weights=self.weights)
        self._smooth_a = alpha(self.block_s, self.smoothing_s)

    def update(self, time: float, row: np.ndarray, voicing: float, onset_db: float) -> None:
        """One block ending at ``time`` (s): ``row`` is its tap row (float64 array in
        :data:`~installation.analysis.taps.TAPS` order)."""
        p = self.voice.step(row, time - self.lag_s, voicing, onset_db)
        self.advance(time, p, whole_snr_db(self.voice.x))

    def advance(self, time: float, p: float, snr_db: float = 50.0) -> None:
        """The decision half of :meth:`update`, from this block's voice likelihood ``p``
        and whole-band level over its floor ``snr_db`` (as :meth:`likelihoods` computes
        them for a whole file)."""
        if snr_db > self._run_snr:
            self._run_snr = snr_db
        if snr_db > self._word_snr:
            self._word_snr = snr_db
        if p < self.foot_threshold:
            self._foot = math.nan
        elif self._foot != self._foot:  # nan: the raw likelihood climbs through the foot
            self._foot = time - self.lag_s - self.block_s
        if p >= self.fall_threshold:
            self._fall = math.nan
        elif self._fall != self._fall:
            self._fall = time - self.lag_s - self.block_s
        self.likelihood = p
        self._p += self._smooth_a * (p - self._p)
        self.gap_depth = 1.0 - self._p
        self._step(time, time - self.lag_s, self._p)

    def likelihoods(self, times: np.ndarray, rows: np.ndarray, voicing: np.ndarray,
                    onset_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Voice likelihood and whole-band level over its floor (dB) of many blocks at
        once (offline analysis): ``times`` are the block ends (s, ``(n,)``), ``rows`` their
        tap rows ``(n, len(TAPS))``. Advances the voice model exactly as :meth:`update`
        would; feed each block's pair to :meth:`advance`."""
        times = np.asarray(times, dtype=np.float64)
        p, x = self.voice.run(rows, times - self.lag_s, voicing, onset_db, features=True)
        return p, whole_snr_db(x)

    def _step(self, time: float, t_sig: float, p: float) -> None:
        self.word_started = self.word_ended = self.gap_started = self.gap_ended = False
        voiced = p >= (self.off_threshold if self._voiced else self.on_threshold)
        if voiced and not self._voiced and not (
                # A dip shorter than gap_confirm_s does not break a word still being
                # confirmed, just as it does not end one.
                not self.speaking and self._run_start > self.word_end
                and t_sig - self.block_s - self._quiet_start < self.gap_confirm_s):
            self._run_start = t_sig - self.block_s
            self._run_snr = 0.0
            foot = self._foot
            self._onset = foot if self._run_start - self.foot_max_s <= foot else self._run_start
        if self._voiced and not voiced:
            self._quiet_start = t_sig - self.block_s
            if self._quiet_start - self.foot_max_s <= self._fall < self._quiet_start:
                self._quiet_start = self._fall
        self._voiced = voiced
        if voiced:
            if not self.speaking and t_sig - self._run_start >= self.word_min_s:
                start = self._onset
                if self.rise_db_s > 0.0 and self._run_snr < self.mask_db:
                    start -= (self.mask_db - self._run_snr) / self.rise_db_s
                if self.words:
                    start = max(start, self.word_end)
                if self.in_gap:
                    self._end_gap(start)
                self.speaking = True
                self._word_snr = self._run_snr
                self.word_started = True
                self.word_start = start
                self.words += 1
                self._word_times.append(start)
        elif self.speaking and t_sig - self._quiet_start >= self.gap_confirm_s:
            self.speaking = False
            self.word_ended = True
            end = self._quiet_start
            if self.decay_db_s > 0.0 and self._word_snr < self.tail_mask_db:
                end = min(end + (self.tail_mask_db - self._word_snr) / self.decay_db_s,
                          t_sig - self.block_s)
            self.word_end = max(end, self.word_start)
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
        """The speaker's typical pause, in the log domain: the mean of the last 8 pauses'
        logs, shrunk toward a prior pause of ``PRIOR_GAP_S`` that counts as
        ``PRIOR_WEIGHT`` pauses (few pauses say little; many say more)."""
        logs = [math.log(g) for g in self._recent_gaps]
        total = PRIOR_WEIGHT * math.log(PRIOR_GAP_S) + sum(logs)
        return math.exp(total / (PRIOR_WEIGHT + len(logs)))


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
