"""Where the engine's sound comes from: a file player or a live input, always mono."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Iterable, Iterator

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
    ``sample_rate``. Returns float32 samples: :func:`decode_stream`'s pieces, joined.
    ``seconds`` decodes only that much (plus 0.1 s, so the resampler's edge lies beyond it),
    not a whole long file."""
    pieces = list(decode_stream(path, sample_rate, seconds=seconds))
    return np.ascontiguousarray(np.concatenate(pieces) if pieces else np.zeros(0, np.float32),
                                dtype=np.float32)


def decode_stream(path: Path, sample_rate: int, *, seconds: float | None = None,
                  chunk_s: float = 1.0) -> Iterator[np.ndarray]:
    """The file as :func:`load_mono` reads it, to the bit, in pieces of float32 samples at
    ``sample_rate`` (about ``chunk_s`` of the file each): a file of any length is decoded
    holding about a second of it. soxr's stream resampler gives the whole-file resampler's
    samples exactly. libsndfile decodes every format but MP3, which ffmpeg decodes
    (:func:`_mp3_reads`).

    A float file can hold NaN or infinite samples, which an integer one (or a sound card)
    cannot: they are read as silence, with a warning at the end that counts them. Left in,
    one would stay in pyo's filters and running sums for the rest of the file, and the
    resampler would smear it over its neighbours first."""
    info = file_info(path)
    frames = info.frames
    if seconds is not None:
        frames = min(info.frames, math.ceil(seconds * info.samplerate) + info.samplerate // 10)
    step = max(1, int(chunk_s * info.samplerate))
    resampler = None
    if info.samplerate != sample_rate:
        resampler = soxr.ResampleStream(info.samplerate, sample_rate, 1, dtype="float32",
                                        quality="HQ")
    bad_total = 0
    reads = _mp3_reads(path, info.channels, step) if info.format == "MP3" else \
        _sndfile_reads(path, step)
    try:
        left = frames
        for data in reads:
            data = data[:left]
            left -= len(data)
            bad = ~np.isfinite(data)
            if bad.any():
                bad_total += int(bad.sum())
                data[bad] = 0.0
            mono = data.mean(axis=1) if info.channels > 1 else data[:, 0]
            if resampler is not None:
                mono = resampler.resample_chunk(np.ascontiguousarray(mono), last=left <= 0)
            if len(mono):
                yield np.ascontiguousarray(mono, dtype=np.float32)
            if left <= 0:
                break
        if resampler is not None and left > 0:  # ended early: flush the resampler
            tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if len(tail):
                yield np.ascontiguousarray(tail, dtype=np.float32)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise SourceError(f"{path}: cannot decode audio ({exc})") from None
    finally:
        reads.close()  # (an MP3's decoder stopped, if the file was not read to its end)
    if bad_total:
        log.warning("%s: %d sample%s not finite (NaN or infinite), read as silence",
                    path, bad_total, " is" if bad_total == 1 else "s are")


def _sndfile_reads(path: Path, step: int) -> Iterator[np.ndarray]:
    """The file's samples ``(n, channels)`` float32, ``step`` frames at a time (libsndfile)."""
    with sf.SoundFile(str(path)) as f:
        while True:
            data = f.read(step, dtype="float32", always_2d=True)
            if len(data) == 0:
                return
            yield data


def _mp3_reads(path: Path, channels: int, step: int) -> Iterator[np.ndarray]:
    """An MP3's samples ``(n, channels)`` float32, ``step`` frames at a time, decoded by
    ffmpeg (imageio-ffmpeg's binary, which the preview videos use too). libsndfile 1.2.2's
    MP3 decoder goes wrong after a partial read (every read but the first comes back
    wrong, by up to 0.6 of full scale, whatever its size or a seek before it), so it could
    only read an MP3 whole; ffmpeg's decoding gives the same length and samples within
    2e-6 of libsndfile's whole read (LAME's own files, ffmpeg's, stereo, tagged, without a
    Xing header: tested), a piece at a time."""
    import subprocess
    import tempfile

    import imageio_ffmpeg

    width = 4 * channels
    with tempfile.TemporaryFile() as errors:  # (a pipe could fill and stall ffmpeg)
        proc = subprocess.Popen(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path),
             "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels),
             "-"], stdout=subprocess.PIPE, stderr=errors)
        try:
            while True:
                raw = proc.stdout.read(step * width)
                if len(raw) < width:
                    break
                raw = raw[:len(raw) // width * width]
                yield np.frombuffer(raw, np.float32).reshape(-1, channels).copy()
            if proc.wait() != 0:
                errors.seek(0)
                said = errors.read().decode(errors="replace").strip().splitlines()
                raise SourceError(f"{path}: cannot decode audio (ffmpeg: "
                                  f"{said[-1] if said else f'status {proc.returncode}'})")
        finally:
            if proc.poll() is None:  # stopped early: the rest is not wanted
                proc.kill()
            proc.stdout.close()
            proc.wait()


class FileSource:
    """Plays a file once, mixed to mono, for a live engine, read as it plays.

    The file is decoded with libsndfile (python-soundfile; ffmpeg for an MP3) rather than
    pyo's own reader, whose bundled libsndfile cannot open FLAC, and resampled to the
    server's rate, a second at a time (:func:`decode_stream`) by a thread that keeps
    :data:`AHEAD` pieces ready (:class:`Prefetch`): a file of any length is held a few
    seconds at a time. It is heard through a :class:`StreamSource`, as offline analysis
    hears a file, so a rehearsal and the offline analysis read the same samples. The
    engine's audio callback calls :meth:`feed` before each block (a copy of a ready piece
    every ~0.7 s at 48 kHz; it waits on the disk only if the decoder has fallen eight
    seconds behind). ``signal`` is what the graph listens to; :meth:`close` stops the
    decoder.
    """

    def __init__(self, path: Path, sample_rate: int, block_size: int, *,
                 monitor: bool = False) -> None:
        self.info = file_info(path)
        self._pieces = Prefetch(decode_stream(path, sample_rate), AHEAD)
        self.player = StreamSource(self._pieces, block_size)
        self.signal = self.player.signal
        self.feed = self.player.feed
        self._monitor = pyo.Mix(self.signal, voices=2).out() if monitor else None

    @property
    def duration(self) -> float:
        return self.info.frames / self.info.samplerate

    def close(self) -> None:
        self._pieces.close()


AHEAD = 8  # pieces of about a second decoded ahead of a live file's playing


class Prefetch:
    """An iterator's items taken ahead of their use by a thread of their own, at most
    ``depth`` waiting: the audio callback takes a decoded piece without decoding it. An
    error in the iterator is logged and ends the items (a file that breaks halfway plays
    silence from there, as one that ends does); :meth:`close` stops the thread."""

    def __init__(self, items: Iterable[np.ndarray], depth: int) -> None:
        import queue
        import threading

        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._done = object()
        self._thread = threading.Thread(target=self._run, args=(iter(items),),
                                        name="file-prefetch", daemon=True)
        self._thread.start()

    def _offer(self, item) -> bool:
        """Queue ``item`` once there is room; False if stopped first."""
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterator[np.ndarray]) -> None:
        try:
            for item in items:
                if not self._offer(item):
                    break
        except Exception as exc:  # (a thread's error would otherwise only be printed)
            log.error("%s", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # (an MP3's decoder stopped, if the file was not read to its end)
            self._offer(self._done)

    def __iter__(self) -> "Prefetch":
        return self

    def __next__(self) -> np.ndarray:
        if self._stop.is_set():
            raise StopIteration
        item = self._queue.get()
        if item is self._done:
            self._stop.set()
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop taking items (the thread ends within 0.1 s)."""
        self._stop.set()
        self._thread.join(timeout=2)


def pieces_of(samples: np.ndarray, piece: int = 1 << 16) -> Iterator[np.ndarray]:
    """Decoded samples as :class:`StreamSource` takes them, ``piece`` samples at a time."""
    return (samples[i:i + piece] for i in range(0, len(samples), piece))


class StreamSource:
    """Plays a stream of float32 pieces at the server's rate once, through a ring table
    that :meth:`feed` refills before each block: offline analysis of a file of any length
    with a few seconds of it in memory (:class:`FileSource` plays a file the same way,
    live).

    The ring's length is a power of two, so pyo's table reader, stepping ``rate / length``
    of the table a sample, steps exactly one sample and reads the samples as they are (a
    table as long as a file is stepped a few parts in 10^8 off one sample and its samples
    interpolated: how files were read before session 26). After the stream the ring plays
    zeros, as a finished file does.
    """

    def __init__(self, pieces: Iterable[np.ndarray], block_size: int,
                 ring: int = 1 << 17) -> None:
        if ring & (ring - 1) or ring < 8 * block_size:
            raise ValueError(f"ring must be a power of two of at least 8 blocks, got {ring}")
        self.block_size = block_size
        self.table = pyo.DataTable(size=ring)
        self._ring = np.asarray(self.table.getBuffer())
        self._ring[:] = 0.0
        self._pieces = iter(pieces)
        self._piece = np.zeros(0, np.float32)
        self._written = 0  # samples of the stream written to the ring so far
        self.feed(0)
        self.signal = pyo.TableRead(self.table, freq=self.table.getRate(), loop=1)
        self.signal.play()

    def feed(self, block: int) -> None:
        """Before block ``block`` (0-based) is computed: make sure the ring holds the
        stream to the end of the block after it, refilling half a ring at a time and never
        over what is still to be read."""
        b, size = self.block_size, len(self._ring)
        if self._written >= (block + 2) * b:
            return
        end = min(block * b + size, (block + 2) * b + size // 2)
        while self._written < end:
            if not len(self._piece):
                self._piece = next(self._pieces, None)
                if self._piece is None:  # the stream is over: silence from here on
                    self._pieces, self._piece = iter(()), np.zeros(end - self._written,
                                                                   np.float32)
                    continue
            at = self._written % size
            n = min(len(self._piece), end - self._written, size - at)
            self._ring[at:at + n] = self._piece[:n]
            self._piece = self._piece[n:]
            self._written += n


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
