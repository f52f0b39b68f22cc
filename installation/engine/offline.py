"""File → feature frames with pyo's offline server (faster than real time, deterministic),
streamed: a file of any length is analysed in bounded memory."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from installation.analysis.frames import FrameBuilder
from installation.analysis.taps import TAPS
from installation.config import AnalysisConfig
from installation.engine.graph import AnalysisGraph
from installation.engine.server import boot_server, shut_down
from installation.engine.sources import StreamSource, decode_stream, file_info, pieces_of
from installation.features import FeatureFrame


RowSink = Callable[[np.ndarray, float], None]
CHUNK_BLOCKS = 1024  # rows handed on at a time: 5.5 s at 48 kHz with 256-sample blocks


def block_count(path: Path, sample_rate: int = 48000, block_size: int = 256,
                seconds: float | None = None) -> int:
    """How many blocks (and feature frames) the analysis of ``path`` gives: the file's
    length at ``sample_rate``, or ``seconds`` of it, in ``block_size`` blocks, the last
    partial one included. The last frame's time is ``block_count * block_size /
    sample_rate``."""
    info = file_info(path)
    n_blocks = math.ceil(info.frames * sample_rate / info.samplerate / block_size)
    if seconds is not None:
        n_blocks = max(1, min(n_blocks, math.ceil(seconds * sample_rate / block_size)))
    return n_blocks


def stream_taps(path: Path, sink: RowSink, *, sample_rate: int = 48000, block_size: int = 256,
                settings: AnalysisConfig | None = None, seconds: float | None = None,
                progress: Callable[[int, int], None] | None = None,
                samples: np.ndarray | None = None, chunk_blocks: int = CHUNK_BLOCKS) -> int:
    """Run the analysis graph over a file, handing its tap rows on as they come:
    ``sink(rows, pitch_rate)`` with ``rows`` ``(m, len(TAPS))`` for the next ``m`` blocks
    (``chunk_blocks``, the last fewer) and the rate (Hz) of the pitch ``lag`` tap. The file
    is decoded, resampled and heard piece by piece (:func:`decode_stream`,
    :class:`StreamSource`), so memory does not grow with its length. Returns the number of
    blocks.

    ``progress(done, total)`` is called every ~0.5 s of audio. ``seconds`` stops after that
    much audio. ``samples``: the file already decoded by
    :func:`~installation.engine.sources.load_mono` at ``sample_rate``.
    """
    n_blocks = block_count(path, sample_rate, block_size, seconds)
    server = boot_server("offline", sample_rate=sample_rate, block_size=block_size)
    try:
        if samples is None:
            pieces = decode_stream(path, sample_rate, seconds=seconds)
        else:
            pieces = pieces_of(samples)
        source = StreamSource(pieces, block_size)
        graph = AnalysisGraph(server, source.signal, sample_rate, settings)
        pitch_rate = graph.pitch_rate
        step = max(1, int(0.5 * sample_rate / block_size))
        rows = np.zeros((min(chunk_blocks, n_blocks), len(TAPS)))
        count, filled, failure = 0, 0, []

        def hand_on() -> None:
            nonlocal rows, filled
            sink(rows[:filled], pitch_rate)
            rows, filled = np.zeros_like(rows), 0

        def on_block() -> None:
            # Called before each block is computed: the taps hold the previous block.
            nonlocal count, filled
            if failure:
                return
            try:
                if 0 < count <= n_blocks:
                    graph.read(rows[filled])
                    filled += 1
                    if filled == len(rows):
                        hand_on()
                    if progress is not None and count % step == 0:
                        progress(count, n_blocks)
                source.feed(count)  # the block about to be computed
                count += 1
            except BaseException as exc:  # pyo would print it and go on: keep it, and stop
                failure.append(exc)       # (Ctrl-C included) rather than run the file out
                server.stop()

        server.setCallback(on_block)
        with tempfile.TemporaryDirectory(prefix="her-offline-") as folder:
            # Offline mode records its output, and nothing plays out here: record it to
            # the null device (not a file as long as the audio, in a /tmp that may be RAM),
            # under a name whose extension pyo knows, or it says so on stdout.
            nowhere = os.path.join(folder, "nowhere.wav")
            os.symlink(os.devnull, nowhere)
            server.recordOptions(dur=(n_blocks + 1) * block_size / sample_rate,
                                 filename=nowhere, fileformat=0, sampletype=0)
            server.start()  # offline: returns when everything has been computed
        if failure:
            raise failure[0]
        if count <= n_blocks:  # the last computed block has not been read yet
            graph.read(rows[filled])
            filled += 1
        if filled:
            hand_on()
        if progress is not None:
            progress(n_blocks, n_blocks)
        graph.stop()
    finally:
        shut_down(server)
    return n_blocks


def analyse_taps(path: Path, *, sample_rate: int = 48000, block_size: int = 256,
                 settings: AnalysisConfig | None = None, seconds: float | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 samples: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Every tap row of a file at once ``(n_blocks, len(TAPS))``, and the rate (Hz) of the
    pitch ``lag`` tap (arguments as :func:`stream_taps`)."""
    chunks: list[np.ndarray] = []
    rate = [0.0]

    def keep(rows: np.ndarray, pitch_rate: float) -> None:
        chunks.append(rows)
        rate[0] = pitch_rate

    stream_taps(path, keep, sample_rate=sample_rate, block_size=block_size, settings=settings,
                seconds=seconds, progress=progress, samples=samples)
    return np.concatenate(chunks), rate[0]


def stream_frames(path: Path, sink: Callable[[list[FeatureFrame]], None], *,
                  sample_rate: int = 48000, block_size: int = 256,
                  settings: AnalysisConfig | None = None, seconds: float | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  samples: np.ndarray | None = None) -> None:
    """Hand a file's :class:`FeatureFrame` s on as they come, in order, a few thousand at a
    time (``sink(frames)``), holding no more of the file than that (arguments as
    :func:`stream_taps`)."""
    settings = settings or AnalysisConfig()
    builder: list[FrameBuilder] = []

    def build(rows: np.ndarray, pitch_rate: float) -> None:
        if not builder:
            builder.append(FrameBuilder(sample_rate, block_size, pitch_rate, settings))
        sink(builder[0].push_many(rows))  # the same frames as push() row by row, faster

    stream_taps(path, build, sample_rate=sample_rate, block_size=block_size, settings=settings,
                seconds=seconds, progress=progress, samples=samples)


def analyse_file(path: Path, *, sample_rate: int = 48000, block_size: int = 256,
                 settings: AnalysisConfig | None = None, seconds: float | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 samples: np.ndarray | None = None) -> list[FeatureFrame]:
    """One :class:`FeatureFrame` per block of the file, in order (arguments as
    :func:`stream_taps`)."""
    frames: list[FeatureFrame] = []
    stream_frames(path, frames.extend, sample_rate=sample_rate, block_size=block_size,
                  settings=settings, seconds=seconds, progress=progress, samples=samples)
    return frames
