"""installation.render.window and .context: the real-time loop and its surfaces.

The loop is tested on a headless EGL surface (no display needed); the glfw window is
tested on a real X server (marked ``display``; conftest's ``x_display`` starts Xvfb when
there is no $DISPLAY).
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from installation.features import FeatureFrame
from installation.render.context import HeadlessSurface, Surface, WindowSurface
from installation.render.renderer import SceneRenderer
from installation.render.uniforms import UniformState
from installation.render.window import apply_command, run_loop, run_window

import conftest  # noqa: E402

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"
SIZE = (64, 36)


def FakeClock() -> conftest.FakeClock:
    """60 Hz ticks from t = 100 s (not 0: the loop must not depend on the clock's origin)."""
    return conftest.FakeClock(start=100.0)


def make_loop(ctx):
    surface = HeadlessSurface(ctx, SIZE)
    renderer = SceneRenderer(ctx, SIZE, shader_dir=REPO_SHADERS)
    state = UniformState(size=SIZE)
    renderer.load_scene("os1")
    state.set_params(renderer.scene.inputs)
    return surface, renderer, state


def test_headless_context_and_surface(ctx):
    assert ctx.version_code >= 330
    surface = HeadlessSurface(ctx, SIZE)
    assert isinstance(surface, Surface)
    assert surface.size == SIZE and surface.framebuffer.size == SIZE
    assert not surface.should_close()
    surface.present()
    surface.poll()
    surface.close()


def test_loop_renders_applies_commands_and_reports_errors(ctx):
    surface, renderer, state = make_loop(ctx)
    commands: queue.Queue = queue.Queue()
    for cmd in [("master", 0.25), ("blackout", False), ("param", "glow", 0.9),
                ("scene", "does-not-exist"), ("param", "nope", 1), ("dance",), ()]:
        commands.put(cmd)
    errors: list[Exception] = []
    clock = FakeClock()
    fed = []

    def source():
        frame = FeatureFrame(len(fed) * 0.016, len(fed), level_rms_db=-15.0, voice=1.0,
                             onset=1.0 if len(fed) == 3 else 0.0)
        fed.append(frame)
        return frame

    n = run_loop(surface, renderer, state, source, commands=commands, clock=clock,
                   max_frames=12, on_error=errors.append)
    assert n == 12 and len(fed) == 12
    assert len(errors) == 4        # unknown scene, unknown param, unknown command, empty
    assert "does-not-exist" in str(errors[0]) and "nope" in str(errors[1])
    assert renderer.scene.name == "os1"            # the show went on
    u = state.uniforms()
    assert u["p_glow"] == pytest.approx(0.9)
    assert u["u_master"] < 0.5                     # heading for 0.25, smoothed
    assert u["u_time"] == pytest.approx(12 / 60)   # time since the loop started
    assert u["u_voice"] > 0.5 and u["u_onset_pulse"] > 0.5
    assert surface.read().mean() > 5
    renderer.release()
    surface.close()


def test_loop_accepts_batches_and_none_and_quits(ctx):
    surface, renderer, state = make_loop(ctx)
    batches = iter([None, [FeatureFrame(0.0, 0), FeatureFrame(0.005, 1, onset=1.0),
                           FeatureFrame(0.010, 2)], None, None])
    commands: queue.Queue = queue.Queue()
    n = run_loop(surface, renderer, state, lambda: next(batches, None),
                   commands=commands, clock=FakeClock(), max_frames=3)
    assert n == 3
    # the onset came in the middle of a batch and was not lost
    # (a batch is applied at the loop time it arrived: the second frame, t = 2/60 s)
    assert state.uniforms()["u_onset_pulse"] == pytest.approx(np.exp(-(1 / 60) / 0.25))
    commands.put(("quit",))
    assert run_loop(surface, renderer, state, lambda: None, commands=commands,
                      clock=FakeClock()) == 0
    renderer.release()
    surface.close()


def test_loop_stops_on_event_callable_and_seconds(ctx):
    surface, renderer, state = make_loop(ctx)
    event = threading.Event()
    event.set()
    assert run_loop(surface, renderer, state, lambda: None, stop=event,
                    clock=FakeClock()) == 0
    calls = []
    assert run_loop(surface, renderer, state, lambda: None, clock=FakeClock(),
                    stop=lambda: calls.append(1) or len(calls) > 4) == 4
    # 0.5 s of a 60 Hz clock (the clock is read once more per frame for the time)
    n = run_loop(surface, renderer, state, lambda: None, clock=FakeClock(), seconds=0.5)
    assert 14 <= n <= 16
    renderer.release()
    surface.close()


def test_blackout_command_fades_to_black(ctx):
    surface, renderer, state = make_loop(ctx)
    assert apply_command(("blackout", True), renderer, state)
    run_loop(surface, renderer, state, lambda: None, clock=FakeClock(), max_frames=70)
    assert surface.read().max() == 0
    renderer.release()
    surface.close()


def test_scene_command_crossfades(ctx, tmp_path):
    for name, value in (("a", 0.0), ("b", 1.0)):
        (tmp_path / f"{name}.frag").write_text(
            f'/*{{"INPUTS": []}}*/\nvoid main() {{ fragColor = vec4(vec3({value}), 1); }}\n')
    surface = HeadlessSurface(ctx, (4, 4))
    renderer = SceneRenderer(ctx, (4, 4), shader_dir=tmp_path)
    renderer.load_scene("a")
    state = UniformState(size=(4, 4))
    commands: queue.Queue = queue.Queue()
    commands.put(("scene", "b"))
    run_loop(surface, renderer, state, lambda: None, commands=commands,
               clock=FakeClock(), crossfade_s=1.0, max_frames=31)
    assert 150 < surface.read()[0, 0, 0] < 255   # half-way
    run_loop(surface, renderer, state, lambda: None, clock=FakeClock(), max_frames=40)
    assert surface.read()[0, 0, 0] == 255
    renderer.release()
    surface.close()


# -- a real window ------------------------------------------------------------------------
@pytest.mark.display
def test_glfw_window_runs_the_loop(x_display):
    pytest.importorskip("glfw")
    surface = WindowSurface((160, 90), position=(20, 30), title="test", vsync=True,
                            hide_cursor=True)
    try:
        assert isinstance(surface, Surface)
        assert surface.size == (160, 90)
        assert surface.ctx.version_code >= 330
        renderer = SceneRenderer(surface.ctx, surface.size, shader_dir=REPO_SHADERS)
        state = UniformState(size=surface.size)
        renderer.load_scene("os1")
        state.set_params(renderer.scene.inputs)
        frame = FeatureFrame(0.1, 1, level_rms_db=-15.0, voice=1.0, pitch_hz=220.0)
        n = run_loop(surface, renderer, state, lambda: frame, clock=FakeClock(),
                       max_frames=5)
        assert n == 5 and not surface.should_close()
        assert surface.ctx.error == "GL_NO_ERROR"
        # (the default framebuffer cannot be read back portably: check the same frame
        # drawn offscreen on the window's context)
        renderer.render(state.uniforms())
        img = renderer.read()
        assert img.shape == (90, 160, 3) and img.mean() > 5
        renderer.release()
    finally:
        surface.close()


NATIVE_SCRIPT = """
from installation.render.context import WindowSurface
from installation.render.renderer import SceneRenderer
s = WindowSurface((64, 36), context_api="native", fullscreen=False)
r = SceneRenderer(s.ctx, s.size, shader_dir={shaders!r})
r.load_scene("os1")
r.render({{"u_time": 1.0}}, target=s.framebuffer)
s.present()
print("OK", s.ctx.error)
s.close()
"""


@pytest.mark.display
def test_glfw_native_context_in_its_own_process(x_display):
    """GLX (native) windows work too, in a process without a headless EGL context."""
    pytest.importorskip("glfw")
    import sys
    proc = subprocess.run([sys.executable, "-c", NATIVE_SCRIPT.format(shaders=str(REPO_SHADERS))],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_SHADERS.parent)})
    assert proc.returncode == 0, proc.stderr
    assert "OK GL_NO_ERROR" in proc.stdout


@pytest.mark.display
def test_window_rejects_unknown_context_api(x_display):
    pytest.importorskip("glfw")
    with pytest.raises(ValueError, match="context_api"):
        WindowSurface((64, 36), context_api="vulkan")


@pytest.mark.display
def test_run_window_opens_shows_and_stops(x_display):
    """The one-call form the CLI uses: window, scene, params, master, commands, stop."""
    pytest.importorskip("glfw")
    commands: queue.Queue = queue.Queue()
    commands.put(("blackout", True))
    stop = threading.Event()
    seen = []

    def source():
        seen.append(1)
        if len(seen) == 8:
            stop.set()
        return FeatureFrame(len(seen) * 0.01, len(seen), level_rms_db=-20.0, voice=1.0)

    n = run_window(source, commands, size=(96, 54), scene="os1", params={"glow": 0.8},
                   master=0.7, stop=stop, clock=FakeClock(), shader_dir=REPO_SHADERS)
    assert n == 8
    n = run_window(lambda: None, None, size=(96, 54), seconds=0.2, clock=FakeClock(),
                   shader_dir=REPO_SHADERS)
    assert 5 <= n <= 7
    with pytest.raises(Exception, match="unknown scene parameter"):
        run_window(lambda: None, size=(96, 54), params={"nope": 1}, seconds=0.1,
                   shader_dir=REPO_SHADERS)
