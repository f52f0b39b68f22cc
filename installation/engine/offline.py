"""File → feature frames with pyo's offline server (faster than real time, deterministic)."""

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
from installation.engine.sources import FileSource, file_info, load_mono
from installation.features import FeatureFrame


def analyse_taps(path: Path, *, sample_rate: int = 48000, block_size: int = 256,
                 settings: AnalysisConfig | None = None, seconds: float | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 samples: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Run the analysis graph over a file; return tap rows ``(n_blocks, len(TAPS))``.

    Also returns the rate (Hz) of the pitch ``lag`` tap. ``progress(done, total)`` is called every
    ~0.5 s of audio. ``seconds`` stops after that much audio. ``samples``: the file
    already decoded by :func:`~installation.engine.sources.load_mono` at ``sample_rate``.
    """
    info = file_info(path)
    n_blocks = math.ceil(info.frames * sample_rate / info.samplerate / block_size)
    if seconds is not None:
        n_blocks = max(1, min(n_blocks, math.ceil(seconds * sample_rate / block_size)))
    rows = np.zeros((n_blocks, len(TAPS)), dtype=np.float64)
    server = boot_server("offline", sample_rate=sample_rate, block_size=block_size)
    fd, scratch = tempfile.mkstemp(suffix=".wav", prefix="her-offline-")
    os.close(fd)
    try:
        if samples is None:
            samples = load_mono(path, sample_rate, seconds=seconds)
        source = FileSource(path, sample_rate, samples=samples)
        graph = AnalysisGraph(server, source.signal, sample_rate, settings)
        step = max(1, int(0.5 * sample_rate / block_size))
        count = 0

        def on_block() -> None:
            # Called before each block is computed: the taps hold the previous block.
            nonlocal count
            if 0 < count <= n_blocks:
                graph.read(rows[count - 1])
                if progress is not None and count % step == 0:
                    progress(count, n_blocks)
            count += 1

        server.setCallback(on_block)
        server.recordOptions(dur=(n_blocks + 1) * block_size / sample_rate, filename=scratch,
                             fileformat=0, sampletype=0)
        server.start()  # offline: returns when everything has been computed
        if count <= n_blocks:  # the last computed block has not been read yet
            graph.read(rows[count - 1])
        if progress is not None:
            progress(n_blocks, n_blocks)
        pitch_rate = graph.pitch_rate
        graph.stop()
    finally:
        shut_down(server)
        os.unlink(scratch)
    return rows, pitch_rate


def analyse_file(path: Path, *, sample_rate: int = 48000, block_size: int = 256,
                 settings: AnalysisConfig | None = None, seconds: float | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 samples: np.ndarray | None = None) -> list[FeatureFrame]:
    """One :class:`FeatureFrame` per block of the file, in order (``samples`` as for
    :func:`analyse_taps`)."""
    settings = settings or AnalysisConfig()
    rows, pitch_rate = analyse_taps(path, sample_rate=sample_rate, block_size=block_size,
                                    settings=settings, seconds=seconds, progress=progress,
                                    samples=samples)
    builder = FrameBuilder(sample_rate, block_size, pitch_rate, settings)
    return builder.push_many(rows)  # the same frames as push() row by row, faster
