"""GL contexts and surfaces: headless EGL, or a glfw window — one small interface.

A :class:`Surface` is where finished frames go: it has a ``size`` (framebuffer pixels),
a moderngl ``framebuffer`` to draw into and ``present()``. The renderer only ever sees
that, so the window is one backend among others (and tests run headless on EGL).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import moderngl

GL_REQUIRE = 330


@runtime_checkable
class Surface(Protocol):
    """Where frames are presented."""

    ctx: moderngl.Context

    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def framebuffer(self) -> moderngl.Framebuffer: ...

    def present(self) -> None: ...

    def poll(self) -> None: ...

    def should_close(self) -> bool: ...

    def close(self) -> None: ...


def create_headless_context() -> moderngl.Context:
    """A standalone OpenGL >= 3.3 core context on EGL (no display needed; Mesa llvmpipe
    or a GPU's EGL driver)."""
    return moderngl.create_context(standalone=True, backend="egl", require=GL_REQUIRE)


class HeadlessSurface:
    """An offscreen RGBA8 framebuffer; ``present()`` does nothing. Read it with
    :meth:`read`."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self._size = (int(size[0]), int(size[1]))
        self._texture = ctx.texture(self._size, 4)
        self._fbo = ctx.framebuffer(color_attachments=[self._texture])

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        return self._fbo

    refresh_hz = 60.0

    def present(self) -> None:
        pass

    def poll(self) -> None:
        pass

    def should_close(self) -> bool:
        return False

    def read(self):
        """The frame as a numpy uint8 array (H, W, 3), top row first."""
        from installation.render.renderer import read_framebuffer
        return read_framebuffer(self._fbo)

    def close(self) -> None:
        from installation.render.renderer import release_framebuffers
        release_framebuffers(self.ctx, [self._fbo])
        self._texture.release()


class _GlfwLoader:
    """moderngl function loader backed by glfw.get_proc_address."""

    def __init__(self, glfw) -> None:
        self._glfw = glfw

    def load_opengl_function(self, name: str) -> int:
        return self._glfw.get_proc_address(name) or 0


class WindowSurface:
    """A glfw window with its own GL 3.3 core context.

    ``size`` is the window size in screen coordinates, ``position`` its top-left corner;
    ``fullscreen`` puts it on monitor ``monitor`` (index into glfw's monitor list) at that
    monitor's current video mode. The cursor is hidden when ``hide_cursor``; ``vsync``
    sets swap interval 1. Needs a display (X11 or Wayland); raises ``RuntimeError``
    with glfw's message when there is none.

    ``context_api`` is ``"egl"`` (default) or ``"native"`` (GLX on X11, WGL, NSGL). EGL
    is the default on Linux because a process that also renders headless (EGL) cannot
    make a GLX context current while an EGL one is (Mesa: BadAccess, the X client
    exits). Use ``"native"`` for a driver without EGL. Contexts are per thread: use a
    surface from the thread that created it.
    """

    def __init__(self, size: tuple[int, int] = (1280, 720), *,
                 position: tuple[int, int] | None = None, fullscreen: bool = False,
                 monitor: int = 0, title: str = "installation", vsync: bool = True,
                 hide_cursor: bool = True, visible: bool = True,
                 context_api: str = "egl", borderless: bool = False,
                 share: "WindowSurface | None" = None, terminate: bool = True) -> None:
        import glfw  # imported here: headless use must not need it

        if context_api not in ("egl", "native"):
            raise ValueError(f"context_api must be 'egl' or 'native', got {context_api!r}")

        self._glfw = glfw
        errors: list[str] = []
        glfw.set_error_callback(lambda code, msg: errors.append(
            msg.decode() if isinstance(msg, bytes) else str(msg)))
        if not glfw.init():
            raise RuntimeError("glfw could not initialise (no display?): "
                               + "; ".join(errors or ["unknown error"]))
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.VISIBLE, bool(visible))
        glfw.window_hint(glfw.DOUBLEBUFFER, True)
        glfw.window_hint(glfw.CONTEXT_CREATION_API, glfw.EGL_CONTEXT_API
                         if context_api == "egl" else glfw.NATIVE_CONTEXT_API)
        handle = None
        width, height = int(size[0]), int(size[1])
        if fullscreen:
            monitors = glfw.get_monitors() or []
            if not monitors:
                glfw.terminate()
                raise RuntimeError("fullscreen requested but glfw sees no monitor")
            mon = monitors[monitor] if 0 <= monitor < len(monitors) else monitors[0]
            mode = glfw.get_video_mode(mon)
            glfw.window_hint(glfw.RED_BITS, mode.bits.red)
            glfw.window_hint(glfw.GREEN_BITS, mode.bits.green)
            glfw.window_hint(glfw.BLUE_BITS, mode.bits.blue)
            glfw.window_hint(glfw.REFRESH_RATE, mode.refresh_rate)
            width, height = mode.size.width, mode.size.height
            handle = glfw.create_window(width, height, title, mon, None)
        else:
            # borderless: a projector output covering its monitor without a mode change
            glfw.window_hint(glfw.DECORATED, not borderless)
            glfw.window_hint(glfw.FLOATING, borderless)
            glfw.window_hint(glfw.AUTO_ICONIFY, False)
            handle = glfw.create_window(width, height, title, None,
                                        share._window if share is not None else None)
        if not handle:
            if terminate:
                glfw.terminate()
            raise RuntimeError("glfw could not open a window: "
                               + "; ".join(errors or ["unknown error"]))
        self._window = handle
        self._terminate = terminate
        self.refresh_hz = 60.0
        mon = (glfw.get_window_monitor(handle) or glfw.get_primary_monitor())
        if mon:
            mode = glfw.get_video_mode(mon)
            if mode and mode.refresh_rate > 0:
                self.refresh_hz = float(mode.refresh_rate)
        if position is not None and not fullscreen:
            glfw.set_window_pos(handle, int(position[0]), int(position[1]))
        glfw.make_context_current(handle)
        glfw.swap_interval(1 if vsync else 0)
        if hide_cursor:
            glfw.set_input_mode(handle, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        # Load GL through glfw, so the same code serves EGL and native contexts.
        moderngl.init_context(_GlfwLoader(glfw))
        self.ctx = moderngl.get_context()
        if self.ctx.version_code < GL_REQUIRE:
            self.close()
            raise RuntimeError(f"window has OpenGL {self.ctx.version_code}, need {GL_REQUIRE}")

    @property
    def size(self) -> tuple[int, int]:
        w, h = self._glfw.get_framebuffer_size(self._window)
        return int(w), int(h)

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        fbo = self.ctx.screen
        fbo.viewport = (0, 0, *self.size)  # follows resizes
        return fbo

    def present(self) -> None:
        self._glfw.swap_buffers(self._window)

    def make_current(self) -> None:
        """Make this window's GL context current (several windows: one at a time)."""
        self._glfw.make_context_current(self._window)

    @property
    def position(self) -> tuple[int, int]:
        x, y = self._glfw.get_window_pos(self._window)
        return int(x), int(y)

    @property
    def window_size(self) -> tuple[int, int]:
        w, h = self._glfw.get_window_size(self._window)
        return int(w), int(h)

    def poll(self) -> None:
        self._glfw.poll_events()

    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self._window))

    def close(self) -> None:
        if self._window is not None:
            self._glfw.destroy_window(self._window)
            self._window = None
            if self._terminate:
                self._glfw.terminate()
