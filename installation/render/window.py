"""The real-time loop: latest features + operator commands -> a presented frame, per vsync.

:func:`run_window` opens a window and runs the show in it; :func:`run_loop` is the loop
itself, with everything passed in (surface, renderer, uniform state, a ``frame_source()``
callable, a command queue, a clock), so tests drive it on a headless surface. Commands
are tuples:

- ``("scene", name)``      switch scene (crossfade ``crossfade_s``); a scene that fails
                           to compile is reported through ``on_error`` and the old one
                           stays on screen
- ``("master", level)``    output level 0..1
- ``("blackout", on)``     fade to black (True) or back (False)
- ``("param", name, value)`` set a parameter of the current scene
- ``("quit",)``            leave the loop
"""

from __future__ import annotations

import logging
import os
import queue
import time
from typing import Any, Callable, Mapping, Sequence

from installation.features import FeatureFrame
from installation.render.context import Surface
from installation.render.renderer import SceneRenderer
from installation.render.scene import SceneError
from installation.render.uniforms import UniformState

log = logging.getLogger(__name__)

FrameSource = Callable[[], "FeatureFrame | Sequence[FeatureFrame] | None"]


def _log_error(exc: Exception) -> None:
    log.error("%s", exc)


def apply_command(cmd: Any, renderer: SceneRenderer, state: UniformState, *,
                  crossfade_s: float = 1.5,
                  on_error: Callable[[Exception], None] = _log_error) -> bool:
    """Apply one command tuple; returns False for ``("quit",)``. Bad commands are
    reported through ``on_error`` and ignored: the show goes on."""
    try:
        kind = cmd[0]
        if kind == "scene":
            scene = renderer.load_scene(cmd[1], crossfade_s=crossfade_s)
            state.set_params(scene.inputs)
        elif kind == "master":
            state.set_master(float(cmd[1]))
        elif kind == "blackout":
            state.set_blackout(bool(cmd[1]))
        elif kind == "param":
            state.set_param(str(cmd[1]), cmd[2])
        elif kind == "quit":
            return False
        else:
            raise ValueError(f"unknown render command {cmd!r}; expected scene, master, "
                             "blackout, param or quit")
    except (SceneError, KeyError, ValueError, TypeError, IndexError) as exc:
        on_error(exc)
    return True


def _stopped(stop: Any) -> bool:
    if stop is None:
        return False
    is_set = getattr(stop, "is_set", None)   # a threading.Event
    return bool(is_set() if is_set is not None else stop())


def run_loop(surface: Surface, renderer: SceneRenderer, state: UniformState,
             frame_source: FrameSource, *, commands: "queue.Queue | None" = None,
             clock: Callable[[], float] = time.monotonic, crossfade_s: float = 1.5,
             max_frames: int | None = None, seconds: float | None = None,
             stop: Any = None, on_error: Callable[[Exception], None] = _log_error) -> int:
    """Render and present until the window closes, ``("quit",)``, ``max_frames`` frames,
    ``seconds`` of clock time, or ``stop`` (a ``threading.Event`` or a callable returning
    True).

    ``frame_source()`` returns the latest :class:`FeatureFrame`, a sequence of the frames
    that arrived since the last call (so no onset is lost), or ``None``. Time (s) goes
    on from ``state.time``, advanced by ``clock()``. Returns the number of frames
    presented.
    """
    first = clock()
    start = first - state.time
    presented = 0
    running = True
    while running and not surface.should_close() and not _stopped(stop):
        if seconds is not None and clock() - first >= seconds:
            break
        surface.poll()
        while commands is not None:
            try:
                cmd = commands.get_nowait()
            except queue.Empty:
                break
            if not apply_command(cmd, renderer, state, crossfade_s=crossfade_s,
                                 on_error=on_error):
                running = False   # ("quit",): later commands stay queued
                break
        if not running:
            break
        now = clock() - start
        got = frame_source()
        if isinstance(got, FeatureFrame) or got is None:
            state.update(got, now)
        else:
            for frame in got:
                state.update(frame, now)
        if min(surface.size) >= 1:   # a minimised window has no pixels: skip the draw
            renderer.resize(surface.size)  # render at the output's resolution
            state.size = renderer.size
            renderer.render(state.uniforms(), target=surface.framebuffer)
        surface.present()
        presented += 1
        if max_frames is not None and presented >= max_frames:
            break
    return presented


def run_window(frame_source: FrameSource, commands: "queue.Queue | None" = None, *,
               size: tuple[int, int] = (1280, 720), scene: str = "os1",
               params: Mapping[str, Any] | None = None, fullscreen: bool = False,
               position: tuple[int, int] | None = None, monitor: int = 0,
               master: float = 1.0, stop: Any = None, seconds: float | None = None,
               title: str = "installation", vsync: bool = True, hide_cursor: bool = True,
               context_api: str = "egl", clock: Callable[[], float] = time.monotonic,
               crossfade_s: float = 1.5, shader_dir: str | os.PathLike | None = None,
               on_error: Callable[[Exception], None] = _log_error) -> int:
    """Open a window (see :class:`WindowSurface`), show ``scene`` with ``params`` at
    ``master`` level, and run :func:`run_loop` until the window closes, ``("quit",)``,
    ``stop`` or ``seconds``. Raises :class:`SceneError` if the first scene does not
    compile (there is nothing to fall back on yet) and ``RuntimeError`` without a display.
    Returns the number of frames presented.
    """
    from installation.render.context import WindowSurface

    surface = WindowSurface(size, position=position, fullscreen=fullscreen, monitor=monitor,
                            title=title, vsync=vsync, hide_cursor=hide_cursor,
                            context_api=context_api)
    renderer = None
    try:
        renderer = SceneRenderer(surface.ctx, surface.size, shader_dir=shader_dir)
        loaded = renderer.load_scene(scene)
        state = UniformState(size=surface.size, master=master)
        state.set_params(loaded.inputs, params)
        return run_loop(surface, renderer, state, frame_source, commands=commands,
                        clock=clock, crossfade_s=crossfade_s, seconds=seconds, stop=stop,
                        on_error=on_error)
    finally:
        if renderer is not None:
            renderer.release()
        surface.close()
