"""Projector outputs: keystone (homography), soft-edge blend, regions of a shared canvas,
calibration over OSC saved atomically, and one window per output on a real X display."""

from __future__ import annotations

import json
import os
import queue
import time
from pathlib import Path

import numpy as np
import pytest

from installation.config import OutputConfig, parse_show
from installation.render.calibration import (Calibration, EdgeBlend, OutputCalibration,
                                             apply_homography, homography, write_atomically)

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"


# -- pure --------------------------------------------------------------------------------
def test_homography_maps_the_four_corners():
    src = [(0, 0), (1, 0), (1, 1), (0, 1)]
    dst = [(0.1, 0.2), (0.95, 0.0), (1.0, 1.0), (0.0, 0.9)]
    h = homography(src, dst)
    assert np.allclose(apply_homography(h, np.array(src, float)), dst)
    assert np.allclose(homography(src, src), np.eye(3))
    with pytest.raises(ValueError):
        OutputCalibration(keystone=(0, 0, 0.5, 0.5, 1, 1, 0.2, 0.2))   # collinear


def test_blend_ramps_of_neighbours_sum_to_one_in_light():
    x = np.linspace(0, 1, 101)
    for curve in (0.0, 0.5, 1.0):
        for gamma in (1.8, 2.2, 2.6):
            e = EdgeBlend(1.0, gamma, curve)
            assert np.allclose(e.factor(x) ** gamma + e.factor(1 - x) ** gamma, 1.0)
    assert np.all(EdgeBlend(0.0).factor(x) == 1.0)


def test_calibration_commands_save_atomically_and_reload(tmp_path):
    path = tmp_path / "cal" / "calibration.json"
    clock = [0.0]
    cal = Calibration([OutputCalibration("a"), OutputCalibration("b")], path,
                      clock=lambda: clock[0])
    cal.apply(("corner", 1, 0, 0.1, 0.2))
    assert json.loads(path.read_text())["outputs"][1]["keystone"][:2] == [0.1, 0.2]
    # a fader: many changes within the throttle interval -> one save, then a flush
    for k in range(20):
        cal.apply(("blend", 0, "right", 0.01 * k, 2.2, 0.5))
    assert cal.saves == 1
    clock[0] = 1.0
    cal.tick()
    assert cal.saves == 2
    assert json.loads(path.read_text())["outputs"][0]["blend"]["right"]["width"] == 0.19
    cal.apply(("region", 0, (0.0, 0.0, 0.6, 1.0)))
    cal.apply(("keystone", 0, (0, 0.05, 1, 0, 1, 1, 0, 0.95)))
    cal.flush()
    assert not list(path.parent.glob(".*.tmp"))       # no temp file left behind
    again = Calibration([OutputCalibration("a"), OutputCalibration("b")], path)
    assert again.outputs[0].region == (0.0, 0.0, 0.6, 1.0)
    assert again.outputs[0].keystone[1] == 0.05 and again.outputs[1].keystone[0] == 0.1
    again.apply(("calibration_reset", -1))
    assert again.outputs[0].region == (0.0, 0.0, 1.0, 1.0)
    for bad in [("corner", 5, 0, 0.1, 0.1), ("blend", 0, "middle", 0.1, 2.2, 0.5),
                ("region", 0, (0.5, 0, 0.4, 1)), ("keystone", 0, (0, 0, 0, 0, 0, 0, 0, 0))]:
        with pytest.raises(ValueError):
            again.apply(bad)


def test_a_crash_while_saving_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "calibration.json"
    write_atomically(path, '{"old": true}\n')

    def crash(*a, **k):
        raise OSError("power cut")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_atomically(path, '{"new": tr')
    assert path.read_text() == '{"old": true}\n'


def test_calibration_file_overrides_show_toml_and_bad_files_are_ignored(tmp_path):
    show_path = tmp_path / "show.toml"
    show = parse_show({"outputs": [{"region": [0, 0, 0.6, 1], "blend_right": 0.3},
                                   {"region": [0.4, 0, 1, 1], "blend_left": 0.3}],
                       "render": {"calibration": "cal.json"}}, show_path)
    cal = Calibration.from_show(show)
    assert cal.path == tmp_path / "cal.json"
    assert cal.outputs[0].blend["right"].width == 0.3 and cal.outputs[1].region[0] == 0.4
    (tmp_path / "cal.json").write_text("{not json")
    assert Calibration.from_show(show).outputs[0].region == (0.0, 0.0, 0.6, 1.0)


# -- on EGL ------------------------------------------------------------------------------
def canvas_of(ctx, scene: str, size, shader_dir=REPO_SHADERS):
    from installation.render.renderer import SceneRenderer
    r = SceneRenderer(ctx, size, shader_dir=shader_dir)
    r.load_scene(scene)
    r.render({"u_time": 1.0})
    return r


def draw(ctx, canvas_tex, cal: Calibration, sizes):
    from installation.render.outputs import OutputPass, draw_outputs, layout
    from installation.render.renderer import read_framebuffer, release_framebuffers
    (w, h), views = layout(cal, sizes)
    tex = ctx.texture((w, h), 4)
    fbo = ctx.framebuffer([tex])
    p = OutputPass(ctx)
    draw_outputs(p, canvas_tex, cal, fbo, views)
    img = read_framebuffer(fbo)
    p.release()
    release_framebuffers(ctx, [fbo])  # unbinds it first: releasing a bound FBO is an error
    tex.release()
    return img


def red_mask(img):
    return (img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60)


def test_keystone_moves_the_test_pattern_corner_to_the_expected_pixel(ctx):
    size = (320, 180)
    r = canvas_of(ctx, "testpattern", size)
    plain = draw(ctx, r.output_texture, Calibration([OutputCalibration()]), [size])
    ys, xs = np.nonzero(red_mask(plain))
    assert xs.min() == 0 and ys.max() == size[1] - 1      # the red marker sits bottom-left
    cal = Calibration([OutputCalibration(keystone=(0.1, 0.2, 1, 0, 1, 1, 0, 1))])
    img = draw(ctx, r.output_texture, cal, [size])
    ys, xs = np.nonzero(red_mask(img))
    # the picture's bottom-left corner lands at output (0.1 W, 0.2 H); rows are top-first
    assert abs(xs.min() - 0.1 * size[0]) <= 1.5
    assert abs((size[1] - 1 - ys.max()) - 0.2 * size[1]) <= 1.5
    # outside the warped picture: black
    assert img[-1, 0].max() == 0 and img[-5:, :20].max() == 0
    # the top-right corner (blue marker) has not moved
    blue = (img[..., 2] > 200) & (img[..., 0] < 60) & (img[..., 1] < 60)
    ys, xs = np.nonzero(blue)
    assert xs.max() == size[0] - 1 and ys.min() == 0
    r.release()


def test_blend_overlap_sums_to_the_expected_ramp(ctx, tmp_path):
    (tmp_path / "grey.frag").write_text(
        '/*{"INPUTS": []}*/\nvoid main() { fragColor = vec4(vec3(0.6), 1.0); }\n')
    canvas = (300, 60)
    r = canvas_of(ctx, "grey", canvas, shader_dir=tmp_path)
    gamma, curve, w = 2.2, 0.5, 1 / 3
    a = OutputCalibration("a", region=(0.0, 0.0, 0.6, 1.0))
    b = OutputCalibration("b", region=(0.4, 0.0, 1.0, 1.0))
    a.blend["right"] = EdgeBlend(w, gamma, curve)
    b.blend["left"] = EdgeBlend(w, gamma, curve)
    img = draw(ctx, r.output_texture, Calibration([a, b]), [(180, 60), (180, 60)])
    row = img[30, :, 0].astype(np.float64) / 255.0
    light = row ** gamma
    full = 0.6 ** gamma
    # left of the overlap only A lights the canvas, fully
    assert np.allclose(light[10:100], full, rtol=0.03)
    # canvas x in the overlap (0.4 .. 0.6): A at pixel x/0.6*180, B at (x-0.4)/0.6*180 + 180
    xs = np.linspace(0.41, 0.59, 19)
    la = light[np.round(xs / 0.6 * 180 - 0.5).astype(int)]
    lb = light[180 + np.round((xs - 0.4) / 0.6 * 180 - 0.5).astype(int)]
    assert np.allclose(la + lb, full, rtol=0.05, atol=0.01)
    expected = EdgeBlend(w, gamma, curve).factor(1 - xs / 0.6) ** gamma * full
    assert np.allclose(la, expected, atol=0.02)
    assert la[0] > 0.8 * full and la[-1] < 0.2 * full        # a real ramp, A fades out
    r.release()


def test_preview_composes_all_outputs_side_by_side(tmp_path):
    from installation.render.preview import render_preview
    from installation.render.png import read_png
    from installation.render.synthetic import Segment, synthesize

    frames = synthesize([Segment(0.2, 0.8, voice=True, level_db=-15.0, pitch_hz=200.0)],
                        duration=1.0)
    a = OutputCalibration("a", region=(0.0, 0.0, 0.6, 1.0))
    b = OutputCalibration("b", region=(0.4, 0.0, 1.0, 1.0), keystone=(0.05, 0, 1, 0, 1, 1, 0, 1))
    res = render_preview(frames, tmp_path / "f_%03d.png", size=(160, 90), fps=10,
                         seconds=0.5, progress=False, scene="testpattern",
                         outputs=Calibration([a, b]), shader_dir=REPO_SHADERS)
    img = read_png(tmp_path / "f_004.png")
    assert res.size == (192, 90) and img.shape == (90, 192, 3)
    assert red_mask(img[:, :96]).any() and not red_mask(img[:, 96:]).any()


# -- windows on a real X display ----------------------------------------------------------
@pytest.mark.display
def test_one_window_per_output_at_its_position_and_size(x_display, tmp_path):
    pytest.importorskip("glfw")
    from installation.render.outputs import OutputsSurface, run_outputs

    outs = (OutputConfig(fullscreen=False, position=[10, 20], size=[160, 90],
                         region=[0.0, 0.0, 0.6, 1.0], blend_right=0.3),
            OutputConfig(fullscreen=False, position=[300, 40], size=[200, 100],
                         region=[0.4, 0.0, 1.0, 1.0], blend_left=0.3),
            OutputConfig(fullscreen=True, monitor="0"))
    cal = Calibration([OutputCalibration.from_config(o, i) for i, o in enumerate(outs)],
                      tmp_path / "calibration.json")
    surface = OutputsSurface(outs, cal, (320, 180))
    try:
        # the X server applies moves asynchronously: give a loaded machine a moment
        want = [((10, 20), (160, 90)), ((300, 40), (200, 100)), ((0, 0), (1920, 1080))]
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and [
                (w.position, w.window_size) for w in surface.windows] != want:
            surface.poll()
            time.sleep(0.02)
        assert len(surface.windows) == 3
        assert surface.windows[0].position == (10, 20)
        assert surface.windows[0].window_size == (160, 90)
        assert surface.windows[1].position == (300, 40)
        assert surface.windows[1].window_size == (200, 100)
        assert surface.windows[2].position == (0, 0)            # covers the monitor
        assert surface.windows[2].window_size == (1920, 1080)
    finally:
        surface.close()
    # the show in them: calibration over the command queue is applied and saved
    commands: queue.Queue = queue.Queue()
    commands.put(("corner", 1, 0, 0.05, 0.1))
    commands.put(("blend", 0, "right", 0.25, 2.2, 0.5))
    n = run_outputs(lambda: None, commands, outputs=outs[:2], calibration=cal,
                    canvas_size=(320, 180), scene="testpattern", shader_dir=REPO_SHADERS,
                    seconds=0.5, vsync=False, hot_reload=False)
    assert n > 2
    saved = json.loads((tmp_path / "calibration.json").read_text())
    assert saved["outputs"][1]["keystone"][:2] == [0.05, 0.1]
    assert saved["outputs"][0]["blend"]["right"]["width"] == 0.25
