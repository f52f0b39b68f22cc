"""The uniform convention: feature frames + injected time -> a dict of GLSL uniforms.

Pure python/numpy, no GL. :data:`STANDARD_UNIFORMS` is the single list of the uniforms
every scene receives; the scene loader declares them in the generated prelude and
``docs/shaders.md`` documents them.

Time is always an argument (seconds, float): this module never reads a clock, so a file
position, a replay or a test can drive it. Every smoothing is a one-pole exponential
stepped by the elapsed time, so the result does not depend on how often it is updated:
inputs are sample-and-hold between frames, and a one-pole filter stepped by ``dt`` twice
equals one step of ``2 dt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from installation.features import FEATURE_NAMES, SPEC_BY_NAME, FeatureFrame

UniformValue = float | int | bool | tuple[float, ...]


@dataclass(frozen=True, slots=True)
class UniformSpec:
    """One uniform of the convention: GLSL name and type, unit or range, meaning."""

    name: str
    glsl_type: str
    unit: str
    meaning: str


# Raw features become u_<name>, except `voice`: its raw 0/1 gate is u_voice_gate because
# u_voice is the smoothed helper that scenes actually want.
RAW_FEATURE_UNIFORM: dict[str, str] = {
    name: ("u_voice_gate" if name == "voice" else f"u_{name}") for name in FEATURE_NAMES
}

_HELPERS: tuple[UniformSpec, ...] = (
    UniformSpec("u_time", "float", "s",
                "injected time since the renderer started (preview: video time)"),
    UniformSpec("u_resolution", "vec2", "px", "size of the render target (width, height)"),
    UniformSpec("u_level", "float", "0..1",
                "level_rms_db mapped -60 dB -> 0, 0 dB -> 1; attack 30 ms, release 300 ms"),
    UniformSpec("u_low", "float", "0..1", "band_low_db, same mapping and smoothing as u_level"),
    UniformSpec("u_mid", "float", "0..1", "band_mid_db, same mapping and smoothing as u_level"),
    UniformSpec("u_high", "float", "0..1",
                "band_high_db, same mapping and smoothing as u_level"),
    UniformSpec("u_voice", "float", "0..1",
                "smoothed voice activity (time constant 150 ms); 1 while a word is spoken"),
    UniformSpec("u_gap", "float", "0..1",
                "openness of the pause: 0 while speaking, 1 - exp(-gap_s / 3 s) in a pause "
                "(gap_s extrapolated between frames); decays with a 0.6 s time constant "
                "when the next word starts, and a pause that follows reopens from what is "
                "left (a 0.15 s blip dims an open space by ~20 %, a sentence closes it)"),
    UniformSpec("u_onset_pulse", "float", "0..1",
                "1 on an onset (pluck, consonant), then decays exp(-t / 250 ms)"),
    UniformSpec("u_word_pulse", "float", "0..1",
                "1 when the voice turns on (a word starts), then decays exp(-t / 400 ms)"),
    UniformSpec("u_gap_pulse", "float", "0..1",
                "1 when the voice turns off (a pause starts), then decays exp(-t / 800 ms)"),
    UniformSpec("u_pitch", "float", "0..1",
                "pitch_hz log-mapped 80 Hz -> 0, 800 Hz -> 1; held while unvoiced; 80 ms"),
    UniformSpec("u_music", "float", "0..1",
                "the room's music: u_level while no voice is heard, smoothed slowly "
                "(attack 1.5 s, release 4 s); for ambient layers that gather with the music"),
    UniformSpec("u_voice_time", "float", "s",
                "seconds of voice so far: the time integral of u_voice (a pen that only "
                "moves while she speaks); stops in pauses"),
    UniformSpec("u_scene_time", "float", "s",
                "seconds since this scene first appeared on screen (the renderer sets it per "
                "scene, so a crossfade starts the new scene at 0)"),
    UniformSpec("u_audio", "sampler2D", "512x2",
                "Shadertoy-compatible audio texture: row 0 (y 0.25) spectrum 0..11 kHz, "
                "row 1 (y 0.75) waveform; synthesised from the features (installation/"
                "render/audiotex.py); the value is its texture unit"),
    UniformSpec("u_master", "float", "0..1",
                "output level set by the operator (smoothed 150 ms); the final pass applies it"),
    UniformSpec("u_blackout", "float", "0..1",
                "blackout fade: 0 normal, 1 black; linear ramp over 1 s; the final pass "
                "applies it"),
)

_RAW: tuple[UniformSpec, ...] = tuple(
    UniformSpec(
        RAW_FEATURE_UNIFORM[name], "float", SPEC_BY_NAME[name].unit,
        f"raw feature `{name}`: {SPEC_BY_NAME[name].description}",
    )
    for name in FEATURE_NAMES
)

#: Every uniform a scene receives (besides its own ``p_<name>`` parameters).
STANDARD_UNIFORMS: tuple[UniformSpec, ...] = _HELPERS + _RAW


@dataclass(frozen=True, slots=True)
class Smoothing:
    """Time constants of the helpers, in seconds."""

    level_attack_s: float = 0.030
    level_release_s: float = 0.300
    level_floor_db: float = -60.0
    voice_s: float = 0.150
    gap_scale_s: float = 3.0  # in a pause u_gap = 1 - exp(-gap_s / gap_scale_s)
    gap_fall_s: float = 0.60  # when a word starts, u_gap decays with this time constant
    onset_pulse_s: float = 0.250
    word_pulse_s: float = 0.400
    gap_pulse_s: float = 0.800
    pitch_s: float = 0.080
    pitch_lo_hz: float = 80.0
    pitch_hi_hz: float = 800.0
    music_attack_s: float = 1.5
    music_release_s: float = 4.0
    master_s: float = 0.150
    blackout_s: float = 1.0  # duration of the linear blackout ramp

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name.endswith("_s") and not value > 0:
                raise ValueError(f"Smoothing.{name} must be > 0 seconds, got {value!r}")
        if not self.pitch_hi_hz > self.pitch_lo_hz > 0:
            raise ValueError("Smoothing needs 0 < pitch_lo_hz < pitch_hi_hz")
        if not self.level_floor_db < 0:
            raise ValueError("Smoothing.level_floor_db must be < 0 dBFS")


def level_to_unit(db: float, *, floor_db: float = -60.0) -> float:
    """Map dBFS to 0..1: ``floor_db`` -> 0, 0 dBFS -> 1, clipped."""
    return min(1.0, max(0.0, (float(db) - floor_db) / -floor_db))


def pitch_to_unit(hz: float, *, lo_hz: float = 80.0, hi_hz: float = 800.0) -> float:
    """Map a frequency (Hz) log-linearly to 0..1 between ``lo_hz`` and ``hi_hz``, clipped."""
    if hz <= 0:
        return 0.0
    return min(1.0, max(0.0, math.log(hz / lo_hz) / math.log(hi_hz / lo_hz)))


def gap_to_unit(gap_s: float, *, scale_s: float = 3.0) -> float:
    """Openness of a pause that has lasted ``gap_s`` seconds: ``1 - exp(-gap_s / scale_s)``."""
    return 1.0 - math.exp(-max(0.0, float(gap_s)) / scale_s)


def unit_to_gap(unit: float, *, scale_s: float = 3.0) -> float:
    """The pause length (s) whose openness is ``unit``: the inverse of :func:`gap_to_unit`."""
    return -scale_s * math.log(1.0 - min(max(float(unit), 0.0), 0.999))


def _approach(y: float, target: float, dt: float, tau: float) -> float:
    return target + (y - target) * math.exp(-dt / tau)


def param_uniforms(inputs: Sequence, values: Mapping[str, object] | None = None
                   ) -> dict[str, UniformValue]:
    """``p_<name>`` uniforms for a scene's declared inputs.

    ``inputs`` are :class:`installation.render.scene.SceneInput`; ``values`` override the
    defaults by input name and are clamped to MIN/MAX. Unknown names raise ``KeyError``
    naming the known ones, so a typo in show.toml or an OSC address is reported.
    """
    values = dict(values or {})
    by_name = {inp.name: inp for inp in inputs}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise KeyError(f"unknown scene parameter(s) {unknown}; known: {sorted(by_name)}")
    return {f"p_{inp.name}": inp.coerce(values.get(inp.name, inp.default)) for inp in inputs}


class UniformState:
    """Turns successive feature frames and an injected time into uniforms.

    Call :meth:`update` with each new frame (or ``None``) and the current time in
    seconds; :meth:`uniforms` returns the dict for the renderer. A frame equal to the
    previous one (same ``block`` and ``time``) is not applied twice, so a source that
    repeats its latest frame does not retrigger pulses.
    """

    def __init__(self, *, size: tuple[int, int] = (1280, 720),
                 smoothing: Smoothing | None = None, master: float = 1.0) -> None:
        self.smoothing = smoothing or Smoothing()
        self.size = (int(size[0]), int(size[1]))
        self._time: float | None = None
        self._frame: FeatureFrame | None = None
        s = self.smoothing
        self._raw: dict[str, float] = {name: 0.0 for name in FEATURE_NAMES}
        for name in ("level_rms_db", "level_peak_db", "band_low_db", "band_mid_db",
                     "band_high_db"):
            self._raw[name] = -120.0
        # Targets (sample-and-hold of the latest frame) and smoothed values.
        self._target = {"level": 0.0, "low": 0.0, "mid": 0.0, "high": 0.0, "voice": 0.0,
                        "pitch": pitch_to_unit(200.0, lo_hz=s.pitch_lo_hz,
                                               hi_hz=s.pitch_hi_hz)}
        self._value = dict(self._target, gap=0.0, music=0.0)
        self._voice_time = 0.0
        # The pause length grows between frames: (gap_s, injected time it was true at),
        # or None while speaking.
        self._gap_ref: tuple[float, float] | None = None
        self._gap_raw = 0.0  # the last frame's gap_s, to keep the carried part apart
        self._pulse = {"onset": 0.0, "word": 0.0, "gap": 0.0}
        self._voice_on = False
        self._master_target = self._master = min(1.0, max(0.0, float(master)))
        self._blackout_on = False
        self._blackout = 0.0
        self.params: dict[str, UniformValue] = {}
        #: time constant (s) with which :meth:`set_param` glides to a new value (0: jump)
        self.param_smoothing_s = 0.0
        self._param_targets: dict[str, UniformValue] = {}

    # -- controls -------------------------------------------------------------------
    def set_master(self, level: float) -> None:
        """Output level 0..1 (clipped); ``u_master`` follows it smoothly."""
        self._master_target = min(1.0, max(0.0, float(level)))

    def set_blackout(self, on: bool) -> None:
        """Fade to black (``True``) or back (``False``) over ``smoothing.blackout_s``."""
        self._blackout_on = bool(on)

    def set_params(self, inputs: Sequence, values: Mapping[str, object] | None = None) -> None:
        """Replace the ``p_<name>`` uniforms with a scene's inputs (defaults + ``values``)."""
        self._inputs = {inp.name: inp for inp in inputs}
        self.params = param_uniforms(inputs, values)
        self._param_targets = {}

    def set_param(self, name: str, value: object, *, smooth: bool = True) -> None:
        """Set one parameter of the current scene (clamped); ``KeyError`` if unknown.

        Numbers and vectors glide there with time constant :attr:`param_smoothing_s`
        (an operator's fader must not step visibly: no zipper noise); ``long`` and
        ``bool`` parameters, and ``smooth=False``, jump.
        """
        inputs = getattr(self, "_inputs", {})
        if name not in inputs:
            raise KeyError(f"unknown scene parameter {name!r}; known: {sorted(inputs)}")
        key, value = f"p_{name}", inputs[name].coerce(value)
        if (smooth and self.param_smoothing_s > 0
                and inputs[name].type in ("float", "color", "point2D")):
            self._param_targets[key] = value
        else:
            self._param_targets.pop(key, None)
            self.params[key] = value

    # -- time -----------------------------------------------------------------------
    @property
    def time(self) -> float:
        """The last injected time (s); 0 before the first update."""
        return 0.0 if self._time is None else self._time

    def update(self, frame: FeatureFrame | None, time: float) -> None:
        """Advance to ``time`` (s), then apply ``frame`` if it is new.

        Times that go backwards are treated as no elapsed time (a clock reset must not
        make the filters explode).
        """
        time = float(time)
        dt = 0.0 if self._time is None else max(0.0, time - self._time)
        self._time = time if self._time is None else max(self._time, time)
        if dt > 0:
            self._step(dt)
        if frame is not None and not self._same_as_last(frame):
            self._apply(frame)

    def advance(self, time: float) -> None:
        """Advance to ``time`` (s) without a new frame: pulses decay, smoothing goes on."""
        self.update(None, time)

    def feed(self, frames: Iterable[FeatureFrame]) -> None:
        """Apply frames in order, each at its own ``.time``."""
        for frame in frames:
            self.update(frame, frame.time)

    def _same_as_last(self, frame: FeatureFrame) -> bool:
        last = self._frame
        return last is not None and last.block == frame.block and last.time == frame.time

    def _step(self, dt: float) -> None:
        s = self.smoothing
        v, tg = self._value, self._target
        for key in ("level", "low", "mid", "high"):
            tau = s.level_attack_s if tg[key] > v[key] else s.level_release_s
            v[key] = _approach(v[key], tg[key], dt, tau)
        voice_before = v["voice"]
        v["voice"] = _approach(v["voice"], tg["voice"], dt, s.voice_s)
        # exact integral of the one-pole's path over dt (area under the exponential)
        self._voice_time += tg["voice"] * dt + (voice_before - v["voice"]) * s.voice_s
        music = tg["level"] * (1.0 - tg["voice"])
        v["music"] = _approach(v["music"], music, dt, s.music_attack_s
                               if music > v["music"] else s.music_release_s)
        # In a pause u_gap follows the (extrapolated) pause length directly: it is already
        # smooth. When a word starts it decays from wherever it was; a new pause takes over
        # once it has opened further than the decaying value.
        v["gap"] = max(v["gap"] * math.exp(-dt / s.gap_fall_s), self._gap_target())
        v["pitch"] = _approach(v["pitch"], tg["pitch"], dt, s.pitch_s)
        self._pulse["onset"] *= math.exp(-dt / s.onset_pulse_s)
        self._pulse["word"] *= math.exp(-dt / s.word_pulse_s)
        self._pulse["gap"] *= math.exp(-dt / s.gap_pulse_s)
        self._master = _approach(self._master, self._master_target, dt, s.master_s)
        if self._param_targets:
            k = math.exp(-dt / self.param_smoothing_s)
            for key, target in list(self._param_targets.items()):
                cur = self.params[key]
                if isinstance(target, tuple):
                    new = tuple(b + (a - b) * k for a, b in zip(cur, target))
                    done = all(abs(a - b) < 1e-5 for a, b in zip(new, target))
                else:
                    new = target + (cur - target) * k
                    done = abs(new - target) < 1e-5
                self.params[key] = target if done else new
                if done:
                    del self._param_targets[key]
        ramp = dt / s.blackout_s
        if self._blackout_on:
            self._blackout = min(1.0, self._blackout + ramp)
        else:
            self._blackout = max(0.0, self._blackout - ramp)

    def _apply(self, frame: FeatureFrame) -> None:
        s = self.smoothing
        self._frame = frame
        for name in FEATURE_NAMES:
            value = float(getattr(frame, name))
            self._raw[name] = value if math.isfinite(value) else 0.0
        raw, tg = self._raw, self._target
        tg["level"] = level_to_unit(raw["level_rms_db"], floor_db=s.level_floor_db)
        tg["low"] = level_to_unit(raw["band_low_db"], floor_db=s.level_floor_db)
        tg["mid"] = level_to_unit(raw["band_mid_db"], floor_db=s.level_floor_db)
        tg["high"] = level_to_unit(raw["band_high_db"], floor_db=s.level_floor_db)
        voice_on = raw["voice"] >= 0.5
        tg["voice"] = 1.0 if voice_on else 0.0
        if voice_on:
            self._gap_ref = None
        elif self._gap_ref is None:
            # A pause (re)opens from wherever the space still is: a blip of a word (a
            # pluck taken for a syllable) dims it a little instead of closing it, while a
            # real sentence has let it fall back to ~0 by then.
            carried = unit_to_gap(self._value["gap"], scale_s=s.gap_scale_s)
            self._gap_ref = (carried + max(0.0, raw["gap_s"]), self.time)
        else:
            carried = self._gap_ref[0] - self._gap_raw
            self._gap_ref = (carried + max(0.0, raw["gap_s"]), self.time)
        self._gap_raw = 0.0 if voice_on else max(0.0, raw["gap_s"])
        self._value["gap"] = max(self._value["gap"], self._gap_target())
        if raw["pitch_hz"] > 0:
            tg["pitch"] = pitch_to_unit(raw["pitch_hz"], lo_hz=s.pitch_lo_hz,
                                        hi_hz=s.pitch_hi_hz)
        if raw["onset"] >= 0.5:
            self._pulse["onset"] = 1.0
        if voice_on and not self._voice_on:
            self._pulse["word"] = 1.0
        elif self._voice_on and not voice_on:
            self._pulse["gap"] = 1.0
        self._voice_on = voice_on

    def _gap_target(self) -> float:
        if self._gap_ref is None:
            return 0.0
        gap_s, since = self._gap_ref
        return gap_to_unit(gap_s + (self.time - since), scale_s=self.smoothing.gap_scale_s)

    # -- output ---------------------------------------------------------------------
    def uniforms(self) -> dict[str, UniformValue]:
        """All standard uniforms plus the current scene's ``p_<name>`` parameters."""
        v, p = self._value, self._pulse
        out: dict[str, UniformValue] = {
            "u_time": self.time,
            "u_resolution": (float(self.size[0]), float(self.size[1])),
            "u_level": v["level"], "u_low": v["low"], "u_mid": v["mid"],
            "u_high": v["high"], "u_voice": v["voice"], "u_gap": v["gap"],
            "u_onset_pulse": p["onset"], "u_word_pulse": p["word"], "u_gap_pulse": p["gap"],
            "u_pitch": v["pitch"], "u_master": self._master, "u_blackout": self._blackout,
            "u_music": v["music"], "u_voice_time": self._voice_time,
            "u_scene_time": self.time, "u_audio": 0,
        }
        for name in FEATURE_NAMES:
            out[RAW_FEATURE_UNIFORM[name]] = self._raw[name]
        out.update(self.params)
        return out
