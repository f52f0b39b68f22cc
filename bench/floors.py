"""A room around speech: steady floors (mains hum and buzz, rumble, hiss, a fan) and
reverberation.

A gallery's microphone hears more than the voice: a ground loop's hum (50 or 60 Hz and its
harmonics), the building's rumble, a preamp's hiss, a projector's fan. ``bench_floors.py``
and the tests put them under the eval set's speech at a known depth below the words.
Pure numpy and scipy, seeded.
"""

from __future__ import annotations

import numpy as np

KINDS = ("hum50", "hum60", "buzz50", "rumble", "hiss", "fan")


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x) + 1e-30))


def hum(n: int, sr: int, mains_hz: float = 50.0, harmonics: int = 7,
        rng: np.random.Generator | None = None, aligned: bool = False) -> np.ndarray:
    """Mains hum: ``harmonics`` partials of ``mains_hz`` at 1/k amplitude, random phases
    (or all in sine phase with ``aligned``: a peaky buzz, as from a rectifier), over white
    noise 26 dB below it; RMS 1."""
    rng = rng or np.random.default_rng(0)
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * mains_hz * k * t + (0.0 if aligned else rng.uniform(0, 6.3)))
            / k for k in range(1, harmonics + 1) if mains_hz * k < sr / 2)
    y = y / _rms(y)
    return y + 0.05 * rng.standard_normal(n)


def floor(kind: str, n: int, sr: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``n`` samples of a :data:`KINDS` floor at ``sr`` Hz, RMS 1."""
    from scipy.signal import butter, lfilter

    rng = rng or np.random.default_rng(0)
    if kind in ("hum50", "hum60"):
        y = hum(n, sr, float(kind[3:]), rng=rng)
    elif kind == "buzz50":
        y = hum(n, sr, 50.0, harmonics=15, rng=rng, aligned=True)
    elif kind == "rumble":  # brown noise: -6 dB per octave
        y = lfilter([1.0], [1.0, -0.995], rng.standard_normal(n))
    elif kind == "hiss":  # a preamp's hiss: white above 2 kHz
        y = lfilter(*butter(2, 2000 / (sr / 2), "high"), rng.standard_normal(n))
    elif kind == "fan":  # a fan: a band of noise, 80-600 Hz
        y = lfilter(*butter(2, [80 / (sr / 2), 600 / (sr / 2)], "band"), rng.standard_normal(n))
    else:
        raise ValueError(f"unknown floor {kind!r}: expected one of {', '.join(KINDS)}")
    return y / _rms(y)


def room_tail(y: np.ndarray, sr: int, words: np.ndarray, rt60: float,
              rng: np.random.Generator) -> np.ndarray:
    """What a room adds to ``y``: ``y`` through a seeded noise impulse response decaying by
    60 dB in ``rt60`` s and starting 2-20 ms after the direct sound, at the dry voice's RMS
    over ``words`` (a boolean mask of its labelled words: :func:`word_mask`). Add it
    ``wet_db`` under: ``y + tail * 10 ** (wet_db / 20)``."""
    from scipy.signal import fftconvolve

    n = int(rt60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.91 * np.arange(n) / (rt60 * sr))
    ir[:int(rng.uniform(0.002, 0.02) * sr)] = 0.0  # the direct sound comes first
    wet = fftconvolve(y, ir)[:len(y)]
    return wet * _rms(y[words]) / _rms(wet[words])


def word_mask(n: int, sr: int, words: list[dict]) -> np.ndarray:
    """A boolean mask of ``n`` samples at ``sr`` Hz: True inside the labelled ``words``."""
    mask = np.zeros(n, bool)
    for w in words:
        mask[int(w["start"] * sr):int(w["end"] * sr)] = True
    return mask


def under(speech: np.ndarray, sr: int, words: list[dict], kind: str, below_db: float,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """``speech`` with a ``kind`` floor ``below_db`` under the RMS of its labelled
    ``words`` (the eval set's mixes measure their voice-to-music ratio the same way)."""
    level = _rms(speech[word_mask(len(speech), sr, words)]) * 10 ** (-below_db / 20)
    return speech + level * floor(kind, len(speech), sr, rng)
