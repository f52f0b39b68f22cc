"""The audio texture: Shadertoy's 512 x 2 layout (row 0 spectrum, row 1 waveform).

Scenes sample it as ``u_audio`` (``iChannel0`` through ``lib/shadertoy.glsl``), exactly as
a Shadertoy sound input: ``texture(u_audio, vec2(x, 0.25)).r`` is the spectrum at
``x`` (0..1 over 0 .. sr/4, linear in frequency, 0..1 from -100 to -30 dB like WebAudio's
``getByteFrequencyData``), ``texture(u_audio, vec2(x, 0.75)).r`` the waveform (0.5 is
silence).

The real rows are **measured from the audio** outside the renderer (the renderer does no
DSP): :mod:`installation.analysis.spectrum` implements the WebAudio ``AnalyserNode``;
live, the engine sends them as OSC ``/her/audio/texture`` and the window loop hands them
to :meth:`AudioRows.set`; offline, the preview does the same from the decoded file.

**Fallback only** when no audio is available (synthetic feature frames, a feature stream
without the texture message): the rows are synthesised from the features of the moment,
a spectral envelope through the three band levels (below 250 Hz, 250 Hz - 2 kHz, above
2 kHz) tilted toward the centroid, with harmonic peaks at the pitch while a voice or
pitched sound is heard; the waveform is a sum of those harmonics at their levels,
advancing with the injected time. Pure numpy.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

N = 512
NYQUIST_HZ = 11025.0        # Shadertoy: 512 bins over 0 .. sampleRate / 4 at 44.1 kHz
DB_MIN, DB_MAX = -100.0, -30.0
_FREQS = (np.arange(N) + 0.5) * (NYQUIST_HZ / N)
_LOGF = np.log2(np.maximum(_FREQS, 20.0))
_PHASE = np.arange(N) / N


def _byte(db: np.ndarray) -> np.ndarray:
    return np.clip((db - DB_MIN) / (DB_MAX - DB_MIN), 0.0, 1.0)


class AudioRows:
    """Spectrum and waveform rows (float32, 0..1) from the uniform dict of a frame."""

    def __init__(self) -> None:
        self.rows = np.zeros((2, N), dtype=np.float32)
        self.rows[1] = 0.5
        self._external: np.ndarray | None = None

    def set(self, spectrum: np.ndarray, waveform: np.ndarray) -> None:
        """Use measured rows (each 512 values, 0..1) instead of the synthesis, until the
        next :meth:`set` or :meth:`clear`."""
        self._external = np.stack([np.asarray(spectrum, np.float32),
                                   np.asarray(waveform, np.float32)])

    def clear(self) -> None:
        """Go back to the synthesised fallback (no measured rows)."""
        self._external = None

    @property
    def measured(self) -> bool:
        """True while measured rows (from :meth:`set`) are shown."""
        return self._external is not None

    def update(self, u: Mapping[str, float]) -> np.ndarray:
        """Rows for the uniforms ``u`` (needs the raw ``u_band_*_db``, ``u_pitch_hz``,
        ``u_centroid_hz``, ``u_level`` and ``u_time``); returns (2, 512) float32."""
        if self._external is not None:
            self.rows[:] = self._external
            return self.rows
        low = float(u.get("u_band_low_db", -120.0))
        mid = float(u.get("u_band_mid_db", -120.0))
        high = float(u.get("u_band_high_db", -120.0))
        centroid = float(u.get("u_centroid_hz", 0.0)) or 1000.0
        pitch = float(u.get("u_pitch_hz", 0.0))
        t = float(u.get("u_time", 0.0))
        # band level (RMS over the band) -> per-bin level: spread over the band's bins
        env = np.interp(_LOGF, [math.log2(60), math.log2(250), math.log2(2000),
                                math.log2(8000)], [low, mid, high, high - 12.0])
        # a band's RMS spreads over ~100 bins: a bin sits ~20 dB below its band's level
        env = env - 20.0 - 3.0 * np.abs(_LOGF - math.log2(centroid))   # tilt to the centroid
        spec = env - (10.0 if pitch > 40.0 else 2.0)    # between the harmonics of a voice
        wave = np.zeros(N)
        if pitch > 40.0:
            for k in range(1, 13):
                f = k * pitch
                if f >= NYQUIST_HZ:
                    break
                lvl = float(np.interp(math.log2(f), _LOGF, env)) - 4.0 * math.log2(k)
                width = 18.0 + 4.0 * k
                spec = np.maximum(spec, lvl + 6.0 - ((_FREQS - f) / width) ** 2)
                amp = 10 ** ((lvl + 20.0) / 20.0)
                # the waveform window spans 512 samples at 44.1 kHz (11.6 ms)
                wave += amp * np.sin(2 * np.pi * (f * _PHASE * N / 44100.0 + k * 0.37))
        else:
            # unpitched: a band-limited noise whose loudness is the level (deterministic)
            level = 10 ** (max(low, mid, high) / 20.0)
            rng = np.random.default_rng(int(t * 60) & 0xFFFF)
            wave = level * np.convolve(rng.standard_normal(N), np.ones(6) / 6, "same") * 2.0
        self.rows[0] = _byte(spec)
        self.rows[1] = np.clip(0.5 + 0.5 * wave * 2.0, 0.0, 1.0)
        return self.rows
