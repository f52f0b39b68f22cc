"""show.toml → typed, validated configuration. The only TOML reader in the project.

Every key has a default, so an empty file is a valid show. Each section is a frozen
dataclass whose fields carry their own schema (type, range, choices, description) in
``metadata``; :func:`load_show` checks every key against it and raises
:class:`ConfigError` naming the file, the key and what was expected. The same schema
generates ``docs/show.md`` (:func:`schema_markdown`), so docs cannot drift from code.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from installation import resources
from installation.analysis.taps import RESTART_S


class ConfigError(Exception):
    """A show.toml problem; ``str()`` is the full message for the operator."""

    def __init__(self, path: Path | str, key: str, expected: str, got: Any = None) -> None:
        self.path = str(path)
        self.key = key
        self.expected = expected
        self.got = got
        where = f"{self.path}: {key}" if key else self.path
        message = f"{where}: expected {expected}"
        if got is not None:
            message += f", got {got!r}"
        super().__init__(message)


def _f(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
       choices: tuple[str, ...] | None = None, kind: str | None = None) -> Any:
    """A schema'd dataclass field: default, description, optional range/choices/kind."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "kind": kind}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AudioConfig:
    backend: str = _f("auto", "audio backend for live shows and windowed rehearsal: `auto` "
                      "tries JACK (if a server runs), then PortAudio (if a device exists), "
                      "else runs silently on the wall clock",
                      choices=("auto", "jack", "portaudio", "silent"))
    sample_rate: int = _f(48000, "engine sample rate in Hz (files are resampled to it)",
                          lo=8000, hi=192000)
    block_size: int = _f(256, "samples per audio block; one feature frame per block. The "
                         "gap detector was fitted at 256 and hears the same gaps at every "
                         "size; a larger block places its boundaries less finely (to about "
                         "half a block) and decides later",
                         choices=("64", "128", "256", "512", "1024", "2048"), kind="int_choice")
    input_channel: int = _f(0, "input channel (0-based) listened to in live shows", lo=0, hi=63)
    jack_client: str = _f("her", "JACK client name")


@dataclass(frozen=True)
class RehearseConfig:
    file: str = _f("", "audio file rehearsed when `installation rehearse` gets none; empty "
                   "means the bundled piece `audio/between_the_words.flac`. Relative paths "
                   "are relative to the show file")
    render_path: str = _f("rehearsal.mp4", "where a headless rehearsal writes its preview video")


@dataclass(frozen=True)
class AnalysisConfig:
    pitch_min_hz: float = _f(60.0, "lowest pitch the tracker reports (Hz)", lo=30.0, hi=500.0)
    pitch_max_hz: float = _f(1000.0, "highest pitch the tracker reports (Hz)", lo=200.0, hi=2000.0)
    voicing_threshold: float = _f(0.5, "voicing confidence above which a pitch is reported",
                                  lo=0.0, hi=1.0)
    onset_threshold_db: float = _f(6.0, "rise (dB) of the fast envelope over the slow one "
                                   "that counts as an onset", lo=0.5, hi=40.0)
    onset_refractory_s: float = _f(0.08, "minimum time between two onsets (s)", lo=0.01, hi=1.0)
    vad_margin_db: float = _f(14.0, "margin (dB) over the noise floor of the first, "
                              "level-only voice tracker (analysis/voice.py); the gap detector "
                              "does not use it", lo=3.0, hi=40.0)
    vad_floor_db: float = _f(-55.0, "absolute level (dBFS) below which no pitch or centroid "
                             "is reported", lo=-100.0, hi=-10.0)
    word_min_s: float = _f(0.18, "voice must last this long to start a word (s); shorter "
                           "blips (a pluck in a pause) do not split a gap", lo=0.0, hi=1.0)
    hangover_s: float = _f(0.05, "silence must last this long before a gap start is emitted "
                           "(s), to the nearest block (a block lasts 32 ms at 8 kHz); the "
                           "gap is back-dated to where the silence began", lo=0.02, hi=2.0)
    gap_min_s: float = _f(0.1, "shortest pause reported as a gap (s) by `installation gaps`; "
                          "a shorter pause still sends gap start/end", lo=0.02, hi=5.0)
    gap_threshold: float = _f(0.5, "voice likelihood above which a block is voice (a word "
                              "ends when the smoothed likelihood falls below 0.7 of it)",
                              lo=0.05, hi=0.95)
    gap_floor_db: float = _f(-90.0, "absolute level (dBFS) below which nothing is voice",
                             lo=-120.0, hi=-20.0)
    gap_floor_window_s: float = _f(3.0, "the gap detector's band floors are the quietest "
                                   "100 ms of this many seconds, and its typical levels the "
                                   "median 100 ms (s)", lo=0.5, hi=30.0)
    gap_noise_floor_db: float = _f(0.0, "fixed noise floor (dBFS RMS, whole band) instead of "
                                   "the self-calibrated one; 0 calibrates itself",
                                   lo=-120.0, hi=0.0)
    gap_gate_db: float = _f(3.0, "the floor gate: when no band of the gap detector has its "
                            "mean over the last 20 ms this far (dB) over its floor for "
                            "50 ms, that is a "
                            "pause, whatever the network hears in the room's ripple (a mains "
                            "hum's harmonics); 0 turns the gate off", lo=0.0, hi=20.0)
    gap_restart_s: float = _f(RESTART_S, "after this long (s) of digital silence (a player's "
                              "zeros, under -120 dB) the gap detector's fine spectrum (its "
                              "partial meter, at engine rates under 32 kHz) starts afresh on "
                              "the next sound, so a song after a pause between cues is not "
                              "heard against the silence; its band floors keep the silence, "
                              "as a word after it is heard; 0 never restarts", lo=0.0, hi=600.0)


@dataclass(frozen=True)
class OscConfig:
    prefix: str = _f("/her", "address prefix of everything sent and received")
    host: str = _f("127.0.0.1", "where the renderer listens for feature frames")
    feature_port: int = _f(9000, "UDP port the renderer listens on for feature bundles",
                           lo=1, hi=65535)
    control_port: int = _f(9001, "UDP port for control messages (scene, master, blackout)",
                           lo=1, hi=65535)
    control_host: str = _f("0.0.0.0", "interface the control port binds to")
    targets: list = _f([], "extra `host:port` destinations that receive every feature "
                       "bundle (lights, TouchDesigner, Max, …)", kind="hostports")
    allow: list = _f([], "IP addresses or networks (CIDR) allowed to send control messages; "
                     "empty allows everyone", kind="networks")


@dataclass(frozen=True)
class RenderConfig:
    scene: str = _f("os1", "scene shown at start (a file name in `shaders/` without .frag)")
    width: int = _f(1280, "output width in pixels", lo=16, hi=16384)
    height: int = _f(720, "output height in pixels", lo=16, hi=16384)
    fps: int = _f(30, "frames per second of preview videos", lo=1, hi=240)
    fullscreen: bool = _f(False, "open the window fullscreen (gallery mode)")
    master: float = _f(1.0, "initial master level", lo=0.0, hi=1.0)
    crossfade_s: float = _f(1.5, "crossfade between scenes (s); 0 cuts. OSC `/crossfade` "
                            "changes it while running", lo=0.0, hi=60.0)
    param_smoothing_s: float = _f(0.25, "time constant (s) with which a scene parameter set "
                                  "over OSC glides to its new value (no zipper steps); 0 jumps",
                                  lo=0.0, hi=10.0)
    flash_guard: bool = _f(True, "photosensitive safety: never more than 3 large-area "
                           "luminance flashes per second in the output, whatever a scene does")
    hot_reload: bool = _f(True, "reload a scene within 0.5 s when its shader file (or a file "
                          "it includes) is saved; a broken save keeps the last good version")
    vsync: bool = _f(True, "wait for the display's refresh (no tearing)")
    status_interval_s: float = _f(1.0, "how often frame pacing (frame time, dropped frames, "
                                  "feature age) is sent over OSC `/status/frame` (s)",
                                  lo=0.1, hi=60.0)
    calibration: str = _f("calibration.json", "where output calibration (keystone, blend, "
                          "region) changed over OSC is kept, saved atomically; it overrides "
                          "the `[[outputs]]` values at start. Relative to the show file")


@dataclass(frozen=True)
class OutputConfig:
    """One projector: a window on a monitor showing a region of the shared canvas
    (render.width x render.height), keystoned and soft-edge blended."""

    name: str = _f("", "a name for logs and OSC replies (default `output N`)")
    monitor: str = _f("", "monitor to open on: its name as the OS reports it (e.g. "
                      "`HDMI-1`), or its index (`0`, `1`); empty: the primary monitor")
    fullscreen: bool = _f(True, "cover the monitor: a borderless window at the monitor's "
                          "position and size, no cursor (false: a window at `position`/`size`)")
    position: list = _f([0, 0], "window position in screen pixels when not fullscreen",
                        kind="ints2")
    size: list = _f([0, 0], "window / output size in pixels; [0, 0]: the monitor's size "
                    "(fullscreen) or the region's share of the canvas", kind="ints2")
    region: list = _f([0.0, 0.0, 1.0, 1.0], "the part of the canvas it shows: x0, y0, x1, y1 "
                      "as fractions of the canvas (y up); overlap neighbours by the blend "
                      "width", kind="region")
    keystone: list = _f([0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], "where the picture's "
                        "corners land, as fractions of the output (x right, y up): "
                        "bottom-left x y, bottom-right, top-right, top-left (a homography)",
                        kind="keystone")
    blend_left: float = _f(0.0, "soft-edge width on the left, fraction of the output",
                           lo=0.0, hi=0.5)
    blend_right: float = _f(0.0, "soft-edge width on the right", lo=0.0, hi=0.5)
    blend_top: float = _f(0.0, "soft-edge width at the top", lo=0.0, hi=0.5)
    blend_bottom: float = _f(0.0, "soft-edge width at the bottom", lo=0.0, hi=0.5)
    blend_gamma: float = _f(2.2, "the projector's gamma, so the light of two overlapping "
                            "edges sums to one", lo=0.5, hi=4.0)
    blend_curve: float = _f(0.5, "shape of the edge ramp: 0 linear, 1 smooth S", lo=0.0,
                            hi=1.0)


@dataclass(frozen=True)
class ShowConfig:
    """The whole show. ``path`` is the file it came from (None for built-in defaults)."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    rehearse: RehearseConfig = field(default_factory=RehearseConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    osc: OscConfig = field(default_factory=OscConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    scenes: dict = field(default_factory=dict)
    outputs: tuple = ()          # OutputConfig, one per projector ([[outputs]])
    path: Path | None = None


SECTIONS: dict[str, type] = {
    "audio": AudioConfig,
    "rehearse": RehearseConfig,
    "analysis": AnalysisConfig,
    "osc": OscConfig,
    "render": RenderConfig,
}


_NUMBER_LISTS = {"ints2": (2, int), "region": (4, float), "keystone": (8, float)}


def _type_name(tp: Any, kind: str | None) -> str:
    if kind in _NUMBER_LISTS:
        n, t = _NUMBER_LISTS[kind]
        return f"a list of {n} {'integers' if t is int else 'numbers'}" + (
            " [x0, y0, x1, y1] from 0 to 1 with x0 < x1, y0 < y1" if kind == "region" else
            " (4 corners x y, each from -1 to 2)" if kind == "keystone" else "")
    if kind == "hostports":
        return 'a list of "host:port" strings'
    if kind == "networks":
        return 'a list of IP addresses or CIDR networks, e.g. "192.168.1.0/24"'
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string",
            list: "a list"}.get(tp, str(tp))


def _check_value(path: Path | str, key: str, fld: dataclasses.Field, value: Any) -> Any:
    meta = fld.metadata
    tp = {"int": int, "float": float, "bool": bool, "str": str, "list": list}[str(fld.type)]
    kind, lo, hi, choices = meta["kind"], meta["lo"], meta["hi"], meta["choices"]
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, tp) or (tp is not bool and isinstance(value, bool)):
        raise ConfigError(path, key, _type_name(tp, kind), value)
    if kind == "int_choice":
        if str(value) not in choices:
            raise ConfigError(path, key, "one of " + ", ".join(choices), value)
    elif choices is not None and value not in choices:
        raise ConfigError(path, key, "one of " + ", ".join(f'"{c}"' for c in choices), value)
    if lo is not None and value < lo or hi is not None and value > hi:
        raise ConfigError(path, key, f"a value from {lo:g} to {hi:g}", value)
    if kind in _NUMBER_LISTS:
        n, t = _NUMBER_LISTS[kind]
        ok = len(value) == n and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and (t is float or isinstance(v, int)) for v in value)
        if ok and kind == "region":
            ok = all(0 <= v <= 1 for v in value) and value[0] < value[2] and value[1] < value[3]
        if ok and kind == "keystone":
            ok = all(-1 <= v <= 2 for v in value)
        if ok and kind == "ints2":
            ok = all(0 <= v <= 65535 for v in value)
        if not ok:
            raise ConfigError(path, key, _type_name(list, kind), value)
        value = [t(v) for v in value]
    if kind == "hostports":
        value = [_check_hostport(path, f"{key}[{i}]", v) for i, v in enumerate(value)]
    if kind == "networks":
        for i, v in enumerate(value):
            try:
                ipaddress.ip_network(str(v), strict=False)
            except ValueError:
                raise ConfigError(path, f"{key}[{i}]", _type_name(list, kind), v) from None
    if key.endswith("prefix") and (not value.startswith("/") or value.endswith("/")
                                   or " " in value):
        raise ConfigError(path, key, 'an OSC address prefix like "/her"', value)
    return value


def _check_hostport(path: Path | str, key: str, value: Any) -> str:
    expected = 'a "host:port" string with a port from 1 to 65535'
    if not isinstance(value, str) or value.count(":") != 1:
        raise ConfigError(path, key, expected, value)
    host, port = value.split(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(path, key, expected, value)
    return value


def _section(path: Path | str, name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(path, name, "a table ([" + name + "])", raw)
    known = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(path, f"{name}.{key}",
                              "one of the keys " + ", ".join(known) + " (unknown key)")
        values[key] = _check_value(path, f"{name}.{key}", known[key], value)
    return cls(**values)


def _scenes(path: Path | str, raw: Any) -> dict[str, dict[str, float]]:
    # Scene parameters are checked against each scene's own header by the renderer;
    # here only their shape is checked: [scenes.NAME] tables of numbers.
    if not isinstance(raw, Mapping):
        raise ConfigError(path, "scenes", "a table of [scenes.NAME] tables", raw)
    out: dict[str, dict[str, float]] = {}
    for scene, params in raw.items():
        if not isinstance(params, Mapping):
            raise ConfigError(path, f"scenes.{scene}", "a table of parameter = number", params)
        for key, value in params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(path, f"scenes.{scene}.{key}", "a number", value)
        out[str(scene)] = {str(k): float(v) for k, v in params.items()}
    return out


def parse_show(data: Mapping[str, Any], path: Path | str = "<show>") -> ShowConfig:
    """Validate an already-parsed TOML mapping into a :class:`ShowConfig`."""
    kwargs: dict[str, Any] = {}
    for key, raw in data.items():
        if key in SECTIONS:
            kwargs[key] = _section(path, key, SECTIONS[key], raw)
        elif key == "scenes":
            kwargs[key] = _scenes(path, raw)
        elif key == "outputs":
            if not isinstance(raw, list):
                raise ConfigError(path, "outputs", "an array of tables ([[outputs]])", raw)
            kwargs[key] = tuple(_section(path, f"outputs[{i}]", OutputConfig, item)
                                for i, item in enumerate(raw))
        else:
            raise ConfigError(path, key, "one of the sections " + ", ".join(
                [*SECTIONS, "scenes", "outputs"]) + " (unknown section)")
    show = ShowConfig(**kwargs, path=Path(path) if path != "<show>" else None)
    if show.osc.feature_port == show.osc.control_port:
        raise ConfigError(path, "osc.control_port", "a port different from osc.feature_port",
                          show.osc.control_port)
    if show.analysis.pitch_min_hz >= show.analysis.pitch_max_hz:
        raise ConfigError(path, "analysis.pitch_max_hz", "a value above analysis.pitch_min_hz",
                          show.analysis.pitch_max_hz)
    return show


def load_show(path: Path | str) -> ShowConfig:
    """Read and validate one show file. Raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, "", f"a readable show file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"valid TOML ({exc})") from None
    return parse_show(data, path)


def default_show_path(cwd: Path | None = None) -> Path:
    """``./show.toml`` if it exists, else the bundled default show."""
    local = (cwd or Path.cwd()) / "show.toml"
    return local if local.is_file() else resources.data_path("show.toml")


def rehearsal_file(show: ShowConfig) -> Path:
    """The audio file a rehearsal uses when none is given on the command line."""
    if not show.rehearse.file:
        return resources.data_path("audio", "between_the_words.flac")
    p = Path(show.rehearse.file).expanduser()
    if not p.is_absolute() and show.path is not None:
        p = show.path.parent / p
    return p


def schema_markdown() -> str:
    """Every show.toml key with its default, range and meaning, as Markdown."""
    lines = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    for name, cls in SECTIONS.items():
        for fld in dataclasses.fields(cls):
            meta = fld.metadata
            default = (fld.default if fld.default is not dataclasses.MISSING
                       else fld.default_factory())
            if meta["choices"]:
                allowed = ", ".join(meta["choices"])
            elif meta["lo"] is not None:
                allowed = f"{meta['lo']:g} … {meta['hi']:g}"
            else:
                allowed = _type_name({"int": int, "float": float, "bool": bool, "str": str,
                                      "list": list}[str(fld.type)], meta["kind"])
            lines.append(f"| `{name}.{fld.name}` | `{_toml(default)}` | {allowed} "
                         f"| {meta['doc']} |")
    lines.append("| `scenes.NAME.PARAM` | the scene's header default | the scene's MIN … MAX "
                 "| a scene parameter, e.g. `[scenes.os1]` `glow = 0.8` |")
    for fld in dataclasses.fields(OutputConfig):
        meta = fld.metadata
        default = fld.default if fld.default is not dataclasses.MISSING else fld.default_factory()
        if meta["lo"] is not None:
            allowed = f"{meta['lo']:g} … {meta['hi']:g}"
        else:
            allowed = _type_name({"int": int, "float": float, "bool": bool, "str": str,
                                  "list": list}[str(fld.type)], meta["kind"])
        lines.append(f"| `outputs[N].{fld.name}` | `{_toml(default)}` | {allowed} | "
                     f"{meta['doc']} |")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
