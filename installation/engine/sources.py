"""Where the engine's sound comes from: a file player or a live input, always mono."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pyo
import soundfile as sf
import soxr

from installation.analysis.bands import SAMPLE_LIMIT

SUPPORTED = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")

log = logging.getLogger(__name__)


class SourceError(ValueError):
    """The audio file cannot be used; the message names it and why."""


def file_info(path: Path) -> sf._SoundFileInfo:
    """Check an audio file up front (exists, known format, readable)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such audio file")
    if path.suffix.lower() not in SUPPORTED:
        raise SourceError(f"{path}: expected one of {', '.join(SUPPORTED)} files")
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise SourceError(f"{path}: cannot read audio ({exc})") from None
    if info.frames == 0:
        raise SourceError(f"{path}: the file holds no audio")
    return info


def load_mono(path: Path, sample_rate: int, *, seconds: float | None = None) -> np.ndarray:
    """Decode any supported file, mix to mono, resample (soxr, high quality) to
    ``sample_rate``. Returns float32 samples. ``seconds`` decodes only that much (plus
    0.1 s, so the resampler's edge lies beyond it), not a whole long file.

    A float file can hold NaN or infinite samples, which an integer one (or a sound card)
    cannot: they are read as silence, with a warning that counts them. Left in, one would
    stay in pyo's filters and running sums for the rest of the file, and the resampler
    would smear it over its neighbours first."""
    info = file_info(path)
    frames = -1
    if seconds is not None:
        frames = min(info.frames, math.ceil(seconds * info.samplerate) + info.samplerate // 10)
    try:
        data, sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise SourceError(f"{path}: cannot decode audio ({exc})") from None
    bad = ~np.isfinite(data)
    if bad.any():
        n = int(bad.sum())
        log.warning("%s: %d sample%s not finite (NaN or infinite), read as silence",
                    path, n, " is" if n == 1 else "s are")
        data[bad] = 0.0
    mono = data.mean(axis=1) if info.channels > 1 else data[:, 0]
    if sr != sample_rate:
        mono = soxr.resample(mono, sr, sample_rate, quality="HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


class FileSource:
    """Plays a file once, mixed to mono, from memory.

    The file is decoded with libsndfile (python-soundfile) rather than pyo's own reader,
    whose bundled libsndfile cannot open FLAC; it is resampled to the server's rate and
    copied straight into a pyo table. ``signal`` is what the graph listens to.
    """

    def __init__(self, path: Path, sample_rate: int, *, monitor: bool = False,
                 samples: np.ndarray | None = None) -> None:
        """``samples``: the file already decoded by :func:`load_mono` at ``sample_rate``
        (so a caller that needs them too decodes once)."""
        self.info = file_info(path)
        if samples is None:
            samples = load_mono(path, sample_rate)
        self.table = pyo.DataTable(size=len(samples))
        np.asarray(self.table.getBuffer())[:] = samples
        self.signal = pyo.TableRead(self.table, freq=self.table.getRate(), loop=0)
        self.signal.play()
        self._monitor = pyo.Mix(self.signal, voices=2).out() if monitor else None

    @property
    def duration(self) -> float:
        return self.info.frames / self.info.samplerate


class InputGuard:
    """``signal`` with every NaN, infinite or out-of-range sample (beyond ``limit``) read
    as 0, in pyo's C objects (nothing per sample in Python; no measurable cost).

    A sound card cannot send such a sample, but a JACK client upstream (a plugin host, a
    mixer) can, and one NaN in pyo's filters, envelopes and running means would silence
    their taps for the rest of a weeks-long show (the band meter and the file reader guard
    themselves the same way). pyo's ``Min`` and ``Max`` keep a finite bound where their
    comparison fails, so whatever comes out of them is finite; ``Compare`` then zeroes
    what stands at the bound. :meth:`poll`, called once per block, counts in
    :attr:`bad_blocks` the blocks that held such a sample.
    """

    def __init__(self, signal: pyo.PyoObject, limit: float = SAMPLE_LIMIT) -> None:
        clipped = pyo.Max(pyo.Min(signal, limit), -limit)
        ok = pyo.Compare(pyo.Abs(clipped), limit, "<")
        self.signal = clipped * ok
        self._bad = pyo.PeakAmp(1 - ok)  # 1 after a block that held a bad sample
        self._peak = self._bad._base_objs[0]._getStream().getValue
        self._objects = (clipped, ok, self._bad)
        self.bad_blocks = 0

    def poll(self) -> None:
        """Count the block just computed if it held a bad sample (audio thread)."""
        if self._peak() > 0.0:
            self.bad_blocks += 1


class InputSource:
    """A live input channel (0-based), guarded (:class:`InputGuard`)."""

    def __init__(self, channel: int = 0) -> None:
        self.input = pyo.Input(chnl=channel)
        self.guard = InputGuard(self.input)
        self.signal = self.guard.signal
