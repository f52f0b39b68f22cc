"""Projector calibration: regions of the shared canvas, 4-corner keystone, soft-edge blend.

Pure python/numpy (no GL): the model, the homography, OSC command handling and atomic
persistence. :mod:`installation.render.outputs` draws it.

Coordinates: a projector's **picture** has corners (0, 0) bottom-left .. (1, 1) top-right;
the **keystone** says where those corners land on the **output** (fractions of the output,
x right, y up); the picture shows the **region** ``x0, y0, x1, y1`` of the canvas. Blend
widths are fractions of the picture, per side, each with the projector's gamma and a curve
(0 linear ramp .. 1 smoothstep); both ramps are symmetric, so in an overlap where one
output fades out as its neighbour fades in, the light adds up to one.

The file is JSON, written atomically (temp file in the same folder, fsync, rename, fsync of
the folder), so a crash or a power cut leaves either the old or the new calibration, never
half of one. Saves are throttled to one per ``min_interval_s`` (an operator's fader sends
dozens of changes a second); :meth:`Calibration.flush` writes a pending change.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

SIDES = ("left", "right", "bottom", "top")
IDENTITY_KEYSTONE = (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0)
PICTURE_CORNERS = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def homography(src: Sequence[Sequence[float]], dst: Sequence[Sequence[float]]) -> np.ndarray:
    """The 3x3 matrix H (float64) with ``H @ (x, y, 1) ~ (u, v, 1)`` for the four point
    pairs ``src[i] -> dst[i]``. Raises ``ValueError`` when three points are collinear."""
    a = np.zeros((8, 8))
    b = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
        a[2 * i] = (x, y, 1, 0, 0, 0, -u * x, -u * y)
        a[2 * i + 1] = (0, 0, 0, x, y, 1, -v * x, -v * y)
        b[2 * i], b[2 * i + 1] = u, v
    try:
        h = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise ValueError(f"keystone corners {list(dst)} do not form a quadrilateral") from None
    return np.append(h, 1.0).reshape(3, 3)


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through ``h``."""
    p = np.c_[np.asarray(points, dtype=np.float64), np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:]


@dataclass
class EdgeBlend:
    width: float = 0.0   # fraction of the picture
    gamma: float = 2.2   # the projector's
    curve: float = 0.5   # 0 linear .. 1 smoothstep

    def factor(self, x: np.ndarray | float) -> np.ndarray:
        """Pixel multiplier at distance ``x`` (fraction of the picture) from this edge."""
        if self.width <= 0:
            return np.ones_like(np.asarray(x, dtype=np.float64))
        r = np.clip(np.asarray(x, dtype=np.float64) / self.width, 0.0, 1.0)
        light = (1 - self.curve) * r + self.curve * r * r * (3 - 2 * r)
        return light ** (1.0 / self.gamma)


@dataclass
class OutputCalibration:
    name: str = ""
    region: tuple = (0.0, 0.0, 1.0, 1.0)
    keystone: tuple = IDENTITY_KEYSTONE
    blend: dict = field(default_factory=lambda: {s: EdgeBlend() for s in SIDES})

    def __post_init__(self) -> None:
        self.region = tuple(float(v) for v in self.region)
        self.keystone = tuple(float(v) for v in self.keystone)
        x0, y0, x1, y1 = self.region
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"region {self.region}: expected 0 <= x0 < x1 <= 1, 0 <= y0 < y1 <= 1")
        if len(self.keystone) != 8:
            raise ValueError("keystone needs 8 numbers (4 corners x y)")
        # a projected picture is a convex quadrilateral, corners counter-clockwise
        c = np.array(self.keystone).reshape(4, 2)
        e = np.roll(c, -1, axis=0) - c
        cross = e[:, 0] * np.roll(e, -1, axis=0)[:, 1] - e[:, 1] * np.roll(e, -1, axis=0)[:, 0]
        if not np.all(cross > 1e-6):
            raise ValueError(f"keystone {self.keystone}: the corners (bottom-left, "
                             "bottom-right, top-right, top-left) must form a convex "
                             "quadrilateral")
        self.picture_to_output()   # raises for a degenerate quadrilateral

    def picture_to_output(self) -> np.ndarray:
        k = self.keystone
        return homography(PICTURE_CORNERS, [(k[0], k[1]), (k[2], k[3]), (k[4], k[5]),
                                            (k[6], k[7])])

    def output_to_picture(self) -> np.ndarray:
        return np.linalg.inv(self.picture_to_output())

    def to_json(self) -> dict:
        return {"name": self.name, "region": list(self.region), "keystone": list(self.keystone),
                "blend": {s: vars(b).copy() for s, b in self.blend.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "OutputCalibration":
        blend = {s: EdgeBlend(**{k: float(v) for k, v in data.get("blend", {}).get(s, {}).items()
                                 if k in ("width", "gamma", "curve")}) for s in SIDES}
        return cls(str(data.get("name", "")), tuple(data["region"]), tuple(data["keystone"]),
                   blend)

    @classmethod
    def from_config(cls, out, index: int = 0) -> "OutputCalibration":
        """From an :class:`installation.config.OutputConfig`."""
        blend = {s: EdgeBlend(getattr(out, f"blend_{s}"), out.blend_gamma, out.blend_curve)
                 for s in SIDES}
        return cls(out.name or f"output {index}", tuple(out.region), tuple(out.keystone), blend)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)          # the rename itself must survive a power cut
    except OSError:
        pass
    finally:
        os.close(fd)


class Calibration:
    """The outputs' calibration, changed by OSC commands and saved to ``path``.

    ``defaults`` are the show.toml values (for ``calibration_reset``); a saved file with
    the same number of outputs overrides them at start.
    """

    def __init__(self, defaults: Sequence[OutputCalibration], path: str | os.PathLike | None
                 = None, *, min_interval_s: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.defaults = [OutputCalibration.from_json(d.to_json()) for d in defaults]
        self.outputs = [OutputCalibration.from_json(d.to_json()) for d in defaults]
        self.path = Path(path) if path is not None else None
        self.min_interval_s = float(min_interval_s)
        self.clock = clock
        self._saved_at: float | None = None
        self._pending = False
        self.saves = 0
        self.version = 0          # bumped on every change (the GL side re-uploads)
        if self.path is not None and self.path.is_file():
            self._load()

    @classmethod
    def from_show(cls, show, **kw) -> "Calibration":
        """From a :class:`ShowConfig`: its outputs, and ``render.calibration`` relative to
        the show file."""
        path = Path(show.render.calibration).expanduser()
        if not path.is_absolute() and show.path is not None:
            path = show.path.parent / path
        defaults = [OutputCalibration.from_config(o, i) for i, o in enumerate(show.outputs)]
        return cls(defaults, path if show.render.calibration else None, **kw)

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            outs = [OutputCalibration.from_json(d) for d in data["outputs"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("calibration %s is unreadable (%s); using show.toml's values",
                      self.path, exc)
            return
        if len(outs) != len(self.outputs):
            log.warning("calibration %s has %d outputs, the show %d; using show.toml's values",
                        self.path, len(outs), len(self.outputs))
            return
        self.outputs = outs
        log.info("calibration loaded from %s", self.path)

    # -- commands -------------------------------------------------------------------
    def apply(self, cmd: tuple) -> bool:
        """Apply an OSC calibration command (see ControlServer); ``ValueError`` when bad."""
        kind, n = cmd[0], int(cmd[1])
        if kind == "calibration_reset":
            targets = range(len(self.outputs)) if n < 0 else [n]
            for i in targets:
                self._check(i)
                self.outputs[i] = OutputCalibration.from_json(self.defaults[i].to_json())
            return self._changed()
        out = self._check(n)
        if kind == "keystone":
            new = OutputCalibration(out.name, out.region, tuple(cmd[2]), out.blend)
            out.keystone = new.keystone
        elif kind == "corner":
            k, x, y = int(cmd[2]), float(cmd[3]), float(cmd[4])
            ks = list(out.keystone)
            ks[2 * k], ks[2 * k + 1] = x, y
            OutputCalibration(out.name, out.region, tuple(ks), out.blend)   # validates
            out.keystone = tuple(ks)
        elif kind == "blend":
            side, width, gamma, curve = cmd[2], float(cmd[3]), float(cmd[4]), float(cmd[5])
            if side not in SIDES:
                raise ValueError(f"blend side {side!r}: expected one of {SIDES}")
            out.blend[side] = EdgeBlend(width, gamma, curve)
        elif kind == "region":
            out.region = OutputCalibration(out.name, tuple(cmd[2]), out.keystone).region
        else:
            raise ValueError(f"not a calibration command: {cmd!r}")
        return self._changed()

    def _check(self, n: int) -> OutputCalibration:
        if not 0 <= n < len(self.outputs):
            raise ValueError(f"output {n} does not exist; this show has "
                             f"{len(self.outputs)} (0-based)")
        return self.outputs[n]

    def _changed(self) -> bool:
        self.version += 1
        self._pending = True
        now = self.clock()
        if self._saved_at is None or now - self._saved_at >= self.min_interval_s:
            self.flush()
        return True

    # -- persistence ----------------------------------------------------------------
    def flush(self) -> None:
        """Write a pending change now (call each frame and at exit)."""
        if not self._pending or self.path is None:
            self._pending = False
            return
        text = json.dumps({"version": 1, "outputs": [o.to_json() for o in self.outputs]},
                          indent=2)
        try:
            write_atomically(self.path, text + "\n")
        except OSError as exc:      # a full disk must not stop the show
            log.error("could not save calibration to %s: %s", self.path, exc)
            return
        self._pending = False
        self._saved_at = self.clock()
        self.saves += 1

    def tick(self) -> None:
        """Flush a throttled save once ``min_interval_s`` has passed."""
        if self._pending and (self._saved_at is None
                              or self.clock() - self._saved_at >= self.min_interval_s):
            self.flush()
