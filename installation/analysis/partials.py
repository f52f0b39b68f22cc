"""The gap detector's fine-resolution cues: what is new in a short spectrum, and how it moves.

The band meter (:mod:`~installation.analysis.bands`) hears octaves; inside an octave a
voice's partials and a song's sit side by side. An ideal listener that splits the spectrum
into FFT bins (``bench/oracle_gaps.py``) hears every word edge through the music, even when
it judges the music from its own recent past alone. This meter gives the detector that view:
once every ~16 ms (``SPECTRUM_PERIOD_S``, in whole blocks: every 256-sample block at 8, 16
and 22.05 kHz), a ~32 ms Hann frame of the same samples the band meter reads (decimated the
same way), its power spectrum from 100 Hz to 4 kHz, and for each bin a causal background
(in dB: a running median, which steps ``TRACK_DB_S`` / 2 dB a second up while the bin
stands over it and as much down while it stands under: a held chord, a room). A bin is
*fresh* while it stands ``FRESH_DB`` or more over its background (a steady noise's bins
flutter over their median by that less than 2 % of the time). Only the models of engines
under 32 kHz (lo and nb) read these cues (``voicemodel.FAMILY_FEATURES``); the graph runs no such
meter above. Four level-free cues per spectrum, written into the tap row after the band
meter's (and held there until the next spectrum):

- ``fresh``: the share of the frame's power in fresh bins (a voice over a held chord: its
  partials fall between the chord's);
- ``rising``: of that fresh power, the share in bins that rose 3 dB or more since the last
  frame (attacks and glides);
- ``age``: how long, power-weighted, the fresh bins have been fresh (s, at most 1): a
  note's partials stay fresh in the same bins as it decays, a voice's glide on to others;
- ``fresh_db``: how far the fresh bins stand over their background (dB / 10, 0 to 5).

After ``analysis.gap_restart_s`` (1.5 s) of digital silence, the next sound starts the
meter afresh, as a stream's first block does (a song after a pause between cues).

The spectrum is a radix-2 FFT of the real frame (as a complex one of half its length) in
compiled code, in one call per block with the cues (a block between two spectra only
stores its samples); no allocation after start-up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from installation.analysis.taps import (DIGITAL_SILENCE_MS, RESTART_S, TAP_INDEX,
                                        gap_band_decimation, restart_blocks)

PARTIAL_TAPS = ("fresh", "rising", "age", "fresh_db")
FIRST_PARTIAL_TAP = TAP_INDEX[PARTIAL_TAPS[0]]
assert [TAP_INDEX[t] for t in PARTIAL_TAPS] == list(
    range(FIRST_PARTIAL_TAP, FIRST_PARTIAL_TAP + len(PARTIAL_TAPS)))
FRAME_S = 0.032
LOW_HZ = 100.0
HIGH_HZ = 4000.0
FRESH_DB = 10.0
RISE_DB = 3.0
TRACK_DB_S = 30.0
# A spectrum every this many seconds, in whole blocks (at least one): every 256-sample
# block at the lo and nb models' rates (the hi model reads no partial cues,
# voicemodel.FAMILY_FEATURES). Every ~32 ms lost the lo model's mixes on the language
# cross-validation (docs/benchmarks.md, R19).
SPECTRUM_PERIOD_S = 0.016
MAX_AGE_S = 1.0
SILENT_POWER = 1e-14  # a frame below this (summed over its bins) reads no cue

# The state array: a header, then the frame's ring of samples, the Hann window, the
# twiddles (cos, sin) of the frame's FFT size, the bit reversal of half of it, the half-size
# FFT's work arrays (real, imaginary), then per bin of LOW_HZ..HIGH_HZ its background, last
# power and age (s). Powers, not dB: the median steps by a factor, the thresholds compare
# powers (the same decisions as in dB, without a logarithm per bin).
# The header: the frame's length, the FFT's size, the bins k0..k1, the median's step (a
# factor per spectrum), the time between spectra (s), samples seen, the ring's head, blocks
# per spectrum, blocks since the last one, whether the backgrounds have started, the
# digital silence's threshold (a block mean square), the silent blocks that restart the
# meter (0: never; taps.restart_blocks), the silent blocks in a row so far, and the last
# spectrum's four cues (held until the next).
(H_FRAME, H_FFT, H_K0, H_K1, H_STEP, H_PERIOD_S, H_SEEN, H_HEAD, H_HOP, H_COUNT, H_STARTED,
 H_SILENT, H_RESTART, H_QUIET, H_CUES) = range(15)
N_HEADER = H_CUES + 4
FAST_BLK = TAP_INDEX["fast_blk"]  # the band meter's whole-band block mean, in the row
FRESH_RATIO = 10.0 ** (FRESH_DB / 10.0)
RISE_RATIO = 10.0 ** (RISE_DB / 10.0)
TINY = 1e-30  # every bin's power is at least this (a silent bin has a background too)


@njit(cache=True, nogil=True, inline="always")
def _layout(frame: int, fft: int, bins: int) -> tuple[int, ...]:
    """Where the ring, window, cos, sin, bit reversal, work arrays (real, imaginary),
    backgrounds, last powers and ages start, and where the state ends."""
    ring = N_HEADER
    window = ring + frame
    cos = window + frame
    sin = cos + fft // 2
    rev = sin + fft // 2
    re = rev + fft // 2
    im = re + fft // 2
    back = im + fft // 2
    last = back + bins
    age = last + bins
    return ring, window, cos, sin, rev, re, im, back, last, age, age + bins


@njit(cache=True, nogil=True, inline="always")
def _fft(xr, xi, wc, ws) -> None:
    """In place, radix 2, on ``xr`` + i ``xi`` (half the frame's FFT size, whose twiddles
    ``wc`` and ``ws`` hold: every other one is this size's), already in bit-reversed
    order. Each twiddle is loaded once per stage (the butterflies that share it run in
    its inner loop); the first stage's is 1."""
    n = xr.shape[0]
    for a in range(0, n, 2):
        t = xr[a + 1]
        xr[a + 1] = xr[a] - t
        xr[a] += t
        t = xi[a + 1]
        xi[a + 1] = xi[a] - t
        xi[a] += t
    size = 4
    while size <= n:
        half = size // 2
        stride = 2 * (n // size)
        for k in range(half):
            wr = wc[k * stride]
            wi = ws[k * stride]
            for a in range(k, n, size):
                b = a + half
                tr = wr * xr[b] - wi * xi[b]
                ti = wr * xi[b] + wi * xr[b]
                xr[b] = xr[a] - tr
                xi[b] = xi[a] - ti
                xr[a] += tr
                xi[a] += ti
        size *= 2


@njit(cache=True, nogil=True, inline="always")
def _restart(st) -> None:
    """The meter as at a stream's start: no sample seen, no cue, the backgrounds not
    started. Nothing else needs clearing: no spectrum is taken until a whole frame has been
    seen afresh, and that first spectrum seeds every bin's background, last power and age
    (``first`` in :func:`measure_partials`)."""
    st[H_SEEN] = 0.0
    st[H_HEAD] = 0.0
    st[H_COUNT] = 0.0
    st[H_STARTED] = 0.0
    for i in range(4):
        st[H_CUES + i] = 0.0


@njit(cache=True, nogil=True)
def measure_partials(samples, st, out) -> None:
    """Push the block's (decimated) ``samples`` into the frame, take its spectrum and write
    the four cues into the tap row ``out`` from ``FIRST_PARTIAL_TAP`` (0 until a whole
    frame has been seen, and in a silent frame).

    The frame is real: its even and odd samples go in as one complex sequence of half the
    length, and each bin is recovered from that transform's bins k and n/2 - k.

    After ``st[H_RESTART]`` blocks in a row whose whole-band mean (``out``'s ``fast_blk``,
    the band meter's) is digitally silent, the next block starts the meter afresh: the
    backgrounds would otherwise climb from the silence's -300 dB at 15 dB/s, and a song
    after a pause stay fresh, like a voice, for ~20 s. (The voice model's band floors
    keep the silence: restarting them cost the words heard after one; docs/benchmarks.md,
    "Music after digital silence".)"""
    frame = int(st[H_FRAME])
    fft = int(st[H_FFT])
    k0 = int(st[H_K0])
    k1 = int(st[H_K1])
    ring, window, cos, sin, rev, re, im, back, last, age, _ = _layout(frame, fft, k1 - k0)
    ms = out[FAST_BLK]
    if ms < st[H_SILENT] or ms != ms:
        st[H_QUIET] += 1.0
    else:
        if 0.0 < st[H_RESTART] <= st[H_QUIET]:
            _restart(st)
        st[H_QUIET] = 0.0
    head = int(st[H_HEAD])
    for i in range(samples.shape[0]):
        x = samples[i]
        st[ring + head] = x if -1e3 <= x <= 1e3 else 0.0
        head += 1
        if head == frame:
            head = 0
    st[H_HEAD] = head
    seen = st[H_SEEN] + samples.shape[0]
    st[H_SEEN] = seen
    if seen < frame:
        st[H_COUNT] = st[H_HOP] - 1.0  # the first whole frame takes a spectrum
        for i in range(4):
            out[FIRST_PARTIAL_TAP + i] = 0.0
        return
    count = st[H_COUNT] + 1.0
    if count < st[H_HOP]:  # between two spectra the last one's cues hold
        st[H_COUNT] = count
        for i in range(4):
            out[FIRST_PARTIAL_TAP + i] = st[H_CUES + i]
        return
    st[H_COUNT] = 0.0
    for i in range(4):
        out[FIRST_PARTIAL_TAP + i] = 0.0
        st[H_CUES + i] = 0.0
    half = fft // 2
    # views of the state's parts (indexing them costs less than offsets into the state)
    samples_ = st[ring:ring + frame]
    win = st[window:window + frame]
    bitrev = st[rev:rev + half]
    zre = st[re:re + half]
    zim = st[im:im + half]
    wc = st[cos:cos + half]
    ws = st[sin:sin + half]
    bins = k1 - k0
    bk = st[back:back + bins]
    ls = st[last:last + bins]
    ag = st[age:age + bins]
    # oldest sample first (the ring from its head on, then from its start), windowed,
    # even samples into the real parts and odd ones into the imaginary, each straight to
    # its bit-reversed place; zero-padded to the FFT's size
    j = head
    for i in range(fft):
        v = 0.0
        if i < frame:
            v = samples_[j] * win[i]
            j += 1
            if j == frame:
                j = 0
        m = int(bitrev[i >> 1])
        if i & 1:
            zim[m] = v
        else:
            zre[m] = v
    _fft(zre, zim, wc, ws)
    gain = st[H_STEP]
    period_s = st[H_PERIOD_S]
    first = st[H_STARTED] == 0.0  # the first spectrum: the backgrounds start from it
    st[H_STARTED] = 1.0
    total = fresh = rising = under = aged = 0.0
    for j in range(bins):
        k = k0 + j
        zr = zre[k]
        zi = zim[k]
        cr = zre[half - k]
        ci = -zim[half - k]
        er = 0.5 * (zr + cr)  # the even samples' transform ...
        ei = 0.5 * (zi + ci)
        odr = 0.5 * (zi - ci)  # ... and the odd ones', (z - conj) / 2i
        odi = -0.5 * (zr - cr)
        wr = wc[k]
        wi = ws[k]
        xr = er + wr * odr - wi * odi
        xi = ei + wr * odi + wi * odr
        p = xr * xr + xi * xi + TINY
        b = p if first else bk[j]
        prev = p if first else ls[j]
        total += p
        if p >= FRESH_RATIO * b:
            fresh += p
            under += b
            if p >= RISE_RATIO * prev:
                rising += p
            a = ag[j] + period_s
            ag[j] = a
            aged += p * (a if a < MAX_AGE_S else MAX_AGE_S)
        else:
            ag[j] = 0.0
        bk[j] = b * gain if p > b else b / gain
        ls[j] = p
    if total < SILENT_POWER or fresh <= 0.0:
        return
    db = math.log10(fresh / under)  # dB / 10 over the background's power
    st[H_CUES] = fresh / total
    st[H_CUES + 1] = rising / fresh
    st[H_CUES + 2] = aged / fresh
    st[H_CUES + 3] = 5.0 if db > 5.0 else db
    for i in range(4):
        out[FIRST_PARTIAL_TAP + i] = st[H_CUES + i]


class PartialMeter:
    """The fine-resolution cues of one stream, block by block: :meth:`measure` reads the
    block's samples at the bands' rate (``sample_rate`` / the bands' decimation); after
    ``restart_s`` of digital silence (0: never) the next sound starts it afresh."""

    def __init__(self, sample_rate: float, block_size: int,
                 restart_s: float = RESTART_S) -> None:
        factor = gap_band_decimation(sample_rate)
        rate = sample_rate / factor
        frame = int(round(FRAME_S * rate))
        fft = 1 << (frame - 1).bit_length()
        k0 = int(math.ceil(LOW_HZ * fft / rate))
        k1 = min(int(HIGH_HZ * fft / rate) + 1, fft // 2)
        hop = max(1, round(SPECTRUM_PERIOD_S * sample_rate / block_size))
        period_s = hop * block_size / sample_rate
        ring, window, cos, sin, rev, _, _, _, _, _, end = _layout(frame, fft, k1 - k0)
        self.state = np.zeros(end)
        step = 10.0 ** (0.5 * TRACK_DB_S * period_s / 10.0)  # the median's step, a factor
        self.state[:H_CUES] = (frame, fft, k0, k1, step, period_s, 0, 0, hop, 0, 0,
                               DIGITAL_SILENCE_MS,
                               restart_blocks(block_size / sample_rate, restart_s), 0)
        self.hop = hop
        self.state[window:window + frame] = np.hanning(frame + 2)[1:-1]
        angle = -2.0 * np.pi * np.arange(fft // 2) / fft
        self.state[cos:cos + fft // 2] = np.cos(angle)
        self.state[sin:sin + fft // 2] = np.sin(angle)
        bits = fft.bit_length() - 2  # of the half-size FFT
        self.state[rev:rev + fft // 2] = [int(format(i, f"0{bits}b")[::-1], 2)
                                          for i in range(fft // 2)]
        self.rate = rate
        self.fft = fft
        # Load the compiled call now (numba's disk cache), not on a stream's first block.
        measure_partials(np.zeros(1), self.state.copy(), np.zeros(len(TAP_INDEX)))

    def measure(self, samples: np.ndarray, row: np.ndarray) -> None:
        """Advance over one block's ``samples`` (float64, at :attr:`rate`); fill ``row``'s
        cues. ``row`` already holds the block's ``fast_blk`` (the band meter's)."""
        measure_partials(samples, self.state, row)
