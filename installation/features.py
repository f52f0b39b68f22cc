"""The feature frame: one immutable record per audio block.

This module is the single source of feature names. The engine fills frames, the OSC
namespace derives its addresses from :data:`FEATURES`, and the renderer turns each field
into a uniform named ``u_<name>``. A frame is the same whether it came from a live input,
a file, or a replayed recording.

Level convention: dBFS after AES17, i.e. RMS referenced to a full-scale *sine*, so a sine
with peak amplitude 0.5 reads -6.02 dBFS both as ``level_rms_db`` and ``level_peak_db``.
Digital silence is clamped to :data:`FLOOR_DB`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Iterable

FLOOR_DB = -120.0


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """What one feature is: its name, unit, nominal range and meaning."""

    name: str
    unit: str
    lo: float
    hi: float
    description: str
    kind: str = "float"  # "float"; "time": s from the stream's start, which grow for as
    # long as a show runs (64-bit over OSC: a 32-bit float's step is 62 ms after a week);
    # "bool" (0/1); "trigger" (1 on the block it happens)


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("level_rms_db", "dBFS", FLOOR_DB, 3.0,
                "RMS level over the last ~21 ms (AES17: a full-scale sine is 0 dBFS)"),
    FeatureSpec("level_peak_db", "dBFS", FLOOR_DB, 0.0,
                "largest absolute sample in the block"),
    FeatureSpec("band_low_db", "dBFS", FLOOR_DB, 3.0, "RMS level below 250 Hz"),
    FeatureSpec("band_mid_db", "dBFS", FLOOR_DB, 3.0, "RMS level from 250 Hz to 2 kHz"),
    FeatureSpec("band_high_db", "dBFS", FLOOR_DB, 3.0, "RMS level above 2 kHz"),
    FeatureSpec("onset_strength", "dB", 0.0, 60.0,
                "rise of the fast envelope over the slow one (0 when steady or falling)"),
    FeatureSpec("onset", "trigger", 0.0, 1.0,
                "1 on a block in which an attack (pluck, click, consonant) was detected",
                kind="trigger"),
    FeatureSpec("pitch_hz", "Hz", 0.0, 1000.0,
                "fundamental frequency (YIN); 0 when unvoiced"),
    FeatureSpec("voicing", "ratio", 0.0, 1.0,
                "voicing confidence: normalised autocorrelation at the pitch period"),
    FeatureSpec("centroid_hz", "Hz", 0.0, 24000.0, "spectral centroid"),
    FeatureSpec("voice", "bool", 0.0, 1.0,
                "1 while a word is being spoken (the gap detector, analysis/gaps.py)",
                kind="bool"),
    FeatureSpec("gap_s", "s", 0.0, math.inf,
                "gap elapsed: seconds since the last word ended (back-dated); 0 while "
                "speaking. Before the first word it counts from the start of the stream"),
    FeatureSpec("word_start", "trigger", 0.0, 1.0,
                "1 on the block a word is confirmed, word_min after it began (its start "
                "is back-dated; see analysis/gaps.py)",
                kind="trigger"),
    FeatureSpec("word_end", "trigger", 0.0, 1.0,
                "1 on the block a word's end is confirmed (same block as gap_start)",
                kind="trigger"),
    FeatureSpec("gap_start", "trigger", 0.0, 1.0,
                "1 on the block a pause between two words is confirmed; see gap_start_time "
                "and gap_emit_time", kind="trigger"),
    FeatureSpec("gap_end", "trigger", 0.0, 1.0,
                "1 on the block the pause ends (the next word is confirmed); see gap_duration",
                kind="trigger"),
    FeatureSpec("gap_start_time", "s", 0.0, math.inf,
                "estimated true start of the current or last gap (back-dated, s from stream "
                "start)", kind="time"),
    FeatureSpec("gap_emit_time", "s", 0.0, math.inf,
                "when that gap start was confirmed (s from stream start): emit - start is "
                "the detector's delay", kind="time"),
    FeatureSpec("gap_duration", "s", 0.0, math.inf,
                "duration of the last finished gap (s), set on gap_end"),
    FeatureSpec("gap_depth", "ratio", 0.0, 1.0,
                "silence likelihood: 1 - the smoothed voice likelihood. Moves on the first "
                "quiet block, before a gap is confirmed"),
    FeatureSpec("gap_expected", "s", 0.0, math.inf,
                "expected total length of the current pause, given how long it has lasted "
                "(the median of a log-normal law of the speaker's last 8 gaps, shrunk "
                "toward 0.4 s and a log-spread of 0.7, which count as 2 gaps); it grows "
                "as the pause goes on. Between pauses, the next pause's median; 0.4 s "
                "before any, and again after a pause longer than the speaking rate's "
                "20 s (the end of a turn)"),
    FeatureSpec("speech_rate", "words/min", 0.0, 600.0,
                "words started per minute over the last 20 s"),
    FeatureSpec("word_duration", "s", 0.0, 60.0, "duration of the last finished word (s)"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)
SPEC_BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in FEATURES}


@dataclass(frozen=True, slots=True)
class FeatureFrame:
    """Features of one audio block.

    ``time`` is the end of the block in seconds from the start of the stream, ``block``
    its index (0-based). Every name in :data:`FEATURE_NAMES` is a float field.
    """

    time: float
    block: int
    level_rms_db: float = FLOOR_DB
    level_peak_db: float = FLOOR_DB
    band_low_db: float = FLOOR_DB
    band_mid_db: float = FLOOR_DB
    band_high_db: float = FLOOR_DB
    onset_strength: float = 0.0
    onset: float = 0.0
    pitch_hz: float = 0.0
    voicing: float = 0.0
    centroid_hz: float = 0.0
    voice: float = 0.0
    gap_s: float = 0.0
    word_start: float = 0.0
    word_end: float = 0.0
    gap_start: float = 0.0
    gap_end: float = 0.0
    gap_start_time: float = 0.0
    gap_emit_time: float = 0.0
    gap_duration: float = 0.0
    gap_depth: float = 0.0
    gap_expected: float = 0.0
    speech_rate: float = 0.0
    word_duration: float = 0.0

    def values(self) -> tuple[float, ...]:
        """The feature values in :data:`FEATURE_NAMES` order."""
        return tuple(getattr(self, name) for name in FEATURE_NAMES)

    def as_dict(self) -> dict[str, float]:
        """``time``, ``block`` and every feature, for JSON lines."""
        out: dict[str, float] = {"time": self.time, "block": self.block}
        out.update(zip(FEATURE_NAMES, self.values()))
        return out

    @classmethod
    def from_values(cls, time: float, block: int, values: Iterable[float]) -> "FeatureFrame":
        vals = tuple(float(v) for v in values)
        if len(vals) != len(FEATURE_NAMES):
            raise ValueError(f"expected {len(FEATURE_NAMES)} feature values, got {len(vals)}")
        return cls(time, int(block), *vals)


def _check_fields_match() -> None:
    # The dataclass and the spec list must never drift apart.
    names = tuple(f.name for f in fields(FeatureFrame))[2:]
    if names != FEATURE_NAMES:
        raise RuntimeError(f"FeatureFrame fields {names} != FEATURES {FEATURE_NAMES}")


_check_fields_match()
