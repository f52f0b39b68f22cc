"""Scripted feature frames: words, pauses and music without audio, for previews and tests.

An artist can rehearse a scene's look (``render_preview(synthesize(demo_script()), ...)``)
before any recording exists, and tests get exact, known inputs. Deterministic: no
randomness, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from installation.features import FLOOR_DB, FeatureFrame

#: One block of 256 samples at 48 kHz, the engine's default (~5.3 ms).
BLOCK_S = 256 / 48000


@dataclass(frozen=True, slots=True)
class Segment:
    """Sound from ``start`` to ``end`` (s): a word (``voice=True``) or music.

    ``level_db`` is its RMS level (dBFS); ``pitch_hz`` its pitch (0: unpitched);
    ``onsets_per_s`` regular onsets from ``start`` (a word always has one at ``start``).
    """

    start: float
    end: float
    voice: bool = False
    level_db: float = -18.0
    pitch_hz: float = 0.0
    onsets_per_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.end > self.start >= 0:
            raise ValueError(f"segment needs 0 <= start < end, got {self.start}..{self.end}")


def _power_sum(dbs: Sequence[float]) -> float:
    total = sum(10.0 ** (d / 10.0) for d in dbs)
    return FLOOR_DB if total <= 0 else max(FLOOR_DB, 10.0 * math.log10(total))


def synthesize(segments: Sequence[Segment], *, duration: float,
               block_s: float = BLOCK_S) -> list[FeatureFrame]:
    """Feature frames, one per block (``time`` = end of the block), for ``duration`` s.

    Levels of overlapping segments add as power; bands are fixed offsets from the
    level (voice: mid-heavy, music: low-heavy); ``gap_s`` counts from the end of the last
    word (from 0 before the first); an onset falls in the block containing each onset time.
    """
    if not duration > 0 or not block_s > 0:
        raise ValueError("duration and block_s must be > 0")
    onset_times: list[float] = []
    for seg in segments:
        if seg.voice:
            onset_times.append(seg.start)
        if seg.onsets_per_s > 0:
            n = int(math.floor((seg.end - seg.start) * seg.onsets_per_s - 1e-9)) + 1
            onset_times += [seg.start + i / seg.onsets_per_s for i in range(n)]
    onset_times.sort()
    frames: list[FeatureFrame] = []
    n_blocks = int(math.ceil(duration / block_s - 1e-9))
    last_word_end = 0.0
    oi = 0
    for b in range(n_blocks):
        t0, t1 = b * block_s, (b + 1) * block_s
        active = [s for s in segments if s.start < t1 and s.end > t0]
        words = [s for s in active if s.voice]
        music = [s for s in active if not s.voice]
        level = _power_sum([s.level_db for s in active])
        low = _power_sum([s.level_db - 9 for s in words] + [s.level_db - 3 for s in music])
        mid = _power_sum([s.level_db - 3 for s in words] + [s.level_db - 7 for s in music])
        high = _power_sum([s.level_db - 14 for s in words] + [s.level_db - 18 for s in music])
        onset = 0.0
        while oi < len(onset_times) and onset_times[oi] < t1:
            if onset_times[oi] >= t0:
                onset = 1.0
            oi += 1
        voice = 1.0 if words else 0.0
        pitch = 0.0
        pitched = [s for s in words if s.pitch_hz > 0] or [s for s in music if s.pitch_hz > 0]
        if pitched:
            # a gentle spoken contour: +-8 % over ~1.3 s
            pitch = pitched[0].pitch_hz * (1.0 + 0.08 * math.sin(t1 * 4.8))
        for s in segments:
            if s.voice and s.end <= t1:
                last_word_end = max(last_word_end, s.end)
        gap = 0.0 if words else max(0.0, t1 - last_word_end)
        frames.append(FeatureFrame(
            time=t1, block=b, level_rms_db=level, level_peak_db=min(0.0, level + 9.0),
            band_low_db=low, band_mid_db=mid, band_high_db=high,
            onset_strength=12.0 * onset, onset=onset, pitch_hz=pitch,
            voicing=0.9 if words else 0.1, centroid_hz=1800.0 if words else
            (700.0 if music else 0.0), voice=voice, gap_s=gap))
    return frames


def demo_script(duration: float = 30.0) -> list[Segment]:
    """Soft plucked music throughout, and words separated by pauses that grow longer
    (0.3 s up to ~6 s): every state of a scene within ``duration`` seconds."""
    segs = [Segment(0.0, duration, level_db=-34.0, pitch_hz=0.0, onsets_per_s=1.2)]
    t, pause, k = 2.0, 0.3, 0
    while t < duration - 1.0:
        word = 0.35 + 0.15 * (k % 3)
        segs.append(Segment(t, min(duration, t + word), voice=True,
                            level_db=-16.0 - 3.0 * (k % 2), pitch_hz=190.0 + 25.0 * (k % 4)))
        t += word + pause
        k += 1
        if k % 4 == 0:
            pause = min(6.0, pause * 2.2)
    return segs
