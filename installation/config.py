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
    block_size: int = _f(256, "samples per audio block; one feature frame per block",
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
    vad_margin_db: float = _f(14.0, "a block is voice when its level exceeds the tracked "
                              "noise floor by this much (dB)", lo=3.0, hi=40.0)
    vad_floor_db: float = _f(-55.0, "absolute level (dBFS) below which nothing is voice",
                             lo=-100.0, hi=-10.0)
    word_min_s: float = _f(0.05, "voice must last this long to start a word (s)", lo=0.0, hi=1.0)
    hangover_s: float = _f(0.1, "silence must last this long to end a word (s); shorter "
                           "pauses are not gaps", lo=0.02, hi=2.0)


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


@dataclass(frozen=True)
class ShowConfig:
    """The whole show. ``path`` is the file it came from (None for built-in defaults)."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    rehearse: RehearseConfig = field(default_factory=RehearseConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    osc: OscConfig = field(default_factory=OscConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    scenes: dict = field(default_factory=dict)
    path: Path | None = None


SECTIONS: dict[str, type] = {
    "audio": AudioConfig,
    "rehearse": RehearseConfig,
    "analysis": AnalysisConfig,
    "osc": OscConfig,
    "render": RenderConfig,
}


def _type_name(tp: Any, kind: str | None) -> str:
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
        else:
            raise ConfigError(path, key, "one of the sections " + ", ".join(
                [*SECTIONS, "scenes"]) + " (unknown section)")
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
            default = fld.default if fld.default is not dataclasses.MISSING else fld.default_factory()
            if meta["choices"]:
                allowed = ", ".join(meta["choices"])
            elif meta["lo"] is not None:
                allowed = f"{meta['lo']:g} … {meta['hi']:g}"
            else:
                allowed = _type_name({"int": int, "float": float, "bool": bool, "str": str,
                                      "list": list}[str(fld.type)], meta["kind"])
            lines.append(f"| `{name}.{fld.name}` | `{_toml(default)}` | {allowed} | {meta['doc']} |")
    lines.append("| `scenes.NAME.PARAM` | the scene's header default | the scene's MIN … MAX "
                 "| a scene parameter, e.g. `[scenes.os1]` `glow = 0.8` |")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
