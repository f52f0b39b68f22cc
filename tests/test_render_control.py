"""Show control in the renderer: hot reload (watcher + ShowControl), parameters over OSC
with smoothing and per-scene memory, crossfade time, status reports, frame pacing."""

from __future__ import annotations

import os
import queue
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from installation.render.control import ShowControl
from installation.render.pacing import FramePacing
from installation.render.watch import ShaderWatcher, affects
from conftest import FakeClock

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"


def flat(value: float, extra: str = "") -> str:
    return ('/*{"INPUTS": [{"NAME": "k", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, '
            '"MAX": 1.0}]}*/\n' + extra + "void main() {\n"
            f"    fragColor = vec4(vec3({value}) * p_k, 1.0);\n}}\n")


def touch_later(path: Path, text: str) -> None:
    """Write ``text`` so the file's mtime surely differs from before."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


# -- watcher (pure) ------------------------------------------------------------------------
def test_watcher_reports_a_save_once_it_has_settled(tmp_path):
    (tmp_path / "lib").mkdir()
    scene = tmp_path / "a.frag"
    scene.write_text("x")
    (tmp_path / "lib" / "n.glsl").write_text("y")
    w = ShaderWatcher(tmp_path, interval_s=0.1)
    assert w.poll(0.0) == set()
    touch_later(scene, "xx")
    assert w.poll(0.05) == set()                 # not yet time to look
    assert w.poll(0.1) == set()                  # seen; waits one poll to settle
    assert w.poll(0.2) == {str(scene.resolve())}
    assert w.poll(0.3) == set()                  # reported once
    touch_later(tmp_path / "lib" / "n.glsl", "yy")
    w.poll(0.4)
    assert w.poll(0.5) == {str((tmp_path / "lib" / "n.glsl").resolve())}
    with pytest.raises(ValueError):
        ShaderWatcher(tmp_path, interval_s=0)


def test_affects_knows_the_scene_and_its_includes():
    from installation.render.scene import load_scene
    s = load_scene("os1", REPO_SHADERS)
    noise = str((REPO_SHADERS / "lib" / "noise.glsl").resolve())
    assert affects(s, {noise})
    assert affects(s, {str((REPO_SHADERS / "os1.frag").resolve())})
    assert not affects(s, {str((REPO_SHADERS / "dawn.frag").resolve())})
    assert not affects(s, set())


def test_pacing_counts_frame_time_drops_and_feature_age():
    p = FramePacing(refresh_hz=60, interval_s=1.0)
    t = 0.0
    p.features(0.0)
    for k in range(60):
        t += 1 / 60 if k != 30 else 3 / 60          # one frame took three refreshes
        p.frame(t)
        assert p.report(t) is None or k >= 57
    rep = p.report(t + 0.1) or p.last_report
    assert rep is not None
    assert rep.dropped == 2
    assert rep.worst_ms == pytest.approx(50.0, abs=0.5)
    assert 55 < rep.fps < 61
    assert rep.feature_age_ms > 900
    assert "dropped" in rep.line()


# -- on EGL ------------------------------------------------------------------------------
@pytest.fixture
def live(ctx, tmp_path):
    from installation.render.renderer import SceneRenderer
    from installation.render.uniforms import UniformState

    shutil.copytree(REPO_SHADERS / "lib", tmp_path / "lib")
    (tmp_path / "live.frag").write_text(flat(0.2))
    (tmp_path / "other.frag").write_text(flat(0.6))
    r = SceneRenderer(ctx, (8, 8), shader_dir=tmp_path)
    loaded = r.load_scene("live")
    state = UniformState(size=(8, 8))
    state.set_params(loaded.inputs)
    yield tmp_path, r, state
    r.release()


def pixel(r, state, t: float) -> int:
    state.advance(t)
    r.render(state.uniforms())
    return int(r.read()[0, 0, 0])


def test_hot_reload_keeps_the_last_good_and_names_the_line(live):
    folder, r, state = live
    errors, sent = [], []
    control = ShowControl(r, state, on_error=errors.append,
                          status=lambda *a: sent.append(a),
                          watcher=ShaderWatcher(folder, interval_s=0.1))
    assert pixel(r, state, 0.0) == 51
    # a broken save: missing ';' on line 4
    touch_later(folder / "live.frag", flat(0.6).replace("p_k, 1.0);", "p_k, 1.0)"))
    for t in (0.1, 0.2, 0.3):
        control.poll(t)
    assert len(errors) == 1 and errors[0].line in (4, 5)
    assert str(folder / "live.frag") in str(errors[0])
    assert sent[-1][0] == "/status/error" and sent[-1][1] == str(folder / "live.frag")
    assert sent[-1][2] in (4, 5) and "syntax error" in sent[-1][3]
    assert pixel(r, state, 0.3) == 51                        # last good stays on screen
    # fixed: the new one shows
    touch_later(folder / "live.frag", flat(0.6))
    for t in (0.4, 0.5, 0.6):
        control.poll(t)
    assert pixel(r, state, 0.6) == 153
    assert sent[-1] == ("/status/reloaded", "live") and control.reloads == 1
    # an include it uses changes too
    touch_later(folder / "live.frag", flat(0.2, '#include "lib/palette.glsl"\n'))
    for t in (0.7, 0.8, 0.9):
        control.poll(t)
    assert pixel(r, state, 0.9) == 51, errors
    touch_later(folder / "lib" / "palette.glsl",
                (folder / "lib" / "palette.glsl").read_text() + "\n// edited\n")
    for t in (1.0, 1.1, 1.2):
        control.poll(t)
    assert control.reloads == 3


def test_hot_reload_within_half_a_second_in_the_running_loop(live):
    """Real clock, real files: save while the loop runs; the new picture is on screen in
    under 0.5 s."""
    from installation.render.context import HeadlessSurface
    from installation.render.window import run_loop

    folder, r, state = live
    surface = HeadlessSurface(r.ctx, (8, 8))
    control = ShowControl(r, state, watcher=ShaderWatcher(folder))
    saved_at: list[float] = []
    seen_at: list[float] = []

    def source():
        if not saved_at and state.time > 0.3:
            touch_later(folder / "live.frag", flat(1.0))
            saved_at.append(time.monotonic())
        if saved_at and not seen_at and int(surface.read()[0, 0, 0]) == 255:
            seen_at.append(time.monotonic())
        return None

    run_loop(surface, r, state, source, control=control, seconds=2.0,
             stop=lambda: bool(seen_at))
    assert saved_at and seen_at, "the saved shader never showed"
    # By design it takes one 0.15 s poll plus one to see the file settle (~0.3 s, measured
    # 0.30 s in five runs while CI ran beside it). The bound here is looser so a loaded machine
    # does not fail it; a real regression (no watcher, a slower poll) still does.
    print(f"hot reload latency {seen_at[0] - saved_at[0]:.3f} s")
    assert seen_at[0] - saved_at[0] < 1.5, seen_at[0] - saved_at[0]
    surface.close()


def test_params_glide_are_kept_per_scene_and_checked(live):
    folder, r, state = live
    errors = []
    control = ShowControl(r, state, param_smoothing_s=0.2, crossfade_s=0.0,
                          on_error=errors.append)
    assert pixel(r, state, 0.0) == 51
    control.apply(("param", "live", "k", 0.0))
    values = [pixel(r, state, t) for t in (0.05, 0.1, 0.2, 0.4, 2.0)]
    assert values[0] < 51 and values[-1] == 0
    assert all(b <= a for a, b in zip(values, values[1:]))   # a glide, no jump
    assert len(set(values)) >= 4                             # several steps, not one
    # set a parameter of another scene: kept until it appears
    control.apply(("param", "other", "k", 0.5))
    control.apply(("scene", "other"))
    state.advance(2.1)
    assert state.uniforms()["p_k"] == pytest.approx(0.5)
    # unknown scene / parameter: reported, nothing changes
    control.apply(("param", "other", "nope", 1.0))
    control.apply(("param", "missing", "k", 1.0))
    assert len(errors) == 2 and r.scene.name == "other"
    # crossfade time over OSC
    control.apply(("crossfade", 3.0))
    assert control.crossfade_s == 3.0
    control.apply(("crossfade", -1.0))
    assert control.crossfade_s == 3.0 and len(errors) == 3


def test_osc_commands_reach_the_renderer(live):
    """The control server's validation produces exactly the commands ShowControl takes."""
    from installation.osc.transport import ControlServer

    folder, r, state = live
    got: list = []
    server = ControlServer(got.append, "127.0.0.1", 0)
    try:
        v = server.validate
        assert v("/her/crossfade", [2.5]) == ("crossfade", 2.5)
        assert v("/her/param/live/k", [0.3]) == ("param", "live", "k", 0.3)
        assert v("/her/param/os1/tint", [1, 0.5, 0.5, 1]) == (
            "param", "os1", "tint", (1.0, 0.5, 0.5, 1.0))
        assert v("/her/reload", [1]) == ("reload",)
        assert v("/her/output/1/keystone", [0, 0, 1, 0, 1, 1, 0, 1]) == (
            "keystone", 1, (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0))
        assert v("/her/output/0/corner/2", [0.9, 0.95]) == ("corner", 0, 2, 0.9, 0.95)
        assert v("/her/output/0/blend/right", [0.2, 2.2, 0.5]) == (
            "blend", 0, "right", 0.2, 2.2, 0.5)
        assert v("/her/output/0/region", [0, 0, 0.55, 1]) == ("region", 0, (0, 0, 0.55, 1))
        assert v("/her/calibration/reset", [-1]) == ("calibration_reset", -1)
        for bad in [("/her/param/live", [1.0]), ("/her/param/live/k", ["x"]),
                    ("/her/output/0/keystone", [0, 0]), ("/her/output/0/blend/middle", [0, 1, 0]),
                    ("/her/output/0/blend/left", [0.9, 2.2, 0.5]),
                    ("/her/output/0/region", [0.5, 0, 0.2, 1]), ("/her/crossfade", [99.0]),
                    ("/her/output/x/keystone", [0] * 8)]:
            assert v(*bad) is None, bad
        assert server.counters.rejected == 8
        control = ShowControl(r, state, param_smoothing_s=0.0)
        control.apply(v("/her/param/live/k", [0.5]))
        assert state.uniforms()["p_k"] == 0.5
    finally:
        server.close()


def test_loop_reports_pacing_through_status(live):
    from installation.render.context import HeadlessSurface
    from installation.render.window import run_loop

    folder, r, state = live

    sent = []
    surface = HeadlessSurface(r.ctx, (8, 8))
    commands: queue.Queue = queue.Queue()
    run_loop(surface, r, state, lambda: None, commands=commands, clock=FakeClock(),
             max_frames=150, pacing=FramePacing(interval_s=1.0),
             status=lambda *a: sent.append(a))
    frames = [s for s in sent if s[0] == "/status/frame"]
    assert len(frames) == 2
    _, fps, mean_ms, worst_ms, age_ms, dropped = frames[0]
    assert fps == pytest.approx(60, rel=0.01) and dropped == 0 and age_ms == -1
    surface.close()
    assert np.isfinite(mean_ms) and worst_ms >= mean_ms


def test_status_sender_reaches_targets_and_recent_controllers():
    import socket

    from pythonosc import osc_message

    from installation.osc.transport import StatusSender

    socks = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(2.0)
        socks.append(s)
    target, peer = (("127.0.0.1", s.getsockname()[1]) for s in socks)
    sender = StatusSender([target], "/her", peers=[peer])
    try:
        sender("/status/error", "/shaders/x.frag", 12, "syntax error")
        sender("/status/frame", 59.9, 16.7, 33.4, 4.0, 1)
        sender("/status/nope", 1)                     # not in the namespace: dropped
        for s in socks:
            first = osc_message.OscMessage(s.recv(4096))
            assert first.address == "/her/status/error"
            assert first.params == ["/shaders/x.frag", 12, "syntax error"]
            second = osc_message.OscMessage(s.recv(4096))
            assert second.address == "/her/status/frame" and second.params[-1] == 1
        assert sender.sent == 4
    finally:
        sender.close()
        for s in socks:
            s.close()
