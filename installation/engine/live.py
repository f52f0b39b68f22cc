"""The engine in real time: a pyo server clocked by JACK, PortAudio or the wall clock.

The audio thread only copies the graph's taps into a preallocated ring
(:class:`TapRing`). A publisher thread turns new rows into feature frames, sends them as
OSC bundles, and hands them to ``on_frame`` (the local renderer's mailbox). About 60 times
a second it also reads the raw-sample tap (:class:`AudioTap`, a pyo ``TableFill`` into a
2048-sample circular table), measures the Shadertoy audio texture from it
(:mod:`installation.analysis.spectrum`) and sends it as ``/audio/texture``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from installation.analysis.frames import FrameBuilder
from installation.analysis.spectrum import ANALYSIS_HZ, FFT_SIZE, AudioTexture, to_bytes
from installation.analysis.taps import TAPS
from installation.config import ShowConfig
from installation.engine.graph import AnalysisGraph
from installation.engine.server import boot_server, shut_down
from installation.engine.sources import FileSource, InputSource
from installation.features import FeatureFrame
from installation.osc.transport import FeatureSender

log = logging.getLogger(__name__)
BAD_INPUT_REPORT_S = 10.0  # the shortest time between two warnings about a bad live input


class TapRing:
    """Rows of taps written by the audio thread and read by one consumer.

    The writer fills a preallocated row view then bumps ``written`` (an int store,
    atomic under the GIL); the reader never touches rows that are not yet counted.
    If the reader falls more than ``capacity`` rows behind, the oldest are lost and counted.
    """

    def __init__(self, capacity: int = 1024, width: int = len(TAPS)) -> None:
        self.capacity = capacity
        self.rows = np.zeros((capacity, width), dtype=np.float64)
        self._views = [self.rows[i] for i in range(capacity)]  # no allocation when writing
        self.written = 0
        self.read = 0
        self.lost = 0

    def writer_view(self) -> np.ndarray:
        return self._views[self.written % self.capacity]

    def commit(self) -> None:
        self.written += 1

    def take(self) -> list[np.ndarray]:
        """Copies of the rows written since the last call, oldest first."""
        end = self.written
        start = max(self.read, end - self.capacity)
        self.lost += start - self.read
        self.read = end
        return [self.rows[i % self.capacity].copy() for i in range(start, end)]


class AudioTap:
    """The latest ``size`` raw samples of ``signal``: pyo's ``TableFill`` writes them
    circularly into a ``DataTable`` in C (nothing in Python per block); :meth:`window`
    reads the table's buffer through numpy from another thread. A read racing the audio
    thread may mix two blocks (at most ``block_size`` samples): harmless for a picture."""

    def __init__(self, signal, size: int = FFT_SIZE) -> None:
        import pyo

        self.size = size
        self.table = pyo.DataTable(size=size)
        self._buffer = np.asarray(self.table.getBuffer())
        self.fill = pyo.TableFill(signal, self.table)

    def window(self) -> np.ndarray:
        """The newest ``size`` samples, oldest first (float64, -1..1)."""
        pos = int(self.fill.getCurrentPos()) % self.size   # next sample to be written
        return np.roll(np.array(self._buffer, dtype=np.float64), -pos)

    def stop(self) -> None:
        self.fill.stop()


class LiveEngine:
    """Runs the analysis on a live input or a file in real time.

    ``backend`` is already resolved (``jack``, ``portaudio`` or ``silent``). With a file,
    the file is played to the outputs (not in ``silent``) and :attr:`finished` is set when
    it ends. ``targets`` receive every frame as an OSC bundle.
    """

    def __init__(self, show: ShowConfig, backend: str, *, file: Path | None = None,
                 targets: list[tuple[str, int]] = (),
                 on_frame: Callable[[FeatureFrame], None] | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.show = show
        self.backend = backend
        self.on_frame = on_frame
        self.finished = threading.Event()
        self._wall_clock = wall_clock
        self._stop = threading.Event()
        audio = show.audio
        self.server = boot_server(backend, sample_rate=audio.sample_rate,
                                  block_size=audio.block_size, nchnls=2,
                                  duplex=file is None, jack_client=audio.jack_client)
        self.sample_rate = int(self.server.getSamplingRate())
        self.block_size = int(self.server.getBufferSize())
        if file is not None:
            self.source = FileSource(file, self.sample_rate, self.block_size,
                                     monitor=backend != "silent")
            self.duration = self.source.duration
        else:
            self.source = InputSource(audio.input_channel)
            self.duration = float("inf")
        self.graph = AnalysisGraph(self.server, self.source.signal, self.sample_rate,
                                   show.analysis)
        self.builder = FrameBuilder(self.sample_rate, self.block_size, self.graph.pitch_rate,
                                    show.analysis)
        self.ring = TapRing()
        self.audio_tap = AudioTap(self.source.signal)
        self.audio_texture = AudioTexture()
        self.textures_sent = 0
        self.sender = FeatureSender(targets, show.osc.prefix)
        self.latest: FeatureFrame | None = None
        self._guard = getattr(self.source, "guard", None)  # a live input's
        self._feed = getattr(self.source, "feed", None)  # a file's
        self._bad_reported = 0
        self._blocks = 0
        self._threads: list[threading.Thread] = []
        self._t0_wall = 0.0

    def _on_block(self) -> None:
        # Audio thread: the taps hold the previous block. Copy, count, return.
        if self._blocks:
            self.graph.read(self.ring.writer_view())
            self.ring.commit()
        if self._guard is not None:
            self._guard.poll()
        if self._feed is not None:
            self._feed(self._blocks)  # the block about to be computed
        self._blocks += 1

    def start(self) -> None:
        self.server.setCallback(self._on_block)
        self._t0_wall = self._wall_clock()
        self.server.start()
        self._spawn(self._publish, "engine-publisher")
        if self.backend == "silent":
            self._spawn(self._pace, "engine-clock")
        log.info("engine running: %s, %d Hz, block %d", self.backend, self.sample_rate,
                 self.block_size)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _pace(self) -> None:
        """Without an audio device, step the server on the wall clock."""
        period = self.block_size / self.sample_rate
        start = time.monotonic()
        done = 0
        while not self._stop.is_set():
            due = int((time.monotonic() - start) / period)
            while done < due and not self._stop.is_set():
                self.server.process()
                done += 1
            time.sleep(period / 2)

    def _publish_texture(self) -> None:
        """Measure the audio texture from the tap and send it (publisher thread)."""
        rows = self.audio_texture.analyse(self.audio_tap.window())
        self.sender.send_audio_texture(*to_bytes(rows))
        self.textures_sent += 1

    def _report_bad_input(self) -> None:
        """Log the blocks of the live input that held NaN, infinite or out-of-range samples
        since the last report (read as silence by the input's guard)."""
        bad = self._guard.bad_blocks if self._guard is not None else 0
        if bad > self._bad_reported:
            log.warning("live input: %d block%s held NaN, infinite or out-of-range samples, "
                        "read as silence (%d since the start)", bad - self._bad_reported,
                        "" if bad - self._bad_reported == 1 else "s", bad)
            self._bad_reported = bad

    def _publish(self) -> None:
        period = 1.0 / ANALYSIS_HZ
        next_texture = time.monotonic()
        next_report = time.monotonic()
        while not self._stop.is_set():
            if self._blocks and time.monotonic() >= next_texture:
                self._publish_texture()
                next_texture = max(next_texture + period, time.monotonic() - period)
            if time.monotonic() >= next_report:  # at most one warning every 10 s
                self._report_bad_input()
                next_report = time.monotonic() + BAD_INPUT_REPORT_S
            for row in self.ring.take():
                frame = self.builder.push(row)
                self.sender.send(frame, self._t0_wall + frame.time)
                self.latest = frame
                if self.on_frame is not None:
                    self.on_frame(frame)
                if frame.time >= self.duration:
                    self.finished.set()
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self.server.stop()
        close = getattr(self.source, "close", None)  # a file's decoder
        if close is not None:
            close()
        self.audio_tap.stop()
        self.graph.stop()
        shut_down(self.server)
        self.sender.close()
        if self.ring.lost:
            log.warning("publisher fell behind: %d blocks lost", self.ring.lost)
        self._report_bad_input()
