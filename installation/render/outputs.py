"""Outputs: the shared canvas warped and blended onto each projector (moderngl only).

:class:`OutputPass` draws one output: the canvas region through the keystone homography
(inverted per pixel, so straight lines stay straight) with soft edges. :func:`draw_outputs`
draws every output into viewports of one framebuffer, side by side (headless previews and
tests); :func:`run_outputs` opens one borderless window per output, on its monitor, and
runs the show in them.

The calibration (:class:`installation.render.calibration.Calibration`) can change every
frame (OSC); the pass reads it each draw, which is a few uniforms.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Mapping, Sequence

import moderngl
import numpy as np

from installation.render.calibration import Calibration, OutputCalibration
from installation.render.renderer import VERTEX_SHADER

log = logging.getLogger(__name__)

OUTPUT_SHADER = """#version 330
uniform sampler2D u_canvas;
uniform mat3 u_inv;          // output uv -> picture st (the inverse keystone homography)
uniform vec4 u_region;       // x0 y0 x1 y1 of the canvas
uniform vec4 u_view;         // viewport x, y, w, h in pixels
uniform vec4 u_width;        // blend width: left right bottom top (fractions of the picture)
uniform vec4 u_inv_gamma;    // 1 / gamma per side
uniform vec4 u_curve;        // 0 linear .. 1 smoothstep, per side
out vec4 fragColor;

// The blend factor: product over the four sides of light^(1/gamma) (the projector turns
// pixel p into light p^gamma), as one exp2 of a dot product: half the cost of a vec4 pow.
float blend(vec4 x) {
#ifdef BLEND
    if (!any(lessThan(x, u_width))) return 1.0;   // most pixels: no edge near
    vec4 r = clamp(x / max(u_width, 1e-6), 0.0, 1.0);
    vec4 light = mix(r, r * r * (3.0 - 2.0 * r), u_curve);
    light = mix(vec4(1.0), max(light, 1e-8), step(1e-6, u_width));
    return exp2(dot(log2(light), u_inv_gamma));
#else
    return 1.0;
#endif
}

void main() {
    vec2 uv = (gl_FragCoord.xy - u_view.xy) / u_view.zw;
    vec3 h = u_inv * vec3(uv, 1.0);
    vec2 st = h.xy / h.z;
    vec2 inside = step(0.0, st) * step(st, vec2(1.0)) * step(0.0, h.z);
    vec3 col = texture(u_canvas, mix(u_region.xy, u_region.zw, st)).rgb;
    float f = blend(vec4(st.x, 1.0 - st.x, st.y, 1.0 - st.y));
    fragColor = vec4(col * (f * inside.x * inside.y), 1.0);
}
"""


def default_size(cal: OutputCalibration, canvas: tuple[int, int]) -> tuple[int, int]:
    """An output's size when none is configured: its region's share of the canvas (even)."""
    x0, y0, x1, y1 = cal.region
    w = max(2, int(round((x1 - x0) * canvas[0] / 2)) * 2)
    h = max(2, int(round((y1 - y0) * canvas[1] / 2)) * 2)
    return w, h


class OutputPass:
    """Draws one output's warp and blend from a canvas texture on ``ctx``."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        # two variants, chosen on the CPU: llvmpipe pays for a blend nobody configured
        blend_src = OUTPUT_SHADER.replace("#version 330\n", "#version 330\n#define BLEND\n", 1)
        self._programs = {
            False: ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=OUTPUT_SHADER),
            True: ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=blend_src),
        }
        self._vaos = {k: ctx.vertex_array(p, []) for k, p in self._programs.items()}

    def draw(self, canvas: moderngl.Texture, cal: OutputCalibration,
             fbo: moderngl.Framebuffer, viewport: tuple[int, int, int, int]) -> None:
        fbo.use()
        fbo.viewport = viewport
        canvas.use(0)
        sides = ("left", "right", "bottom", "top")
        values = {
            "u_canvas": 0,
            "u_region": tuple(cal.region),
            "u_view": tuple(float(v) for v in viewport),
            "u_width": tuple(cal.blend[s].width for s in sides),
            "u_inv_gamma": tuple(1.0 / cal.blend[s].gamma for s in sides),
            "u_curve": tuple(cal.blend[s].curve for s in sides),
        }
        has_blend = any(cal.blend[s].width > 0 for s in sides)
        p = self._programs[has_blend]
        for name, value in values.items():
            if name in p:           # the compiler drops what a variant does not use
                p[name].value = value
        # GLSL mat3 is column-major: upload the transpose of the row-major numpy matrix
        p["u_inv"].write(np.ascontiguousarray(cal.output_to_picture().T, dtype="f4").tobytes())
        self._vaos[has_blend].render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for obj in (*self._vaos.values(), *self._programs.values()):
            obj.release()


def layout(calibration: Calibration, sizes: Sequence[tuple[int, int]]
           ) -> tuple[tuple[int, int], list[tuple[int, int, int, int]]]:
    """Side by side: total (w, h) and each output's viewport (x, y, w, h), top-aligned."""
    total_w = sum(w for w, _ in sizes)
    total_h = max(h for _, h in sizes)
    views, x = [], 0
    for w, h in sizes:
        views.append((x, total_h - h, w, h))
        x += w
    return (total_w, total_h), views


def draw_outputs(output_pass: OutputPass, canvas: moderngl.Texture, calibration: Calibration,
                 fbo: moderngl.Framebuffer, views: Sequence[tuple[int, int, int, int]]) -> None:
    """Every output into its viewport of ``fbo`` (cleared to black first)."""
    fbo.use()
    fbo.viewport = (0, 0, *fbo.size)
    fbo.clear(0.0, 0.0, 0.0, 1.0)
    for cal, view in zip(calibration.outputs, views):
        output_pass.draw(canvas, cal, fbo, view)
    fbo.viewport = (0, 0, *fbo.size)


class OutputsSurface:
    """One borderless window per output, sharing the first window's GL objects.

    The renderer draws the canvas offscreen in the first window's context; each window
    has its own moderngl context, wraps the canvas texture (``external_texture``) and
    draws its warp and blend. Only the first window waits for vsync, so n windows do not
    divide the frame rate by n. Implements the :class:`Surface` interface for
    :func:`installation.render.window.run_loop` (``present`` swaps every window).
    """

    def __init__(self, outputs: Sequence, calibration: Calibration, canvas_size: tuple[int, int],
                 *, vsync: bool = True, title: str = "installation",
                 context_api: str = "egl") -> None:
        import glfw

        from installation.render.context import WindowSurface

        self._glfw = glfw
        self.calibration = calibration
        self.canvas_size = canvas_size
        self.windows: list = []
        self.passes: list[OutputPass] = []
        try:
            monitors = None
            for i, (out, cal) in enumerate(zip(outputs, calibration.outputs)):
                position, size, monitor = self._placement(out, cal, canvas_size, monitors)
                first = self.windows[0] if self.windows else None
                win = WindowSurface(size, position=position, title=f"{title} {cal.name}",
                                    vsync=vsync and i == 0, hide_cursor=True,
                                    borderless=out.fullscreen, share=first,
                                    context_api=context_api, terminate=False)
                self.windows.append(win)
                self.passes.append(OutputPass(win.ctx))
                log.info("output %d (%s): %dx%d at %s%s", i, cal.name, *size, position,
                         f" on monitor {monitor}" if monitor else "")
            self.windows[0].make_current()
        except Exception:
            self.close()
            raise
        self.ctx = self.windows[0].ctx
        self._wrapped: dict[tuple[int, int], Any] = {}

    def _placement(self, out, cal, canvas_size, monitors):
        glfw = self._glfw
        if not glfw.init():
            raise RuntimeError("glfw could not initialise (no display?)")
        size = tuple(out.size) if tuple(out.size) != (0, 0) else None
        position = tuple(out.position)
        monitor_name = ""
        if out.fullscreen:
            mons = glfw.get_monitors() or []
            mon = None
            if out.monitor.isdigit() and int(out.monitor) < len(mons):
                mon = mons[int(out.monitor)]
            elif out.monitor:
                named = [m for m in mons if (glfw.get_monitor_name(m) or b"").decode(
                    errors="replace") == out.monitor]
                if not named:
                    names = [(glfw.get_monitor_name(m) or b"").decode(errors="replace")
                             for m in mons]
                    log.error("monitor %r not found (have %s); using the primary",
                              out.monitor, names)
                mon = named[0] if named else None
            mon = mon or glfw.get_primary_monitor()
            if mon:
                mode = glfw.get_video_mode(mon)
                position = tuple(glfw.get_monitor_pos(mon))
                size = size or (mode.size.width, mode.size.height)
                monitor_name = (glfw.get_monitor_name(mon) or b"").decode(errors="replace")
        return position, size or default_size(cal, canvas_size), monitor_name

    # -- Surface interface ----------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self.canvas_size

    @property
    def framebuffer(self):
        return self.windows[0].framebuffer

    @property
    def refresh_hz(self) -> float:
        return self.windows[0].refresh_hz

    def draw(self, canvas: moderngl.Texture) -> None:
        """Draw every output from ``canvas`` (a texture of the first window's context)."""
        self.windows[0].ctx.finish()   # other contexts read what this one just drew
        for i, (win, pass_, cal) in enumerate(zip(self.windows, self.passes,
                                                   self.calibration.outputs)):
            win.make_current()
            tex = canvas
            if i > 0:
                key = (i, canvas.glo)
                tex = self._wrapped.get(key)
                if tex is None:
                    tex = win.ctx.external_texture(canvas.glo, canvas.size, 4, 0, "f1")
                    tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
                    self._wrapped[key] = tex
            fbo = win.framebuffer
            pass_.draw(tex, cal, fbo, (0, 0, *win.size))
        self.windows[0].make_current()

    def present(self) -> None:
        for win in self.windows[1:]:
            win.make_current()
            win.present()
        self.windows[0].make_current()
        self.windows[0].present()

    def poll(self) -> None:
        self._glfw.poll_events()

    def should_close(self) -> bool:
        return any(w.should_close() for w in self.windows)

    def close(self) -> None:
        for p in self.passes:
            try:
                p.release()
            except Exception:   # a context already gone
                pass
        for w in reversed(self.windows):
            w.close()
        self.windows = []
        self.passes = []
        self._glfw.terminate()


def run_outputs(frame_source, commands=None, *, outputs: Sequence, calibration: Calibration,
                canvas_size: tuple[int, int], scene: str = "os1",
                scene_params: Mapping[str, Mapping[str, Any]] | None = None,
                master: float = 1.0, stop: Any = None, seconds: float | None = None,
                vsync: bool = True, clock: Callable[[], float] = time.monotonic,
                crossfade_s: float = 1.5, param_smoothing_s: float = 0.25,
                flash_guard: bool = True, hot_reload: bool = True,
                status: Callable[..., None] | None = None, status_interval_s: float = 1.0,
                shader_dir: str | os.PathLike | None = None, context_api: str = "egl",
                on_error: Callable[[Exception], None] | None = None,
                audio_source: Callable[[], Any] | None = None) -> int:
    """The show on projectors: one window per output (see :class:`OutputsSurface`), the
    canvas rendered once, warped and blended into each. Calibration commands from OSC
    change ``calibration`` live and are saved. ``audio_source``: the measured ``u_audio``
    rows, as for :func:`installation.render.window.run_loop`. Returns the frames
    presented."""
    from installation.render.control import ShowControl, make_watcher
    from installation.render.flashguard import FlashGuard
    from installation.render.pacing import FramePacing
    from installation.render.renderer import SceneRenderer
    from installation.render.uniforms import UniformState
    from installation.render.window import _log_error, run_loop

    surface = OutputsSurface(outputs, calibration, canvas_size, vsync=vsync,
                             context_api=context_api)
    renderer = None
    try:
        renderer = SceneRenderer(surface.ctx, canvas_size, shader_dir=shader_dir,
                                 flash_guard=FlashGuard() if flash_guard else None)
        loaded = renderer.load_scene(scene)
        state = UniformState(size=canvas_size, master=master)
        params = {k: dict(v) for k, v in (scene_params or {}).items()}
        state.set_params(loaded.inputs, params.get(loaded.name))
        control = ShowControl(renderer, state, crossfade_s=crossfade_s,
                              param_smoothing_s=param_smoothing_s, params=params,
                              on_error=on_error or _log_error, status=status,
                              outputs=calibration, watcher=make_watcher(renderer, hot_reload))

        def present(r, st) -> None:
            r.render(st.uniforms())
            surface.draw(r.output_texture)
            calibration.tick()

        pacing = FramePacing(refresh_hz=surface.refresh_hz, interval_s=status_interval_s)
        return run_loop(surface, renderer, state, frame_source, commands=commands,
                        clock=clock, seconds=seconds, stop=stop, control=control,
                        pacing=pacing, status=status, present=present,
                        audio_source=audio_source)
    finally:
        calibration.flush()
        if renderer is not None:
            surface.windows[0].make_current() if surface.windows else None
            renderer.release()
        surface.close()
