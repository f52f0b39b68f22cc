"""The OSC namespace, defined once: every address, its types, range, unit and meaning.

Features go out under ``<prefix>/...`` (one bundle per audio block); control comes in under
``<prefix>/...`` on the control port. Dispatch, validation and ``docs/osc.md`` are all
derived from :data:`OUT` and :data:`IN`; nothing else spells an address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from installation.features import FEATURE_NAMES, SPEC_BY_NAME


@dataclass(frozen=True, slots=True)
class Address:
    path: str          # relative to the prefix, e.g. "/level/rms"
    types: str         # OSC type tags of the arguments, e.g. "f", "s", "fi"
    unit: str
    lo: float | None
    hi: float | None
    access: str        # "out" (sent by the engine) or "in" (control)
    description: str
    feature: str | None = None  # the feature frame field it carries, if any


# Feature name → address path. Every feature must appear exactly once (checked below).
_FEATURE_PATHS: dict[str, str] = {
    "level_rms_db": "/level/rms",
    "level_peak_db": "/level/peak",
    "band_low_db": "/band/low",
    "band_mid_db": "/band/mid",
    "band_high_db": "/band/high",
    "onset_strength": "/onset/strength",
    "onset": "/onset/trigger",
    "pitch_hz": "/pitch/hz",
    "voicing": "/pitch/confidence",
    "centroid_hz": "/spectrum/centroid",
    "voice": "/voice/active",
    "gap_s": "/gap/elapsed",
    "word_start": "/word/start",
    "word_end": "/word/end",
    "gap_start": "/gap/start",
    "gap_end": "/gap/end",
    "gap_start_time": "/gap/start_time",
    "gap_emit_time": "/gap/emit_time",
    "gap_duration": "/gap/duration",
    "gap_depth": "/gap/depth",
    "gap_expected": "/gap/expected",
    "speech_rate": "/speech/rate",
    "word_duration": "/word/duration",
}


def _feature_address(name: str) -> Address:
    spec = SPEC_BY_NAME[name]
    types = {"bool": "i", "trigger": "i", "time": "d"}.get(spec.kind, "f")
    return Address(_FEATURE_PATHS[name], types, spec.unit, spec.lo,
                   None if math.isinf(spec.hi) else spec.hi, "out", spec.description,
                   feature=name)


FRAME = Address("/frame", "di", "s, block", 0.0, None, "out",
                "first message of every bundle: the frame's time (s from stream start, end "
                "of its block) and block index (wrapping to 0 after 2^31 - 1: 132 days at "
                "48 kHz and 256 samples per block). The bundle's timetag is the wall-clock "
                "time the block was measured")

OUT: tuple[Address, ...] = (FRAME, *(_feature_address(n) for n in FEATURE_NAMES))

SCENE = Address("/scene", "s", "name", None, None, "in",
                "switch to the scene of that name (a file in shaders/ without .frag)")
MASTER = Address("/master", "f", "level", 0.0, 1.0, "in", "master output level, 0 to 1")
BLACKOUT = Address("/blackout", "i", "bool", 0.0, 1.0, "in",
                   "1 fades the output to black, 0 fades it back (ints, floats or T/F accepted)")

CROSSFADE = Address("/crossfade", "f", "s", 0.0, 60.0, "in",
                    "crossfade time for the next scene changes (s); 0 cuts")
PARAM = Address("/param/<scene>/<name>", "f", "param", None, None, "in",
                "set parameter <name> of scene <scene> (as in its JSON header; clamped to "
                "its MIN/MAX); the value glides there over render.param_smoothing_s. A "
                "color takes 4 floats (r g b a), a point2D 2, a bool 0/1. Kept per scene: "
                "set it before switching and the scene starts with it")
RELOAD = Address("/reload", "i", "bool", 0.0, 1.0, "in",
                 "1 reloads the current scene from disk now (saving the file also does)")
KEYSTONE = Address("/output/<n>/keystone", "ffffffff", "fraction", -1.0, 2.0, "in",
                   "output <n> (0-based): where the corners of its picture land, as fractions "
                   "of the output (x right, y up): bottom-left x y, bottom-right x y, "
                   "top-right x y, top-left x y; 0 0 1 0 1 1 0 1 is no correction. Saved "
                   "atomically to the calibration file")
CORNER = Address("/output/<n>/corner/<k>", "ff", "fraction", -1.0, 2.0, "in",
                 "move one keystone corner of output <n>: k = 0 bottom-left, 1 bottom-right, "
                 "2 top-right, 3 top-left; x y as for keystone. Saved")
BLEND = Address("/output/<n>/blend/<side>", "fff", "width, gamma, curve", 0.0, 10.0, "in",
                "soft edge of output <n> on side left|right|top|bottom: width (fraction of "
                "the output, 0..0.5), gamma (0.5..4, the projector's), curve (0 linear .. 1 "
                "smooth S). Saved")
REGION = Address("/output/<n>/region", "ffff", "fraction", 0.0, 1.0, "in",
                 "the part of the shared canvas output <n> shows: x0 y0 x1 y1 as fractions "
                 "of the canvas (y up). Saved")
CALIBRATION_RESET = Address("/calibration/reset", "i", "output", -1.0, 64.0, "in",
                            "reset output <n>'s keystone and blend to show.toml's values "
                            "(-1: every output). Saved")

IN: tuple[Address, ...] = (SCENE, MASTER, BLACKOUT, CROSSFADE, PARAM, RELOAD, KEYSTONE, CORNER,
                           BLEND, REGION, CALIBRATION_RESET)
IN_BY_PATH: dict[str, Address] = {a.path: a for a in IN}

# Sent by the renderer to osc.targets and to whoever sent control messages lately.
STATUS_ERROR = Address("/status/error", "sis", "file, line, message", None, None, "out",
                       "a scene failed to load or compile: the file, the line (0 when "
                       "unknown) and the driver's message; the last good scene stays on screen")
STATUS_RELOADED = Address("/status/reloaded", "s", "scene", None, None, "out",
                          "a scene was reloaded from disk after a save")
STATUS_FRAME = Address("/status/frame", "ffffi", "fps, ms, ms, ms, frames", 0.0, None, "out",
                       "frame pacing every render.status_interval_s: frames per second, mean "
                       "and worst frame time (ms), age of the latest feature frame (ms; -1 "
                       "before the first), dropped frames (frames that took longer than 1.5 "
                       "refresh periods) since the last report")
STATUS: tuple[Address, ...] = (STATUS_ERROR, STATUS_RELOADED, STATUS_FRAME)

# Sent by the engine next to the feature bundles, as single messages (not frame fields).
AUDIO_TEXTURE = Address("/audio/texture", "bb", "bytes", 0.0, 255.0, "out",
                        "the Shadertoy audio texture (`u_audio`), measured ~60 times per "
                        "second from the latest 2048 samples like WebAudio's AnalyserNode "
                        "(Blackman window, smoothing 0.8): blob 1 the spectrum, 512 uint8 as "
                        "`getByteFrequencyData` (bin k at k·sr/2048 Hz, -100..-30 dB → "
                        "0..255), blob 2 the waveform, 512 uint8 as `getByteTimeDomainData` "
                        "(the newest 512 samples, 128 = silence)")
STREAMS: tuple[Address, ...] = (AUDIO_TEXTURE,)
FEATURE_BY_PATH: dict[str, Address] = {a.path: a for a in OUT if a.feature}

if sorted(_FEATURE_PATHS) != sorted(FEATURE_NAMES):
    raise RuntimeError("every feature needs exactly one OSC address")


def markdown(prefix: str = "/her") -> str:
    """The namespace as Markdown tables (the body of docs/osc.md)."""

    def rng(a: Address) -> str:
        if a.lo is None and a.hi is None:
            return ""
        return f"{a.lo:g} … {a.hi:g}" if a.hi is not None else f"≥ {a.lo:g}"

    lines = ["### Sent by the engine (one bundle per audio block, in this order)", "",
             "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in OUT]
    lines += ["", "### Received on the control port", "",
              "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in IN]
    lines += ["", "### Status sent by the renderer (to `osc.targets` and recent controllers)",
              "", "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in STATUS]
    lines += ["", "### Other streams sent by the engine (single messages, not in the bundles)",
              "", "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in STREAMS]
    return "\n".join(lines) + "\n"
