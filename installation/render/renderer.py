"""Draw a scene with moderngl: scene pass into an offscreen texture, then a final pass.

The scene writes display-referred sRGB into ``fragColor`` (it does its own tone mapping
and encoding with ``lib/color.glsl``). The final pass decodes to linear light, crossfades
from the previous scene when there is one, multiplies by ``u_master * (1 - u_blackout)``
and encodes back to sRGB into the target framebuffer.

The show must go on: when a scene fails to load or compile, the previous good program
stays on screen; the error is kept in :attr:`SceneRenderer.last_error` and raised for the
caller to log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import moderngl
import numpy as np

from installation.render import scene as scenes
from installation.render.audiotex import AudioRows
from installation.render.flashguard import GRID, FlashGuard
from installation.render.scene import Scene, SceneError, ShaderCompileError

VERTEX_SHADER = """#version 330
// One triangle that covers the viewport; no vertex buffer needed.
out vec2 v_uv;
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = p;
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""

_SRGB = """
vec3 to_linear(vec3 c) {
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c));
}
vec3 to_srgb(vec3 c) {
    c = max(c, 0.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}
"""

# The final pass comes in two programs chosen on the CPU, not one with a branch: llvmpipe
# pays for both sides of a uniform branch (28 ms vs 3 ms per 1280x720 pass measured).
COMPOSITE_GAIN_SHADER = """#version 330
in vec2 v_uv;
uniform sampler2D u_current;
uniform float u_gain;   // display-space gain: (u_master * (1 - u_blackout)) ^ (1 / 2.4)
out vec4 fragColor;
void main() {
    // in display space a linear gain g is ~ g^(1/2.4) (exact above the sRGB toe)
    fragColor = vec4(texture(u_current, v_uv).rgb * u_gain, 1.0);
}
"""

COMPOSITE_SHADER = """#version 330
in vec2 v_uv;
uniform sampler2D u_current;
uniform sampler2D u_previous;
uniform float u_mix;    // 0: previous only, 1: current only
uniform float u_gain;   // linear light
out vec4 fragColor;
""" + _SRGB + """
void main() {   // crossfade (and the flash guard's mix) in linear light
    vec3 a = mix(to_linear(texture(u_previous, v_uv).rgb),
                 to_linear(texture(u_current, v_uv).rgb), u_mix);
    fragColor = vec4(to_srgb(a * u_gain), 1.0);
}
"""

# Relative luminance (linear) of a coarse grid of the frame, for the flash guard: each
# output texel averages 8 x 8 bilinear taps (16 x 16 texels) spread over its cell.
REDUCE_SHADER = """#version 330
uniform sampler2D u_frame;
uniform vec2 u_grid;
out vec4 fragColor;
""" + _SRGB + """
void main() {
    vec2 cell = floor(gl_FragCoord.xy);
    float sum = 0.0;
    for (int j = 0; j < 8; j++) {
        for (int i = 0; i < 8; i++) {
            vec2 uv = (cell + (vec2(i, j) + 0.5) / 8.0) / u_grid;
            sum += dot(to_linear(texture(u_frame, uv).rgb), vec3(0.2126, 0.7152, 0.0722));
        }
    }
    fragColor = vec4(sum / 64.0, 0.0, 0.0, 1.0);
}
"""

# Probe for the driver's #line convention (see scene.map_error_log).
_PROBE = "#version 330\nout vec4 c;\n#line 10 0\nvoid main() { c = vec4(1.0) }\n"


def release_framebuffers(ctx: moderngl.Context, fbos) -> None:
    """Release framebuffers, first unbinding the one that is bound: moderngl rebinds the
    current framebuffer after creating another, and a released name there is
    GL_INVALID_OPERATION."""
    fbos = list(fbos)
    if any(ctx.fbo is f for f in fbos):
        (ctx.screen or ctx.detect_framebuffer(0)).use()
    for fbo in fbos:
        fbo.release()


def read_framebuffer(fbo: moderngl.Framebuffer) -> np.ndarray:
    """An RGBA8 framebuffer's colour as uint8 (H, W, 3), top row first."""
    w, h = fbo.size
    data = fbo.read(components=3, alignment=1)
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)[::-1].copy()


@dataclass
class _Slot:
    """A compiled scene and what is needed to draw it."""

    scene: Scene
    program: moderngl.Program
    vao: moderngl.VertexArray
    uniforms: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)  # last p_ values it was drawn with
    start: float | None = None  # u_time of its first frame on screen (u_scene_time = 0)

    def release(self) -> None:
        self.vao.release()
        self.program.release()


class SceneRenderer:
    """Renders scenes at a fixed ``size`` (w, h) in pixels on ``ctx``.

    ``shader_dir`` is where scene names resolve (default :func:`scene.shader_dir`).
    ``crossfade_s`` is the default crossfade when switching scenes (0: cut).
    ``flash_guard`` (a :class:`FlashGuard`) limits large-area flashes in what is shown:
    each frame is measured and, when needed, mixed with the previous shown frame.
    """

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int], *,
                 shader_dir: str | os.PathLike | None = None, crossfade_s: float = 0.0,
                 flash_guard: FlashGuard | None = None) -> None:
        self.ctx = ctx
        self.shader_dir = Path(shader_dir) if shader_dir is not None else None
        self.crossfade_s = float(crossfade_s)
        self.last_error: SceneError | None = None
        self._current: _Slot | None = None
        self._previous: _Slot | None = None
        self._fade_s = 0.0
        self._fade_start: float | None = None
        self._line_offset: int | None = None
        self._composite = ctx.program(vertex_shader=VERTEX_SHADER,
                                      fragment_shader=COMPOSITE_SHADER)
        self._composite_vao = ctx.vertex_array(self._composite, [])
        self._gain = ctx.program(vertex_shader=VERTEX_SHADER,
                                 fragment_shader=COMPOSITE_GAIN_SHADER)
        self._gain_vao = ctx.vertex_array(self._gain, [])
        self.flash_guard = flash_guard
        self._reduce = ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=REDUCE_SHADER)
        self._reduce_vao = ctx.vertex_array(self._reduce, [])
        self._grid_tex = ctx.texture(GRID, 4, dtype="f4")
        self._grid_fbo = ctx.framebuffer(color_attachments=[self._grid_tex])
        self._shown: int | None = None   # pool index of the frame on screen (guarded path)
        self.audio = AudioRows()
        self._audio_tex = ctx.texture((512, 2), 1, dtype="f4")
        self._audio_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._audio_tex.repeat_x = self._audio_tex.repeat_y = False
        self._audio_at: float | None = None
        self._size = (0, 0)
        self._targets: list[tuple[moderngl.Texture, moderngl.Framebuffer]] = []
        self.resize(size)

    # -- size -----------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def resize(self, size: tuple[int, int]) -> None:
        """Reallocate the offscreen targets for ``size`` (w, h) pixels."""
        size = (int(size[0]), int(size[1]))
        if size[0] < 1 or size[1] < 1:
            raise ValueError(f"render size must be positive, got {size}")
        if size == self._size:
            return
        self._release_targets()
        self._size = size
        self._shown = None
        for _ in range(5):  # current scene, previous scene, output (x3: guard's pool)
            tex = self.ctx.texture(size, 4)
            tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
            tex.repeat_x = tex.repeat_y = False
            self._targets.append((tex, self.ctx.framebuffer(color_attachments=[tex])))

    # -- scenes ---------------------------------------------------------------------
    @property
    def scene(self) -> Scene | None:
        """The scene on screen (the last one that compiled)."""
        return self._current.scene if self._current else None

    def load_scene(self, name_or_path: str | os.PathLike, *,
                   crossfade_s: float | None = None) -> Scene:
        """Load, compile and switch to a scene (by name, or a path to a ``.frag``).

        On failure the current scene keeps running; the :class:`SceneError` (a
        :class:`ShaderCompileError` for compile errors, with ``file``, ``line`` and
        ``message`` mapped back through includes) is stored in :attr:`last_error` and
        raised.
        """
        try:
            loaded = scenes.load_scene(name_or_path, self.shader_dir)
            slot = self._compile(loaded)
        except SceneError as exc:
            self.last_error = exc
            raise
        self.last_error = None
        fade = self.crossfade_s if crossfade_s is None else float(crossfade_s)
        if self._previous is not None:
            self._previous.release()
            self._previous = None
        if self._current is not None and self._current.scene.path == loaded.path:
            slot.start = self._current.start   # a reload goes on where it was
        if self._current is not None and fade > 0:
            self._previous = self._current
            self._fade_s, self._fade_start = fade, None
        elif self._current is not None:
            self._current.release()
        self._current = slot
        return loaded

    def reload(self) -> Scene:
        """Recompile the current scene from disk (hot reload); same failure rules."""
        if self._current is None:
            raise SceneError("<none>", "no scene loaded")
        return self.load_scene(self._current.scene.path, crossfade_s=0.0)

    def _compile(self, loaded: Scene) -> _Slot:
        try:
            program = self.ctx.program(vertex_shader=VERTEX_SHADER,
                                       fragment_shader=loaded.source)
        except moderngl.Error as exc:
            log = str(exc)
            diagnostics = scenes.map_error_log(log, loaded.files,
                                               line_offset=self._driver_line_offset())
            raise ShaderCompileError(diagnostics, log, str(loaded.path)) from None
        uniforms = {name: program[name] for name in program
                    if isinstance(program[name], moderngl.Uniform)}
        return _Slot(loaded, program, self.ctx.vertex_array(program, []), uniforms)

    def _driver_line_offset(self) -> int:
        # GLSL 3.30 says the line after "#line N" is N+1, newer specs (and Mesa) say N.
        if self._line_offset is None:
            self._line_offset = 0
            try:
                self.ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=_PROBE)
            except moderngl.Error as exc:
                for d in scenes.map_error_log(str(exc), ["probe"]):
                    if d.line is not None and d.line in (10, 11):
                        self._line_offset = d.line - 10
                        break
        return self._line_offset

    # -- drawing --------------------------------------------------------------------
    def render(self, uniforms: Mapping[str, Any], *,
               target: moderngl.Framebuffer | None = None) -> None:
        """Draw one frame with ``uniforms`` (from :class:`UniformState`) into ``target``
        (default: the renderer's own output, read with :meth:`read`).

        ``u_resolution`` is always the render size. Uniforms the program does not use
        are ignored.
        """
        now = float(uniforms.get("u_time", 0.0))
        gain = max(0.0, float(uniforms.get("u_master", 1.0))
                   * (1.0 - float(uniforms.get("u_blackout", 0.0))))
        mix_value = 1.0
        if self._previous is not None:
            if self._fade_start is None:
                self._fade_start = now
            mix_value = min(1.0, max(0.0, (now - self._fade_start) / self._fade_s))
            if mix_value >= 1.0:
                self._previous.release()
                self._previous = None
        if self.flash_guard is None:
            out = target if target is not None else self._targets[2][1]
            self._compose(uniforms, out, gain, mix_value)
            return
        # Guarded: compose into a free texture of the pool, measure it, and show it or
        # its mix with the frame shown before (which must stay intact until then).
        pool = [i for i in (2, 3, 4) if i != self._shown]
        canvas = pool[0]
        self._compose(uniforms, self._targets[canvas][1], gain, mix_value)
        a = self.flash_guard.limit(self._measure(self._targets[canvas][0]), now)
        if a < 1.0 and self._shown is not None:
            mixed = pool[1]
            self._pass(self._composite, self._composite_vao, self._targets[mixed][1],
                       self._targets[canvas][0], self._targets[self._shown][0],
                       u_mix=a, u_gain=1.0)
            self._shown = mixed
        else:
            self._shown = canvas
        if target is not None:
            self.ctx.copy_framebuffer(target, self._targets[self._shown][1])

    @property
    def output_texture(self) -> moderngl.Texture:
        """The texture holding the last frame rendered into the own output (the canvas
        the output passes warp onto projectors)."""
        return self._targets[2 if self._shown is None else self._shown][0]

    def _compose(self, uniforms: Mapping[str, Any], out: moderngl.Framebuffer,
                 gain: float, mix_value: float) -> None:
        cur_tex, cur_fbo = self._targets[0]
        prev_tex, prev_fbo = self._targets[1]
        if (self._current is not None and self._previous is None and gain >= 1.0
                and tuple(out.viewport[2:]) == self._size):
            # Nothing to do in the final pass: draw straight into the target (llvmpipe
            # spends several ms per 1280x720 frame on a full-screen pass).
            self._draw(self._current, uniforms, out, live=True)
            return
        if self._current is not None:
            self._draw(self._current, uniforms, cur_fbo, live=True)
        else:
            cur_fbo.clear(0.0, 0.0, 0.0, 1.0)
        if self._previous is not None:
            self._draw(self._previous, uniforms, prev_fbo, live=False)
            self._pass(self._composite, self._composite_vao, out, cur_tex, prev_tex,
                       u_mix=mix_value, u_gain=gain)
        else:
            self._pass(self._gain, self._gain_vao, out, cur_tex, None,
                       u_gain=gain ** (1.0 / 2.4))

    def _pass(self, program, vao, out, current, previous, **values) -> None:
        out.use()
        current.use(0)
        program["u_current"].value = 0
        if previous is not None:
            previous.use(1)
            program["u_previous"].value = 1
        for name, value in values.items():
            program[name].value = value
        vao.render(moderngl.TRIANGLES, vertices=3)

    def _measure(self, texture: moderngl.Texture) -> np.ndarray:
        """Relative luminance (linear) of ``texture`` on the :data:`GRID`, (h, w)."""
        self._grid_fbo.use()
        texture.use(0)
        self._reduce["u_frame"].value = 0
        self._reduce["u_grid"].value = (float(GRID[0]), float(GRID[1]))
        self._reduce_vao.render(moderngl.TRIANGLES, vertices=3)
        data = self._grid_fbo.read(components=1, dtype="f4")
        return np.frombuffer(data, dtype=np.float32).reshape(GRID[1], GRID[0])

    def _draw(self, slot: _Slot, uniforms: Mapping[str, Any], fbo: moderngl.Framebuffer,
              *, live: bool) -> None:
        fbo.use()
        if "u_audio" in slot.uniforms:
            t = float(uniforms.get("u_time", 0.0))
            if self._audio_at != t:      # once per frame, only for scenes that sample it
                self._audio_tex.write(self.audio.update(uniforms).tobytes())
                self._audio_at = t
            self._audio_tex.use(0)
        for name, member in slot.uniforms.items():
            if name == "u_resolution":
                value: Any = (float(self._size[0]), float(self._size[1]))
            elif name == "u_scene_time":
                now = float(uniforms.get("u_time", 0.0))
                if slot.start is None:
                    slot.start = now
                value = now - slot.start
            elif name.startswith("p_"):
                # The scene leaving in a crossfade keeps the parameters it had.
                if live and name in uniforms:
                    slot.params[name] = uniforms[name]
                if name in slot.params:
                    value = slot.params[name]
                else:
                    inp = next((i for i in slot.scene.inputs if i.uniform == name), None)
                    if inp is None:
                        continue
                    value = inp.default
            elif name in uniforms:
                value = uniforms[name]
            else:
                continue
            member.value = value
        slot.vao.render(moderngl.TRIANGLES, vertices=3)

    def read(self) -> np.ndarray:
        """The last frame rendered into the own output: uint8 (H, W, 3), top row first."""
        return read_framebuffer(self._targets[2 if self._shown is None
                                              else self._shown][1])

    # -- cleanup --------------------------------------------------------------------
    def _release_targets(self) -> None:
        release_framebuffers(self.ctx, [fbo for _, fbo in self._targets])
        for tex, _ in self._targets:
            tex.release()
        self._targets = []

    def release(self) -> None:
        for slot in (self._current, self._previous):
            if slot is not None:
                slot.release()
        self._current = self._previous = None
        self._release_targets()
        for obj in (self._composite_vao, self._composite, self._gain_vao, self._gain,
                    self._reduce_vao, self._reduce):
            obj.release()
        release_framebuffers(self.ctx, [self._grid_fbo])
        self._grid_tex.release()
        self._audio_tex.release()
