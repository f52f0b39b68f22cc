"""The live gap detector: words, the pauses between them, and how long a pause will last.

Causal, block by block. Each block's voice *likelihood* comes from
:class:`~installation.analysis.voicemodel.VoiceModel` (level-free cues and a small network,
compiled); this module turns it into words and gaps. A hysteresis state machine
(``gapkernel.decide``) smooths the likelihood (``smoothing_s``): a word needs
``word_min_s`` of voice (a pluck in a pause does not split it), a gap start is sent after
``gap_confirm_s`` of silence. Both are back-dated to where they happened: a word's start to
the foot of the likelihood's rise, its end to where the likelihood fell; under music its
start further by the part of the word's rise the music masked (estimated from how far the
word stood over its floor; see ``mask_db``); a word ends where its level fell
``tail_mask_db`` under its peak, as a quiet room hears it, if it did before the pause was
confirmed.
``gap_depth`` is ``1 -`` the smoothed likelihood: it moves on the first quiet block,
before any gap is confirmed. Live, each
block is one compiled call (:meth:`GapDetector.update`, likelihood and decisions);
offline, :meth:`GapDetector.run` runs the same code over a whole file in one call, so the
frames are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from installation.analysis import gapkernel as k
from installation.analysis.taps import TAPS
from installation.analysis.voicemodel import VoiceModel, alpha

# A speaker's pauses are taken as log-normal (see gapkernel.pause_law). Before they have
# paused: a median pause of PRIOR_GAP_S, and a spread of ln(pause) of PRIOR_SPREAD (the
# developer set's detected pauses spread 0.73); each guess weighs PRIOR_WEIGHT pauses.
PRIOR_GAP_S = 0.4
PRIOR_SPREAD = 0.7
PRIOR_WEIGHT = 2.0


def _flag(index: int, doc: str) -> property:
    return property(lambda self: self._s[index] > 0.0, doc=doc)


def _value(index: int, doc: str) -> property:
    return property(lambda self: float(self._s[index]), doc=doc)


@dataclass(eq=False)
class GapDetector:
    """Feed :meth:`update` once per block; read the state and this block's events.

    ``block_s`` is the block duration and ``lag_s`` how far the taps' window centre lies
    behind the end of the block (s); boundaries are back-dated by it. Times are seconds
    from the stream start. Events (``word_started``, ``word_ended``, ``gap_started``,
    ``gap_ended``) are True only on the block they happen in. The settings are read when
    the detector is made. The state lives in one array (``gapkernel``'s layout): the
    properties below read it.
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
    # Likewise its tail could move later by (tail_mask_db - S) / decay_db_s, where a word
    # stood under tail_mask_db over its floor; 0 (the default) moves none: two
    # cross-validations, over the developer set's voices and over the other voices'
    # languages, both lost gaps to it (docs/benchmarks.md, "A word's masked tail").
    tail_mask_db: float = 35.0
    decay_db_s: float = 0.0
    # Otherwise its tail is followed: the word ends where its level last stood within
    # tail_mask_db of its peak and tail_floor_db over the floor, before it fell under that
    # for tail_hold_s.
    tail_floor_db: float = 10.0
    tail_hold_s: float = 0.01
    # The floor gate: no voice while no band's mean over the last 20 ms or more (every
    # sample of the whole blocks that cover it: gapkernel.GATE_TAPS, voicemodel.gate_blocks)
    # stands gate_db over the floor of the same means (a steady room: silence, noise, a
    # hum) for gate_hold_s; the quiet between two words of a phrase is left to the network.
    gate_db: float = 3.0
    gate_hold_s: float = 0.05
    weights: tuple | None = None  # the voice model's weights; None: the shipped model file
    voice: VoiceModel | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.voice = VoiceModel(self.block_s, self.sample_rate,
                                floor_window_s=self.floor_window_s,
                                abs_floor_db=self.abs_floor_db,
                                noise_floor_db=self.noise_floor_db,
                                weights=self.weights)
        prm = np.zeros(k.N_PARAMS)
        for index, value in (
                (k.P_BLOCK, self.block_s), (k.P_LAG, self.lag_s),
                (k.P_ON, self.on_threshold), (k.P_OFF, self.off_threshold),
                (k.P_SMOOTH, alpha(self.block_s, self.smoothing_s)),
                (k.P_WORD_MIN, self.word_min_s), (k.P_CONFIRM, self.gap_confirm_s),
                (k.P_GAP_MIN, self.gap_min_s), (k.P_RATE_WINDOW, self.rate_window_s),
                (k.P_FOOT, self.foot_threshold), (k.P_FOOT_MAX, self.foot_max_s),
                (k.P_FALL, self.fall_threshold), (k.P_MASK_DB, self.mask_db),
                (k.P_RISE_DB_S, self.rise_db_s), (k.P_TAIL_MASK_DB, self.tail_mask_db),
                (k.P_DECAY_DB_S, self.decay_db_s), (k.P_PRIOR_GAP, PRIOR_GAP_S),
                (k.P_PRIOR_WEIGHT, PRIOR_WEIGHT), (k.P_PRIOR_SPREAD, PRIOR_SPREAD),
                (k.P_GATE_DB, self.gate_db),
                (k.P_GATE_HOLD, self.gate_hold_s), (k.P_TAIL_HOLD, self.tail_hold_s),
                (k.P_TAIL_FLOOR_DB, self.tail_floor_db),
                (k.P_GATE_SPAN, self.voice.consts[k.C_GATE_BLOCKS] * self.block_s)):
            prm[index] = value
        # Words start at least word_min_s apart: room for every start in the rate window.
        decisions = k.decision_state(int(self.rate_window_s / max(self.word_min_s, 0.05)) + 4)
        # One params and one state array for the whole detector (one compiled call per
        # block with few arguments); the voice model's arrays become views into them.
        v = self.voice
        self._params, self._state, (v.consts, self._prm, v.bx, v.bh, v.wo, v.wx, v.wh), (
            v.state, v.ring, v.x, self._s) = k.pack_detector(
            v.consts, prm, v.bx, v.bh, v.wo, v.wx, v.wh, v.state, v.ring, v.x, decisions)
        self._out = self._s[:k.N_OUT]
        k.learn_pauses(self._prm, self._s)  # the prior's: 0.4 s before any pause
        # Compile (or load from numba's disk cache) the live path now, not on a live
        # stream's first block (advance(), for studying the decisions, loads on first use).
        k.detect_one(self._params, self._state.copy(), np.zeros(len(TAPS)), 0.0, 0.0, 0.0)

    # What a frame carries (see FeatureFrame), then the rest of the state.
    speaking = _flag(k.D_SPEAKING, "A word is going on (confirmed, not yet ended).")
    gap_elapsed = _value(k.D_GAP_ELAPSED, "s since the last word ended; 0 while speaking.")
    word_started = _flag(k.D_WORD_STARTED, "A word was confirmed on this block.")
    word_ended = _flag(k.D_WORD_ENDED, "A word's end was confirmed on this block.")
    gap_started = _flag(k.D_GAP_STARTED, "A gap between two words was confirmed.")
    gap_ended = _flag(k.D_GAP_ENDED, "The next word ended the gap on this block.")
    gap_duration = _value(k.D_GAP_DURATION, "Duration of the last finished gap (s).")
    gap_depth = _value(k.D_GAP_DEPTH, "1 - the smoothed voice likelihood, in [0, 1].")
    expected_gap = _value(k.D_EXPECTED_GAP, "Predicted length of the current pause, given "
                          "how long it has lasted; between pauses, of the next one (s).")
    rate_wpm = _value(k.D_RATE_WPM, "Words started in the last rate_window_s, per minute.")
    word_duration = _value(k.D_WORD_DURATION, "Duration of the last finished word (s).")
    likelihood = _value(k.D_LIKELIHOOD, "This block's raw voice likelihood.")
    word_start = _value(k.D_WORD_START, "Back-dated start of the current / last word (s).")
    word_end = _value(k.D_WORD_END, "Back-dated end of the last word (s).")
    gap_start = _value(k.D_GAP_START, "Back-dated start of the current / last gap (s).")
    gap_emitted = _value(k.D_GAP_EMITTED, "When that gap start was confirmed (s).")
    in_gap = _flag(k.D_IN_GAP, "Between two words (a gap was confirmed, not yet ended).")

    @property
    def words(self) -> int:
        """Words confirmed so far."""
        return int(self._s[k.D_WORDS])

    @property
    def recent_gaps(self) -> list[float]:
        """The last pauses (s, oldest first) the expected gap is computed from."""
        s = self._s
        head, n = int(s[k.D_RG_HEAD]), int(s[k.D_RG_COUNT])
        return [float(s[k.D_RECENT + (head + i) % k.RECENT_GAPS]) for i in range(n)]

    def frame_values(self) -> list[float]:
        """The frame's gap fields, ``voice`` to ``word_duration`` (FeatureFrame order)."""
        return self._out.tolist()

    def update(self, time: float, row: np.ndarray, voicing: float, onset_db: float) -> None:
        """One block ending at ``time`` (s): ``row`` is its tap row (float64 array in
        :data:`~installation.analysis.taps.TAPS` order). One compiled call."""
        k.detect_one(self._params, self._state, row, time, voicing, onset_db)

    def advance(self, time: float, p: float, snr_db: float = 50.0,
                top_db: float | None = None, level_db: float = math.nan) -> None:
        """The decision half of :meth:`update`, from this block's voice likelihood ``p``,
        whole-band level over its floor ``snr_db`` and highest band level over its floor
        ``top_db`` (default: ``snr_db``) and whole-band level ``level_db`` (dBFS; default:
        unknown) (to study the decisions alone)."""
        k.decide(self._prm, self._s, time, p, snr_db, snr_db if top_db is None else top_db,
                 level_db)

    def run(self, times: np.ndarray, rows: np.ndarray, voicing: np.ndarray,
            onset_db: np.ndarray) -> np.ndarray:
        """Many blocks at once (offline analysis), exactly as :meth:`update` block by
        block: ``times`` are the block ends (s, ``(n,)``), ``rows`` their tap rows
        ``(n, len(TAPS))``. Returns each block's :meth:`frame_values` ``(n, N_OUT)``."""
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        out = np.zeros((len(rows), k.N_OUT))
        k.detect_many(self._params, self._state, rows,
                      np.ascontiguousarray(times, dtype=np.float64),
                      np.ascontiguousarray(voicing, dtype=np.float64),
                      np.ascontiguousarray(onset_db, dtype=np.float64), out)
        return out

    def predict_gap(self) -> float:
        """The expected length of a pause before it begins: the log-mean of the last 8
        pauses, shrunk toward ``PRIOR_GAP_S``, which counts as ``PRIOR_WEIGHT`` pauses
        (few pauses say little; many say more). What ``expected_gap`` reads between
        pauses: the median of :attr:`pause_law`."""
        return math.exp(self.pause_law[0])

    @property
    def pause_law(self) -> tuple[float, float]:
        """(mu, sigma): the log-normal law of this speaker's pauses, as the last pause
        left it (``ln(pause) ~ N(mu, sigma^2)``; the spread shrunk toward
        ``PRIOR_SPREAD`` as the mean is toward ``PRIOR_GAP_S``)."""
        return float(self._s[k.D_PAUSE_MU]), float(self._s[k.D_PAUSE_SIGMA])

    def expected_pause(self, elapsed: float) -> float:
        """How long a pause that has lasted ``elapsed`` s will last in all, under
        :attr:`pause_law`: the median of its length given that it outlasted ``elapsed``.
        What ``expected_gap`` reads on each block of a gap (``elapsed`` = ``gap_elapsed``)."""
        mu, sigma = self.pause_law
        return k.expected_pause(mu, sigma, elapsed)


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
