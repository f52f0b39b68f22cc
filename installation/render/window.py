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
- ``("param", name, value)`` set a parameter of the current scene (glides, see
                           :class:`ShowControl`); ``("param", scene, name, value)`` any scene's
- ``("crossfade", s)``, ``("reload",)`` and the calibration commands: see
                           :class:`installation.render.control.ShowControl`
- ``("quit",)``            leave the loop

Each iteration also polls the hot-reload watcher and records frame pacing
(:class:`installation.render.pacing.FramePacing`), reported every interval to the log and
through ``status`` (OSC ``/status/frame``).
"""

from __future__ import annotations

import logging
import os
import queue
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from installation.features import FeatureFrame
from installation.render.context import Surface
from installation.render.control import ShowControl, make_watcher
from installation.render.flashguard import FlashGuard
from installation.render.pacing import FramePacing
from installation.render.renderer import SceneRenderer
from installation.render.uniforms import UniformState

log = logging.getLogger(__name__)

FrameSource = Callable[[], "FeatureFrame | Sequence[FeatureFrame] | None"]
# The latest measured u_audio rows ((2, 512) float32, 0..1), or None (keep what is shown;
# before any, the synthesised fallback): e.g. FeatureReceiver.audio_rows.
AudioSource = Callable[[], "np.ndarray | None"]


def _log_error(exc: Exception) -> None:
    log.error("%s", exc)


def apply_command(cmd: Any, renderer: SceneRenderer, state: UniformState, *,
                  crossfade_s: float = 1.5,
                  on_error: Callable[[Exception], None] = _log_error) -> bool:
    """Apply one command tuple without a long-lived :class:`ShowControl` (no per-scene
    memory, no smoothing); returns False for ``("quit",)``. Bad commands are reported
    through ``on_error`` and ignored: the show goes on."""
    control = ShowControl(renderer, state, crossfade_s=crossfade_s,
                          param_smoothing_s=state.param_smoothing_s, on_error=on_error)
    return control.apply(cmd)


def _stopped(stop: Any) -> bool:
    if stop is None:
        return False
    is_set = getattr(stop, "is_set", None)   # a threading.Event
    return bool(is_set() if is_set is not None else stop())


def _feed_audio(renderer: SceneRenderer, audio_source: AudioSource | None) -> None:
    """Hand the latest measured audio rows (if any) to the renderer's texture."""
    rows = audio_source() if audio_source is not None else None
    if rows is not None:
        renderer.audio.set(rows[0], rows[1])


def run_loop(surface: Surface, renderer: SceneRenderer, state: UniformState,
             frame_source: FrameSource, *, commands: "queue.Queue | None" = None,
             clock: Callable[[], float] = time.monotonic, crossfade_s: float = 1.5,
             max_frames: int | None = None, seconds: float | None = None,
             stop: Any = None, on_error: Callable[[Exception], None] = _log_error,
             control: ShowControl | None = None, pacing: FramePacing | None = None,
             status: Callable[..., None] | None = None, present: Callable | None = None,
             audio_source: AudioSource | None = None) -> int:
    """Render and present until the window closes, ``("quit",)``, ``max_frames`` frames,
    ``seconds`` of clock time, or ``stop`` (a ``threading.Event`` or a callable returning
    True).

    ``frame_source()`` returns the latest :class:`FeatureFrame`, a sequence of the frames
    that arrived since the last call (so no onset is lost), or ``None``. Time (s) goes
    on from ``state.time``, advanced by ``clock()``. ``control`` applies the commands and
    hot reload (default: a :class:`ShowControl` with ``crossfade_s`` and ``on_error``);
    ``pacing`` measures frame times (reports go to the log and ``status``). ``present``,
    when given, replaces drawing into ``surface`` (``present(renderer, uniforms)``: the
    outputs' warp and blend). ``audio_source()``, when given, returns the latest measured
    audio texture rows (or None) for ``u_audio``; they go to ``renderer.audio`` each frame.
    Returns the number of frames presented.
    """
    if control is None:
        control = ShowControl(renderer, state, crossfade_s=crossfade_s,
                              param_smoothing_s=state.param_smoothing_s, on_error=on_error,
                              status=status)
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
            if not control.apply(cmd):
                running = False   # ("quit",): later commands stay queued
                break
        if not running:
            break
        tick = clock()
        control.poll(tick)
        now = tick - start
        got = frame_source()
        if isinstance(got, FeatureFrame) or got is None:
            state.update(got, now)
            arrived = got is not None
        else:
            for frame in got:
                state.update(frame, now)
            arrived = bool(got)
        if arrived and pacing is not None:
            pacing.features(tick)
        _feed_audio(renderer, audio_source)
        if present is not None:
            present(renderer, state)
        elif min(surface.size) >= 1:   # a minimised window has no pixels: skip the draw
            renderer.resize(surface.size)  # render at the output's resolution
            state.size = renderer.size
            renderer.render(state.uniforms(), target=surface.framebuffer)
        surface.present()
        presented += 1
        if pacing is not None:
            # frames are paced by present() (vsync), so the interval between two loop
            # starts is the frame time; one clock read per frame keeps injected clocks simple
            pacing.frame(tick)
            report = pacing.report(tick)
            if report is not None:
                (log.info if report.dropped else log.debug)("frame pacing: %s", report.line())
                if status is not None:
                    status("/status/frame", report.fps, report.frame_ms, report.worst_ms,
                           report.feature_age_ms, report.dropped)
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
               on_error: Callable[[Exception], None] = _log_error,
               scene_params: Mapping[str, Mapping[str, Any]] | None = None,
               param_smoothing_s: float = 0.25, flash_guard: bool = True,
               hot_reload: bool = True, status: Callable[..., None] | None = None,
               status_interval_s: float = 1.0,
               audio_source: AudioSource | None = None) -> int:
    """Open a window (see :class:`WindowSurface`), show ``scene`` with ``params`` at
    ``master`` level, and run :func:`run_loop` until the window closes, ``("quit",)``,
    ``stop`` or ``seconds``. Raises :class:`SceneError` if the first scene does not
    compile (there is nothing to fall back on yet) and ``RuntimeError`` without a display.
    ``scene_params`` are every scene's parameters (show.toml ``[scenes]``), ``status`` a
    ``status(path, *args)`` sink (OSC ``/status/...``), ``audio_source`` the measured
    ``u_audio`` rows (see :func:`run_loop`). Returns the number of frames presented.
    """
    from installation.render.context import WindowSurface

    surface = WindowSurface(size, position=position, fullscreen=fullscreen, monitor=monitor,
                            title=title, vsync=vsync, hide_cursor=hide_cursor,
                            context_api=context_api)
    renderer = None
    try:
        renderer = SceneRenderer(surface.ctx, surface.size, shader_dir=shader_dir,
                                 flash_guard=FlashGuard() if flash_guard else None)
        loaded = renderer.load_scene(scene)
        state = UniformState(size=surface.size, master=master)
        all_params = {k: dict(v) for k, v in (scene_params or {}).items()}
        if params:
            all_params.setdefault(loaded.name, {}).update(params)
        state.set_params(loaded.inputs, all_params.get(loaded.name))
        control = ShowControl(renderer, state, crossfade_s=crossfade_s,
                              param_smoothing_s=param_smoothing_s, params=all_params,
                              on_error=on_error, status=status,
                              watcher=make_watcher(renderer, hot_reload))
        pacing = FramePacing(refresh_hz=surface.refresh_hz, interval_s=status_interval_s)
        return run_loop(surface, renderer, state, frame_source, commands=commands,
                        clock=clock, seconds=seconds, stop=stop, control=control,
                        pacing=pacing, status=status, audio_source=audio_source)
    finally:
        if renderer is not None:
            renderer.release()
        surface.close()
