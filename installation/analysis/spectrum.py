"""The Shadertoy audio texture, measured: WebAudio ``AnalyserNode`` semantics in numpy.

Shadertoy fills its sound input (512 x 2, row 0 spectrum, row 1 waveform) from an
``AnalyserNode`` with ``fftSize = 2048``, ``smoothingTimeConstant = 0.8``,
``minDecibels = -100`` and ``maxDecibels = -30``, read once per displayed frame with
``getByteFrequencyData`` and ``getByteTimeDomainData``. This module computes the same
thing from the latest 2048 mono samples, following the Web Audio API specification,
section *AnalyserNode: FFT Windowing and smoothing over time*
(https://www.w3.org/TR/webaudio/#fft-windowing-and-smoothing-over-time) and
``getByteFrequencyData`` / ``getByteTimeDomainData``
(https://www.w3.org/TR/webaudio/#dom-analysernode-getbytefrequencydata):

1. Blackman window, alpha = 0.16: ``w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)``
   with ``a0 = (1 - alpha) / 2``, ``a1 = 1/2``, ``a2 = alpha / 2``, ``N = 2048``;
2. ``X[k] = 1/N * sum_n w[n] x[n] e^(-2 pi i k n / N)``, ``k < N / 2`` (1024 bins, each
   ``sr / 2048`` Hz wide; bin ``k`` is centred on ``k * sr / 2048`` Hz);
3. smoothing over time: ``Xs[k] = 0.8 * Xs_prev[k] + 0.2 * |X[k]|`` (state kept in
   :class:`AudioTexture`; a NaN or infinite value resets it to 0);
4. ``Y[k] = 20 log10 Xs[k]`` dB, mapped linearly from -100 dB (0) to -30 dB (1), clamped;
   the byte form is ``floor(255 / 70 * (Y[k] + 100))``;
5. waveform: ``0.5 + 0.5 x[n]`` clamped to 0..1; the byte form is ``floor(128 (1 + x))``.

Only the first 512 bins are used, as on Shadertoy: row 0 spans 0 .. ``sr / 4`` Hz
(12 kHz at 48 kHz; no resampling to 44.1 kHz). Row 1 holds the **newest** 512 samples of
the window (a 512-element ``getByteTimeDomainData`` would hold the oldest 512 of the
2048; the newest are ~32 ms fresher at 48 kHz and look the same).

Pure numpy, no pyo: the engine's publisher thread (live) and the preview (offline, from a
decoded file) call it; the renderer only uploads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FFT_SIZE = 2048                 # AnalyserNode.fftSize on Shadertoy
N = 512                         # texels per row
SMOOTHING = 0.8                 # AnalyserNode.smoothingTimeConstant
DB_MIN, DB_MAX = -100.0, -30.0  # AnalyserNode.minDecibels / maxDecibels
ANALYSIS_HZ = 60.0              # analyses per second (Shadertoy: once per displayed frame)
SETTLE = 24                     # analyses replayed after a jump in time (0.8^24 < 0.005)


def blackman(n: int = FFT_SIZE) -> np.ndarray:
    """The Web Audio spec's Blackman window (alpha 0.16), ``n`` points, float64."""
    alpha = 0.16
    a0, a1, a2 = (1 - alpha) / 2, 0.5, alpha / 2
    phase = 2 * np.pi * np.arange(n) / n
    return a0 - a1 * np.cos(phase) + a2 * np.cos(2 * phase)


def magnitudes(window: np.ndarray, blackman_window: np.ndarray | None = None) -> np.ndarray:
    """``|X[k]|`` for ``k < N`` (linear, full-scale sine ~0.21) of ``FFT_SIZE`` samples."""
    w = blackman() if blackman_window is None else blackman_window
    x = np.asarray(window, dtype=np.float64)
    return np.abs(np.fft.rfft(x * w)[:N]) / FFT_SIZE


def db_to_unit(magnitude: np.ndarray) -> np.ndarray:
    """Linear magnitude -> 0..1 (-100 dB -> 0, -30 dB -> 1, clamped); 0 -> 0."""
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(magnitude)
    return np.clip((db - DB_MIN) / (DB_MAX - DB_MIN), 0.0, 1.0)


def waveform_row(window: np.ndarray) -> np.ndarray:
    """The newest ``N`` samples (-1..1) mapped to 0..1 (0.5 is silence), float32."""
    x = np.asarray(window, dtype=np.float64)[-N:]
    return np.clip(0.5 + 0.5 * x, 0.0, 1.0).astype(np.float32)


def to_bytes(rows: np.ndarray) -> tuple[bytes, bytes]:
    """(spectrum, waveform) rows (0..1) as 512 uint8 each, as ``getByte*Data`` gives them:
    ``floor(255 v)`` for the spectrum, ``floor(256 v)`` clamped to 255 for the waveform
    (``floor(128 (1 + x))``)."""
    rows = np.asarray(rows, dtype=np.float64)
    spec = np.clip(np.floor(255.0 * rows[0] + 1e-9), 0, 255).astype(np.uint8)
    wave = np.clip(np.floor(256.0 * rows[1] + 1e-9), 0, 255).astype(np.uint8)
    return spec.tobytes(), wave.tobytes()


def from_bytes(spectrum: bytes, waveform: bytes) -> np.ndarray:
    """Bytes (512 each) -> (2, 512) float32 rows, ``byte / 255`` as Shadertoy's texture
    upload does. Raises ``ValueError`` on a wrong length."""
    if len(spectrum) != N or len(waveform) != N:
        raise ValueError(f"audio texture rows must be {N} bytes each, got "
                         f"{len(spectrum)} and {len(waveform)}")
    rows = np.frombuffer(bytes(spectrum) + bytes(waveform), dtype=np.uint8).reshape(2, N)
    return rows.astype(np.float32) / 255.0


class AudioTexture:
    """One ``AnalyserNode``: :meth:`analyse` the latest ``FFT_SIZE`` samples, get the rows.

    Holds the smoothing state (``Xs``, linear magnitudes); call it at a steady rate
    (:data:`ANALYSIS_HZ`, once per displayed frame on Shadertoy), since the 0.8 smoothing is
    per analysis, not per second.
    """

    def __init__(self) -> None:
        self._window = blackman()
        self.smoothed = np.zeros(N, dtype=np.float64)
        self.rows = np.zeros((2, N), dtype=np.float32)
        self.rows[1] = 0.5

    def analyse(self, window: np.ndarray) -> np.ndarray:
        """Rows (2, 512) float32 in 0..1 for the newest ``FFT_SIZE`` samples (-1..1,
        oldest first; a shorter window is zero-padded in front). Updates the smoothing."""
        x = np.asarray(window, dtype=np.float64)[-FFT_SIZE:]
        if len(x) < FFT_SIZE:
            x = np.concatenate([np.zeros(FFT_SIZE - len(x)), x])
        mag = magnitudes(x, self._window)
        s = SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * mag
        s[~np.isfinite(s)] = 0.0
        self.smoothed = s
        self.rows[0] = db_to_unit(s)
        self.rows[1] = waveform_row(x)
        return self.rows


def window_at(samples: np.ndarray, sr: int, t: float, n: int = FFT_SIZE) -> np.ndarray:
    """The ``n`` samples of a decoded mono file ending at time ``t`` (s), zero-padded
    before its start and after its end."""
    end = int(round(t * sr))
    start = end - n
    out = np.zeros(n, dtype=np.float64)
    lo, hi = max(start, 0), min(end, len(samples))
    if hi > lo:
        out[lo - start:hi - start] = samples[lo:hi]
    return out


class SampleWindow:
    """Windows of a mono signal that arrives in pieces (an iterable of 1-D arrays, e.g.
    :func:`installation.engine.sources.decode_stream`'s), as :func:`window_at` cuts them
    from the whole, holding only what the next windows can still need: their ends must
    not go back. A long file is then read as it is played, in bounded memory."""

    def __init__(self, pieces: Iterable[np.ndarray]) -> None:
        self._pieces = iter(pieces)
        self._buf = np.zeros(0, dtype=np.float32)
        self._start = 0             # the signal's index of self._buf[0]
        self._ended = False

    def window(self, end: int, n: int = FFT_SIZE) -> np.ndarray:
        """Samples ``end - n .. end - 1`` (float64), zero-padded before the signal's start
        and after its end. Raises ``ValueError`` for a window that begins before one
        already dropped (an end that went back)."""
        start = end - n
        if start < self._start and self._start > 0:
            raise ValueError(f"window from sample {start} asked after samples before "
                             f"{self._start} were dropped: ends must not go back")
        if start > self._start:  # nothing before this window will be asked for again
            cut = min(start - self._start, len(self._buf))
            self._buf, self._start = self._buf[cut:], self._start + cut
        while not self._ended and self._start + len(self._buf) < end:
            piece = next(self._pieces, None)
            if piece is None:
                self._ended = True
            else:
                self._buf = np.concatenate([self._buf, np.asarray(piece, np.float32)])
        out = np.zeros(n, dtype=np.float64)
        lo, hi = max(start, self._start), min(end, self._start + len(self._buf))
        if hi > lo:
            out[lo - start:hi - start] = self._buf[lo - self._start:hi - self._start]
        return out


class FileTexture:
    """The texture of a decoded file over time, for offline previews: ``provider(t)``
    gives the rows at time ``t`` (s). Analyses run on a :data:`ANALYSIS_HZ` grid up to
    ``t`` (so the smoothing behaves as live, whatever the video frame rate); deterministic
    for the same sequence of non-decreasing ``t``. ``samples``: the whole file decoded,
    or its pieces as they are decoded (an iterable of arrays: read as ``t`` advances,
    :class:`SampleWindow`); the same rows either way."""

    def __init__(self, samples: np.ndarray | Iterable[np.ndarray], sr: int,
                 rate_hz: float = ANALYSIS_HZ) -> None:
        whole = isinstance(samples, np.ndarray)
        self._signal = SampleWindow([samples] if whole else samples)
        self.sr = int(sr)
        self.rate_hz = float(rate_hz)
        self.texture = AudioTexture()
        self._done = 0              # analyses run so far (analysis k at t = k / rate_hz)

    def __call__(self, t: float) -> np.ndarray:
        """Rows (2, 512) float32 at ``t`` seconds (a copy)."""
        due = int(np.floor(t * self.rate_hz + 1e-9)) + 1
        for k in range(max(self._done, due - SETTLE), due):
            end = int(round(k / self.rate_hz * self.sr))  # as window_at places it
            self.texture.analyse(self._signal.window(end))
        self._done = max(self._done, due)
        return self.texture.rows.copy()


def texture_rows_at(samples: np.ndarray, sr: int, t: float) -> np.ndarray:
    """Rows at ``t`` (s) of a decoded mono file, without a running state: the smoothing
    is settled over the :data:`SETTLE` analyses (1/60 s apart) up to ``t``. (2, 512) float32."""
    return FileTexture(samples, sr)(t)
