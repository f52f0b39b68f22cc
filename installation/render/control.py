"""Show control inside the renderer: operator commands, hot reload, status reports.

:class:`ShowControl` applies the command tuples the OSC control server produces (see
:class:`installation.osc.transport.ControlServer`) to a :class:`SceneRenderer` and its
:class:`UniformState`, remembers each scene's parameters (so a value set before a switch
is there when the scene appears), reloads the scene when its files are saved, and reports
errors and reloads through two injected callables: ``on_error(exc)`` (logging) and
``status(path, *args)`` (OSC ``/status/...``). Bad commands never raise: the show goes on.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

from installation.render import scene as scenes
from installation.render.scene import SceneError, ShaderCompileError
from installation.render.watch import ShaderWatcher, affects

log = logging.getLogger(__name__)

Status = Callable[..., None]


def _log_error(exc: Exception) -> None:
    log.error("%s", exc)


class ShowControl:
    """Commands -> renderer and uniform state.

    ``params`` are show.toml's ``[scenes.NAME]`` tables; ``outputs`` (optional) is an
    object with ``apply(cmd) -> bool`` for calibration commands (keystone, corner, blend,
    region, calibration_reset); ``watcher`` a :class:`ShaderWatcher` for hot reload.
    """

    def __init__(self, renderer, state, *, crossfade_s: float = 1.5,
                 param_smoothing_s: float = 0.25,
                 params: Mapping[str, Mapping[str, Any]] | None = None,
                 on_error: Callable[[Exception], None] = _log_error,
                 status: Status | None = None, outputs: Any = None,
                 watcher: ShaderWatcher | None = None) -> None:
        self.renderer = renderer
        self.state = state
        self.crossfade_s = float(crossfade_s)
        self.state.param_smoothing_s = float(param_smoothing_s)
        self.scene_params: dict[str, dict[str, Any]] = {
            k: dict(v) for k, v in (params or {}).items()}
        self.on_error = on_error
        self.status = status
        self.outputs = outputs
        self.watcher = watcher
        self.reloads = 0

    # -- commands -------------------------------------------------------------------
    def apply(self, cmd: Any) -> bool:
        """Apply one command tuple; False for ``("quit",)``. Errors are reported."""
        try:
            kind = cmd[0]
            if kind == "scene":
                self.switch(str(cmd[1]))
            elif kind == "master":
                self.state.set_master(float(cmd[1]))
            elif kind == "blackout":
                self.state.set_blackout(bool(cmd[1]))
            elif kind == "crossfade":
                value = float(cmd[1])
                if not 0.0 <= value <= 600.0:
                    raise ValueError(f"crossfade must be 0..600 s, got {value!r}")
                self.crossfade_s = value
            elif kind == "param":
                if len(cmd) == 3:       # ("param", name, value): the current scene
                    self.set_param(None, str(cmd[1]), cmd[2])
                else:
                    self.set_param(str(cmd[1]), str(cmd[2]), cmd[3])
            elif kind == "reload":
                self.reload()
            elif kind in ("keystone", "corner", "blend", "region", "calibration_reset"):
                if self.outputs is None:
                    raise ValueError(f"{kind}: this renderer has no configured outputs")
                self.outputs.apply(cmd)
            elif kind == "quit":
                return False
            else:
                raise ValueError(f"unknown render command {cmd!r}; expected scene, master, "
                                 "blackout, crossfade, param, reload, keystone, corner, "
                                 "blend, region, calibration_reset or quit")
        except (SceneError, KeyError, ValueError, TypeError, IndexError) as exc:
            self.report(exc)
        return True

    def switch(self, name: str) -> None:
        loaded = self.renderer.load_scene(name, crossfade_s=self.crossfade_s)
        self.state.set_params(loaded.inputs, self._valid(loaded, self.scene_params.get(name)))

    def set_param(self, scene: str | None, name: str, value: Any) -> None:
        current = self.renderer.scene
        if scene is None or (current is not None and scene == current.name):
            if current is None:
                raise KeyError("no scene on screen")
            self.state.set_param(name, value)
            self.scene_params.setdefault(current.name, {})[name] = value
            return
        # another scene: check against its header, keep for when it appears
        loaded = scenes.load_scene(scene, self.renderer.shader_dir)
        inputs = {inp.name: inp for inp in loaded.inputs}
        if name not in inputs:
            raise KeyError(f"scene {scene!r} has no parameter {name!r}; known: {sorted(inputs)}")
        inputs[name].coerce(value)   # type check now, not when it appears
        self.scene_params.setdefault(scene, {})[name] = value

    @staticmethod
    def _valid(loaded, values: Mapping[str, Any] | None) -> dict[str, Any]:
        names = {inp.name for inp in loaded.inputs}
        return {k: v for k, v in (values or {}).items() if k in names}

    # -- hot reload -----------------------------------------------------------------
    def poll(self, now: float) -> None:
        """Reload the scene on screen if one of its files was saved (call every frame)."""
        if self.watcher is None or self.renderer.scene is None:
            return
        if affects(self.renderer.scene, self.watcher.poll(now)):
            self.reload()

    def reload(self) -> None:
        """Recompile the scene on screen from disk; on failure the last good stays."""
        try:
            loaded = self.renderer.reload()
        except SceneError as exc:
            self.report(exc)
            return
        # parameters survive a reload (those the new header still declares)
        kept = {k[2:]: v for k, v in self.state.params.items()}
        kept.update(self.scene_params.get(loaded.name, {}))
        self.state.set_params(loaded.inputs, self._valid(loaded, kept))
        self.reloads += 1
        log.info("reloaded scene %s from %s", loaded.name, loaded.path)
        if self.status is not None:
            self.status("/status/reloaded", loaded.name)

    # -- reporting ------------------------------------------------------------------
    def report(self, exc: Exception) -> None:
        self.on_error(exc)
        if self.status is None:
            return
        if isinstance(exc, ShaderCompileError) or isinstance(exc, SceneError):
            file = str(getattr(exc, "file", "") or "")
            line = int(getattr(exc, "line", 0) or 0)
            message = str(getattr(exc, "message", "") or exc)
        else:
            file, line, message = "", 0, str(exc)
        self.status("/status/error", file, line, message)


def make_watcher(renderer, enabled: bool = True) -> ShaderWatcher | None:
    """A watcher on the renderer's shader folder, or None when disabled."""
    if not enabled:
        return None
    root = renderer.shader_dir if renderer.shader_dir is not None else scenes.shader_dir()
    return ShaderWatcher(os.fspath(root))
