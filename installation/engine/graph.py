"""The analysis graph: pyo objects that measure the raw taps of each block.

Only cheap C-side DSP runs here (filters, envelopes, YIN, centroid, running means). The
graph writes one row of :data:`~installation.analysis.taps.TAPS` per block with
:meth:`AnalysisGraph.read`; the pure :class:`~installation.analysis.frames.FrameBuilder`
turns rows into feature frames. The same graph serves files, live inputs and tests.
"""

from __future__ import annotations

import math

import numpy as np
import pyo

from installation.analysis.bands import FIRST_TAP, N_METER_TAPS, BandMeter
from installation.analysis.partials import PARTIAL_TAPS, PartialMeter
from installation.analysis.taps import TAPS, decimation
from installation.analysis.voicemodel import reads_partials
from installation.config import AnalysisConfig

LEVEL_WINDOW_S = 0.0213  # 1024 samples at 48 kHz


class AnalysisGraph:
    """Build the graph on a booted ``server`` around a mono ``source`` PyoObject."""

    def __init__(self, server: pyo.Server, source: pyo.PyoObject, sample_rate: int,
                 settings: AnalysisConfig | None = None) -> None:
        s = settings or AnalysisConfig()
        n = max(64, int(round(LEVEL_WINDOW_S * sample_rate)))
        x = source
        self._objects: list[pyo.PyoObject] = []

        def keep(obj: pyo.PyoObject) -> pyo.PyoObject:
            self._objects.append(obj)  # pyo stops objects that are garbage collected
            return obj

        # pyo's Average never takes its input's first sample back out of its running sum:
        # a stream that began on a loud sample (a file cut mid-note, a line input booted
        # while the music plays) kept that sample's share in the mean for ever, a level of
        # -28 dBFS in digital silence after a first sample of 0.9. So the level and band
        # means hear their input through a gate shut for the first block, which read()
        # opens before the second. Not the pitch correlations and the low band (the gap
        # detector's inputs, after a low-pass whose first output is a fraction of the first
        # sample): the shipped models were fitted on them as they are, and gating them
        # moved the 16 and 8 kHz results by a gap or so (docs/architecture.md).
        gate = keep(pyo.Sig(0.0))
        self._gate = gate
        self._gate_open = False

        def mean_square(sig: pyo.PyoObject) -> pyo.PyoObject:
            return keep(pyo.Average(keep(keep(sig * sig) * gate), size=n))

        ms = mean_square(x)
        peak = keep(pyo.PeakAmp(x))
        mid = keep(pyo.ButBP(x, freq=math.sqrt(250 * 2000), q=math.sqrt(250 * 2000) / 1750))
        high = keep(pyo.ButHP(x, freq=2000))
        env_fast = keep(pyo.Follower2(x, risetime=0.002, falltime=0.05))
        env_slow = keep(pyo.Follower2(x, risetime=0.15, falltime=0.15))
        # Pitch and voicing run at ~12 kHz inside a pyo downsampling block: YIN's cost
        # grows with the square of its window, and voice pitch needs nothing above 1 kHz.
        # The 1 kHz low-pass before decimation is the anti-alias filter (-30 dB at 6 kHz).
        factor = decimation(sample_rate)
        self.pitch_rate = sample_rate / factor
        winsize = 1 << max(7, math.ceil(math.log2(2.2 * self.pitch_rate / s.pitch_min_hz)))
        lp = keep(pyo.ButLP(x, freq=1000))
        if factor > 1:
            server.beginResamplingBlock(-factor)
            xd = keep(pyo.Resample(lp, mode=0))
        else:
            xd = lp
        yin = keep(pyo.Yin(xd, tolerance=0.2, minfreq=s.pitch_min_hz, maxfreq=s.pitch_max_hz,
                           cutoff=1000, winsize=winsize))
        # pyo's YIN works on whole lags, which at 12 kHz is several % off at 440 Hz. The
        # period is refined in pure code from the autocorrelation at lag-1, lag, lag+1.
        lag = keep(pyo.Round(keep(self.pitch_rate / keep(pyo.Clip(
            yin, s.pitch_min_hz, s.pitch_max_hz)))))
        max_delay = (self.pitch_rate / s.pitch_min_hz + 3) / self.pitch_rate
        nd = max(16, n // factor)

        # The lags are whole samples: pyo's SDelay reads them without interpolating, half
        # a sample in so its truncation lands on the lag whatever the float rounding.
        # (pyo's interpolating Delay wraps an index a rounding error under zero to its
        # buffer's end and reads one sample past it: weighted 0, but uninitialised memory
        # that held a NaN left xy_hi NaN for the rest of a stream, in 1 run of ~150 here.)
        def correlation(offset: int) -> pyo.PyoObject:
            delay = keep((lag + (offset + 0.5)) * (1.0 / self.pitch_rate))
            delayed = keep(pyo.SDelay(xd, delay=delay, maxdelay=max_delay))
            return keep(pyo.Average(keep(xd * delayed), size=nd)), delayed

        xy_lo, _ = correlation(-1)
        xy, delayed = correlation(0)
        xy_hi, _ = correlation(+1)
        xx = keep(pyo.Average(keep(xd * xd), size=nd))
        dd = keep(pyo.Average(keep(delayed * delayed), size=nd))
        # The low band needs nothing above 1 kHz either: measure it on the decimated signal.
        low = keep(pyo.ButLP(xd, freq=250))
        low_ms = keep(pyo.Average(keep(low * low), size=nd))
        if factor > 1:
            server.endResamplingBlock()
        # pyo's Centroid wants a frame no shorter than the block (it prints a warning and
        # takes the block's size itself otherwise: 2048-sample blocks)
        block_size = int(server.getBufferSize())
        centroid = keep(pyo.Centroid(x, size=max(1024, block_size)))
        # The gap detector's bands: short windows (~10 ms) so a word's end shows within
        # two blocks. Voice puts its formants (1-4 kHz) and sibilants (> 4 kHz) where soft
        # guitar and piano have little energy; 250 Hz-1 kHz is where both live. They are
        # measured in compiled code (analysis.bands) from each block's raw samples, which a
        # TableFill copies into a table in C: the same filters as pyo objects cost more.
        self.bands = BandMeter(sample_rate, block_size)
        # The partial meter's cues only where the rate's model reads them (under 32 kHz);
        # elsewhere their taps stay 0.
        self.partials = (PartialMeter(sample_rate, block_size, s.gap_restart_s)
                         if reads_partials(sample_rate) else None)
        self._band_table = pyo.DataTable(size=2 * block_size)
        self._band_buffer = np.asarray(self._band_table.getBuffer())
        fill = keep(pyo.TableFill(x, self._band_table))
        self._band_end = fill._base_objs[0].getCurrentPos  # the next sample to be written
        # What the gap detector adds to the pyo graph (bench/bench_gaps.py times it; the
        # meter, called by read, is timed on its own).
        self.gap_objects = (fill,)
        self.taps: tuple[pyo.PyoObject, ...] = (
            ms, peak, low_ms, mean_square(mid), mean_square(high),
            env_fast, env_slow, lag, xy_lo, xy, xy_hi, xx, dd, centroid)
        assert len(self.taps) == FIRST_TAP
        assert len(self.taps) + N_METER_TAPS + len(PARTIAL_TAPS) == len(TAPS)
        # PyoObject.get() is _base_objs[0]._getStream().getValue() behind argument checks
        # that cost more than the read itself; bind the stream getters once.
        self._getters = tuple(tap._base_objs[0]._getStream().getValue for tap in self.taps)

    def read(self, out: np.ndarray) -> None:
        """Copy the current value of every tap into ``out`` (shape ``(len(TAPS),)``), the gap
        bands measured over the block just computed. Call it once per computed block (the
        band meter advances over each block once).

        Called from the audio thread: no allocation beyond the floats pyo returns (and, on
        the first call, the level gate's opening).
        """
        if not self._gate_open:
            self._gate.setValue(1.0)
            self._gate_open = True
        for i, get in enumerate(self._getters):
            out[i] = get()
        self.bands.measure(self._band_buffer, int(self._band_end()), out)
        if self.partials is not None:
            self.partials.measure(self.bands.samples, out)

    def stop(self) -> None:
        for obj in self._objects:
            obj.stop()
