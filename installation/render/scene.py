"""Scene files: ISF-style JSON header, ``#include`` and ``#line`` — pure text, no GL.

A scene is ``shaders/NAME.frag``: a GLSL fragment shader whose first thing is a JSON
header in a comment, ``/*{ "DESCRIPTION": ..., "INPUTS": [...] }*/``. The loader
assembles the source the driver compiles::

    #version 330
    #line 100001 1     generated prelude: every standard uniform, p_<name> per input,
    ...                `out vec4 fragColor;`
    #line 1 0          the scene file, unchanged line for line (the header is a comment)
    ...
    #line 200001 2     an #include "lib/x.glsl", inlined once (include guard)
    ...
    #line 13 0         back in the scene, on the line after the #include

The second number of ``#line`` is the GLSL *source string number*: an index ``k`` into
:attr:`Scene.files`. Drivers do not report it reliably (Mesa gives 0 for errors inside
expressions), so each file also gets its own band of line numbers: line ``n`` of file
``k`` is compiled as line ``k * LINE_STRIDE + n``. :func:`map_error_log` decodes the band
and turns a driver's log back into ``(file, line, message)``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from installation.render.uniforms import STANDARD_UNIFORMS

SCENE_SUFFIX = ".frag"
GLSL_VERSION = "#version 330"
PRELUDE_NAME = "<prelude>"
MAX_INCLUDE_DEPTH = 16
LINE_STRIDE = 100_000  # line numbers per file band (a file may have up to 99,999 lines)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_IDENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INCLUDE_RE = re.compile(r'^\s*#\s*include\s+(?:"([^"]*)"|<([^>]*)>)\s*(//.*)?$')
_VERSION_RE = re.compile(r"^\s*#\s*version\b(.*)$")

_TOP_KEYS = {"DESCRIPTION", "CREDIT", "CATEGORIES", "ISFVSN", "VSN", "INPUTS"}
_UNSUPPORTED_TOP = {"PASSES": "multi-pass scenes", "IMPORTED": "imported images",
                    "PERSISTENT_BUFFERS": "persistent buffers"}
_INPUT_KEYS = {"NAME", "TYPE", "DEFAULT", "MIN", "MAX", "LABEL", "IDENTITY", "VALUES",
               "LABELS", "DESCRIPTION"}
# ISF type -> (GLSL type, number of components)
_TYPES = {"float": ("float", 1), "long": ("int", 1), "bool": ("bool", 1),
          "color": ("vec4", 4), "point2D": ("vec2", 2)}


class SceneError(Exception):
    """A scene cannot be used: bad header, missing include, or a compile error.

    ``file`` is the path of the offending file, ``line`` a 1-based line number (or
    ``None`` when the problem is not tied to a line), ``message`` what is wrong.
    """

    def __init__(self, file: str | os.PathLike, message: str, line: int | None = None):
        self.file = str(file)
        self.line = line
        self.message = message
        where = f"{self.file}:{line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message of a compile log mapped back to its file and line."""

    file: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.severity}: {self.message}"


class ShaderCompileError(SceneError):
    """The driver refused the assembled source; ``diagnostics`` holds every mapped error,
    ``log`` the driver's raw text. ``file``/``line``/``message`` are the first error's."""

    def __init__(self, diagnostics: Sequence[Diagnostic], log: str, fallback_file: str):
        self.diagnostics = tuple(diagnostics)
        self.log = log
        errors = [d for d in self.diagnostics if d.severity == "error"] or list(self.diagnostics)
        if errors:
            first = errors[0]
            super().__init__(first.file, first.message, first.line)
        else:
            super().__init__(fallback_file, log.strip() or "shader failed to compile")


@dataclass(frozen=True)
class SceneInput:
    """One declared parameter; the scene sees it as uniform ``p_<name>``."""

    name: str
    type: str
    default: Any
    min: Any = None
    max: Any = None
    label: str = ""

    @property
    def glsl_type(self) -> str:
        return _TYPES[self.type][0]

    @property
    def uniform(self) -> str:
        return f"p_{self.name}"

    def coerce(self, value: Any) -> Any:
        """``value`` converted to this input's type and clamped to MIN/MAX.

        Raises ``ValueError`` naming the parameter when it cannot be converted.
        """
        try:
            if self.type == "bool":
                if isinstance(value, str):
                    return value.strip().lower() in ("1", "true", "yes", "on")
                return bool(value)
            if self.type == "long":
                out: Any = int(round(float(value)))
            elif self.type == "float":
                out = float(value)
            else:
                n = _TYPES[self.type][1]
                out = tuple(float(v) for v in value)
                if len(out) != n:
                    raise ValueError(f"expected {n} numbers")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameter {self.name!r} ({self.type}): cannot use {value!r}: "
                             f"{exc}") from None
        if isinstance(out, tuple):
            lo = self.min if self.min is not None else [None] * len(out)
            hi = self.max if self.max is not None else [None] * len(out)
            return tuple(_clamp(v, a, b) for v, a, b in zip(out, lo, hi))
        return type(out)(_clamp(out, self.min, self.max))


def _clamp(v: float, lo: float | None, hi: float | None) -> float:
    if v != v:  # NaN: fall to the lower bound rather than poison the shader
        return lo if lo is not None else 0.0
    if lo is not None and v < lo:
        v = lo
    if hi is not None and v > hi:
        v = hi
    return v


@dataclass(frozen=True)
class Scene:
    """A loaded scene: header fields and the assembled GLSL source.

    ``files[i]`` is the path of GLSL source string ``i`` (0: the scene file, 1: the
    generated prelude, then each included file).
    """

    name: str
    path: Path
    description: str
    credit: str
    inputs: tuple[SceneInput, ...]
    source: str
    files: tuple[str, ...] = field(default=())

    @property
    def params(self) -> tuple[SceneInput, ...]:
        """Same as :attr:`inputs` (the scene's parameters)."""
        return self.inputs

    def defaults(self) -> dict[str, Any]:
        return {inp.name: inp.default for inp in self.inputs}

    def input(self, name: str) -> SceneInput:
        for inp in self.inputs:
            if inp.name == name:
                return inp
        raise KeyError(f"scene {self.name!r} has no parameter {name!r}; "
                       f"known: {[i.name for i in self.inputs]}")


# -- finding scenes ---------------------------------------------------------------------
def shader_dir() -> Path:
    """The bundled ``shaders/`` folder.

    Order: ``$HER_SHADERS``; ``<package>/_data/shaders`` (installed wheel);
    ``<repo root>/shaders`` (a checkout: the parent of the package dir).
    """
    env = os.environ.get("HER_SHADERS")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"HER_SHADERS={env!r} is not a directory")
        return path
    package = Path(__file__).resolve().parents[1]
    tried = [package / "_data" / "shaders", package.parent / "shaders"]
    for path in tried:
        if path.is_dir():
            return path
    raise FileNotFoundError("no shaders folder found; tried " + ", ".join(map(str, tried))
                            + " (set HER_SHADERS to choose one)")


def list_scenes(directory: str | os.PathLike | None = None) -> list[str]:
    """Sorted scene names (file names without ``.frag``) in ``directory`` (not ``lib/``)."""
    root = Path(directory) if directory is not None else shader_dir()
    return sorted(p.stem for p in root.glob(f"*{SCENE_SUFFIX}")
                  if p.is_file() and _NAME_RE.match(p.stem))


def scene_path(name: str, directory: str | os.PathLike | None = None) -> Path:
    """Path of scene ``name``. Names come from operators (OSC), so only plain names
    (letters, digits, ``_``, ``-``) are accepted: no paths, no ``..``."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SceneError(str(name), "a scene name is letters, digits, '_' or '-' "
                                    "(the file name without .frag)")
    root = Path(directory) if directory is not None else shader_dir()
    path = root / f"{name}{SCENE_SUFFIX}"
    if not path.is_file():
        raise SceneError(path, f"no such scene; available: {list_scenes(root)}")
    return path


# -- header -----------------------------------------------------------------------------
def parse_header(text: str, file: str | os.PathLike = "<scene>") -> dict[str, Any]:
    """Parse and validate the ``/*{ ... }*/`` JSON header at the top of ``text``.

    Returns the JSON object; raises :class:`SceneError` naming the file, line and problem.
    """
    stripped = text.lstrip("\ufeff")
    lead = len(stripped) - len(stripped.lstrip())
    start = lead + len(text) - len(stripped)
    if not text.startswith("/*", start):
        raise SceneError(file, "missing ISF JSON header: the file must start with "
                               "/*{ \"INPUTS\": [...] }*/", 1)
    end = text.find("*/", start + 2)
    if end < 0:
        raise SceneError(file, "header comment /* is never closed with */",
                         text.count("\n", 0, start) + 1)
    body = text[start + 2:end]
    first_line = text.count("\n", 0, start) + 1
    if not body.strip().startswith("{"):
        raise SceneError(file, "the first comment must hold a JSON object /*{ ... }*/",
                         first_line)
    try:
        header = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SceneError(file, f"header is not valid JSON: {exc.msg}",
                         first_line + exc.lineno - 1) from None
    if not isinstance(header, dict):
        raise SceneError(file, "header must be a JSON object", first_line)
    _validate_header(header, file, first_line)
    return header


def _validate_header(header: dict, file, line: int) -> None:
    for key in header:
        if key in _UNSUPPORTED_TOP:
            raise SceneError(file, f"header key {key!r}: {_UNSUPPORTED_TOP[key]} are not "
                                   "supported", line)
        if key not in _TOP_KEYS:
            raise SceneError(file, f"unknown header key {key!r}; expected one of "
                                   f"{sorted(_TOP_KEYS)}", line)
    for key in ("DESCRIPTION", "CREDIT"):
        if key in header and not isinstance(header[key], str):
            raise SceneError(file, f"header key {key!r} must be a string", line)
    inputs = header.get("INPUTS", [])
    if not isinstance(inputs, list):
        raise SceneError(file, "'INPUTS' must be a list of objects", line)
    seen: set[str] = set()
    for i, raw in enumerate(inputs):
        inp = _parse_input(raw, i, file, line)
        if inp.name in seen:
            raise SceneError(file, f"INPUTS[{i}]: duplicate NAME {inp.name!r}", line)
        seen.add(inp.name)


def _parse_input(raw: Any, i: int, file, line: int) -> SceneInput:
    where = f"INPUTS[{i}]"
    if not isinstance(raw, dict):
        raise SceneError(file, f"{where} must be an object with NAME and TYPE", line)
    name = raw.get("NAME")
    if isinstance(name, str):
        where = f"input {name!r}"
    for key in raw:
        if key not in _INPUT_KEYS:
            raise SceneError(file, f"{where}: unknown key {key!r}; expected one of "
                                   f"{sorted(_INPUT_KEYS)}", line)
    if not isinstance(name, str) or not _IDENT_RE.match(name) or len(name) > 60:
        raise SceneError(file, f"{where}: NAME must be a GLSL identifier "
                               "(letter, then letters, digits, '_'), got {name!r}", line)
    typ = raw.get("TYPE")
    if typ not in _TYPES:
        raise SceneError(file, f"{where}: TYPE {typ!r} is not supported; expected one of "
                               f"{sorted(_TYPES)}", line)
    n = _TYPES[typ][1]

    def number(key: str, value: Any) -> Any:
        if n == 1:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if typ == "bool":
                ok = isinstance(value, (bool, int)) and value in (0, 1, True, False)
            if not ok:
                expected = "true/false" if typ == "bool" else "a number"
                raise SceneError(file, f"{where}: {key} must be {expected}, got {value!r}",
                                 line)
            return bool(value) if typ == "bool" else (int(value) if typ == "long"
                                                      else float(value))
        if (not isinstance(value, list) or len(value) != n
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in value)):
            raise SceneError(file, f"{where}: {key} must be a list of {n} numbers, "
                                   f"got {value!r}", line)
        return tuple(float(v) for v in value)

    if "DEFAULT" not in raw:
        raise SceneError(file, f"{where}: DEFAULT is required", line)
    default = number("DEFAULT", raw["DEFAULT"])
    lo = number("MIN", raw["MIN"]) if "MIN" in raw else None
    hi = number("MAX", raw["MAX"]) if "MAX" in raw else None
    if typ == "color":
        lo = lo if lo is not None else (0.0,) * 4
        hi = hi if hi is not None else (1.0,) * 4
    if typ in ("float", "long") and (lo is None or hi is None):
        raise SceneError(file, f"{where}: MIN and MAX are required for TYPE {typ!r}", line)
    if lo is not None and hi is not None:
        pairs = zip(lo, hi) if n > 1 else [(lo, hi)]
        if any(a > b for a, b in pairs):
            raise SceneError(file, f"{where}: MIN {lo!r} is greater than MAX {hi!r}", line)
        dpairs = zip(default, lo, hi) if n > 1 else [(default, lo, hi)]
        if typ != "bool" and any(not a <= d <= b for d, a, b in dpairs):
            raise SceneError(file, f"{where}: DEFAULT {default!r} is outside "
                                   f"[{lo!r}, {hi!r}]", line)
    label = raw.get("LABEL", name)
    if not isinstance(label, str):
        raise SceneError(file, f"{where}: LABEL must be a string", line)
    return SceneInput(name, typ, default, lo, hi, label)


def header_inputs(header: dict, file="<scene>") -> tuple[SceneInput, ...]:
    return tuple(_parse_input(raw, i, file, 1) for i, raw in enumerate(header.get("INPUTS", [])))


# -- assembling the source --------------------------------------------------------------
def prelude(inputs: Sequence[SceneInput] = ()) -> str:
    """The generated declarations every scene starts with (no ``#version``)."""
    lines = ["// generated by installation.render.scene: the uniform convention "
             "(docs/shaders.md)"]
    lines += [f"uniform {u.glsl_type} {u.name};" for u in STANDARD_UNIFORMS]
    lines += [f"uniform {inp.glsl_type} {inp.uniform};" for inp in inputs]
    lines.append("out vec4 fragColor;")
    return "\n".join(lines) + "\n"


def expand_includes(text: str, file: str | os.PathLike, directory: str | os.PathLike,
                    files: list[str] | None = None) -> tuple[str, list[str]]:
    """Inline ``#include "rel/path.glsl"`` (relative to ``directory``) with ``#line``.

    ``file`` must already be ``files[k]`` for the text's own source string number ``k``
    (it is appended when missing). Each file is included once. Returns the text and
    the file table.
    """
    files = files if files is not None else []
    file = str(file)
    if file not in files:
        files.append(file)
    out = _expand(text, file, Path(directory), files, stack=[file])
    return out, files


def _expand(text: str, file: str, root: Path, files: list[str], stack: list[str]) -> str:
    own = files.index(file)
    out: list[str] = []
    lines = text.split("\n")
    if len(lines) >= LINE_STRIDE:
        raise SceneError(file, f"more than {LINE_STRIDE - 1} lines")
    for lineno, line in enumerate(lines, start=1):
        m = _VERSION_RE.match(line)
        if m:
            if len(stack) > 1:
                raise SceneError(file, "an included file must not have #version", lineno)
            if m.group(1).split()[:1] not in (["330"], []):
                raise SceneError(file, f"#version{m.group(1)}: scenes are compiled as "
                                       f"'{GLSL_VERSION}'; remove the line", lineno)
            out.append("")  # the loader writes #version; keep the line count
            continue
        m = _INCLUDE_RE.match(line)
        if not m:
            out.append(line)
            continue
        rel = m.group(1) if m.group(1) is not None else m.group(2)
        target = (root / rel).resolve()
        try:
            target.relative_to(root.resolve())
        except ValueError:
            raise SceneError(file, f'#include "{rel}" points outside {root}', lineno) from None
        if not target.is_file():
            raise SceneError(file, f'#include "{rel}": no such file {target}', lineno)
        key = str(target)
        if key in stack:
            raise SceneError(file, f'#include "{rel}" is circular: '
                                   + " -> ".join(stack + [key]), lineno)
        if len(stack) >= MAX_INCLUDE_DEPTH:
            raise SceneError(file, f"includes nested deeper than {MAX_INCLUDE_DEPTH}", lineno)
        if key in files:  # include guard: each file once
            out.append(f"// {line.strip()} (already included)")
            continue
        files.append(key)
        body = target.read_text(encoding="utf-8")
        index = files.index(key)
        out.append(f"#line {index * LINE_STRIDE + 1} {index}")
        out.append(_expand(body, key, root, files, stack + [key]))
        out.append(f"#line {own * LINE_STRIDE + lineno + 1} {own}")
    return "\n".join(out)


def assemble(text: str, file: str | os.PathLike, directory: str | os.PathLike,
             inputs: Sequence[SceneInput] = ()) -> tuple[str, tuple[str, ...]]:
    """The complete source for the driver and its file table (see module docstring)."""
    files = [str(file), PRELUDE_NAME]
    body, files = expand_includes(text, file, directory, files)
    source = "\n".join([GLSL_VERSION, f"#line {LINE_STRIDE + 1} 1",
                        prelude(inputs) + "#line 1 0", body])
    return source, tuple(files)


def load_scene(name_or_path: str | os.PathLike,
               directory: str | os.PathLike | None = None) -> Scene:
    """Read, validate and assemble a scene by name (``os1``) or by path.

    ``directory`` is the shaders folder (default :func:`shader_dir`); includes resolve
    against it. Raises :class:`SceneError`.
    """
    if isinstance(name_or_path, Path) or str(name_or_path).endswith(SCENE_SUFFIX):
        path = Path(name_or_path)
        root = Path(directory) if directory is not None else path.parent
    else:
        root = Path(directory) if directory is not None else shader_dir()
        path = scene_path(str(name_or_path), root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneError(path, f"cannot read: {exc}") from None
    header = parse_header(text, path)
    inputs = header_inputs(header, path)
    source, files = assemble(text, path, root, inputs)
    return Scene(name=path.stem, path=path, description=header.get("DESCRIPTION", ""),
                 credit=header.get("CREDIT", ""), inputs=inputs, source=source, files=files)


# -- compile logs -----------------------------------------------------------------------
_LOG_PATTERNS = (
    # Mesa:            0:12(5): error: syntax error, unexpected ...
    re.compile(r"^(?P<s>\d+):(?P<l>\d+)\((?P<c>\d+)\):\s*(?P<sev>error|warning)\s*:\s*(?P<m>.*)$",
               re.I),
    # NVIDIA:          0(12) : error C0000: syntax error ...
    re.compile(r"^(?P<s>\d+)\((?P<l>\d+)\)\s*:\s*(?P<sev>error|warning)\s*\w*\s*:\s*(?P<m>.*)$",
               re.I),
    # AMD, Intel/Win:  ERROR: 0:12: 'x' : undeclared identifier
    re.compile(r"^(?P<sev>error|warning)\s*:\s*(?P<s>\d+):(?P<l>\d+):\s*(?P<m>.*)$", re.I),
)


def map_error_log(log: str, files: Sequence[str], *, line_offset: int = 0,
                  include_warnings: bool = False) -> list[Diagnostic]:
    """Turn a driver compile log into ``[Diagnostic(file, line, message)]``.

    ``files`` is :attr:`Scene.files`. The file is found from the line's band
    (``line // LINE_STRIDE``), not from the reported source number, which drivers get
    wrong. ``line_offset`` corrects drivers that number the line after ``#line N`` as
    ``N + 1`` (GLSL <= 3.30 wording); Mesa numbers it ``N``.
    Lines that match no known format but say "error" become a diagnostic on the scene
    file without a line, so nothing is lost.
    """
    out: list[Diagnostic] = []
    scene_file = files[0] if files else "<scene>"
    for raw in log.splitlines():
        text = raw.strip()
        if not text:
            continue
        for pattern in _LOG_PATTERNS:
            m = pattern.match(text)
            if m:
                sev = m.group("sev").lower()
                if sev == "warning" and not include_warnings:
                    break
                number = max(1, int(m.group("l")) - line_offset)
                index, line = divmod(number, LINE_STRIDE)
                if not 0 <= index < len(files):  # not one of ours: trust the driver
                    index = int(m.group("s"))
                file = files[index] if 0 <= index < len(files) else scene_file
                out.append(Diagnostic(file, max(1, line), m.group("m").strip(), sev))
                break
        else:
            if re.search(r"\berror\b", text, re.I) and not text.lower().startswith(
                    ("glsl compiler failed", "fragment_shader", "vertex_shader")):
                out.append(Diagnostic(scene_file, None, text, "error"))
    return out
