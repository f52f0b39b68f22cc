"""The flash guard: whatever a scene or a beat does, no more than 3 large-area luminance
flashes per second reach the room. Pure tests on luminance series, then the renderer on
EGL with a strobing scene."""

from __future__ import annotations

import numpy as np
import pytest

from installation.render.flashguard import GRID, FlashGuard, count_flashes

FPS = 60


def run_guard(series_fn, seconds: float = 3.0, fps: int = FPS, **kw):
    """Feed full-frame grids of luminance ``series_fn(t)``; return shown luminances."""
    g = FlashGuard(**kw)
    shown, prev = [], None
    times = np.arange(int(seconds * fps)) / fps
    for t in times:
        cur = float(series_fn(t))
        a = g.limit(np.full((GRID[1], GRID[0]), cur), t)
        prev = cur if prev is None else prev + a * (cur - prev)
        shown.append(prev)
    return np.array(shown), times


def test_count_flashes_counts_pairs_of_opposing_transitions():
    t = np.arange(60) / 60
    strobe = (np.floor(t * 20) % 2).astype(float)           # 10 Hz: 10 flashes/s
    assert count_flashes(strobe, t) == 9          # 19 transitions within the second
    assert count_flashes(np.linspace(0, 1, 60), t) == 0      # a slow rise: no flash
    assert count_flashes(np.where(t < 0.5, 0.0, 1.0), t) == 0   # one cut: half a flash
    small = 0.5 + 0.04 * (np.floor(t * 20) % 2)              # below 0.1: not a flash
    assert count_flashes(small, t) == 0
    bright = 0.85 + 0.12 * (np.floor(t * 20) % 2)            # darker state above 0.8
    assert count_flashes(bright, t) == 0


@pytest.mark.parametrize("hz", [4.0, 7.5, 10.0, 15.0, 30.0])
def test_a_strobe_is_held_to_three_flashes_per_second(hz):
    shown, times = run_guard(lambda t: float(np.floor(t * 2 * hz) % 2))
    assert count_flashes(shown, times) <= 3


def test_beats_that_flash_the_frame_are_held_too():
    # a kick every 120 ms that jumps the whole frame to white then decays fast
    def beat(t):
        return 0.05 + 0.9 * np.exp(-((t % 0.12) / 0.02))
    shown, times = run_guard(beat, seconds=4.0)
    assert count_flashes(shown, times) <= 3
    assert count_flashes(np.array([beat(t) for t in times]), times) > 3   # it did flash


def test_slow_or_rare_changes_pass_untouched():
    g = FlashGuard()
    for k, t in enumerate(np.arange(180) / FPS):
        cur = 0.1 if t < 1.0 else 0.9                         # one cut: one transition
        cur += 0.2 * np.sin(t)                                 # and a slow drift
        assert g.limit(np.full((GRID[1], GRID[0]), cur), t) == 1.0
    # two flashes a second is allowed
    shown, times = run_guard(lambda t: float(np.floor(t * 4) % 2))
    expected = np.floor(times * 4) % 2
    assert np.allclose(shown, expected)


def test_a_flash_in_a_quarter_of_the_frame_counts():
    g = FlashGuard()
    shown_q = []
    prev = None
    for t in np.arange(120) / FPS:
        on = float(np.floor(t * 20) % 2)
        grid = np.full((GRID[1], GRID[0]), 0.05)
        grid[: GRID[1] // 2, : GRID[0] // 2] = 0.05 + 0.9 * on   # one quadrant strobes
        a = g.limit(grid, t)
        q = grid[: GRID[1] // 2, : GRID[0] // 2].mean()
        prev = q if prev is None else prev + a * (q - prev)
        shown_q.append(prev)
    assert count_flashes(np.array(shown_q), np.arange(120) / FPS) <= 3


def test_a_small_spot_may_flicker():
    """Small areas (a bead, a pluck ripple) are not large-area flashes: untouched."""
    g = FlashGuard()
    for t in np.arange(120) / FPS:
        grid = np.full((GRID[1], GRID[0]), 0.05)
        grid[8:10, 15:17] = 0.05 + 0.9 * (np.floor(t * 20) % 2)   # 0.7 % of the frame
        assert g.limit(grid, t) == 1.0


def test_rejects_nonsense():
    with pytest.raises(ValueError):
        FlashGuard(max_flashes=0)
    with pytest.raises(ValueError):
        FlashGuard(delta=2.0)


# -- on EGL ------------------------------------------------------------------------------
def test_renderer_output_never_flashes_more_than_three_times_a_second(ctx, tmp_path):
    from installation.render.context import HeadlessSurface
    from installation.render.renderer import SceneRenderer

    # a scene that strobes the whole frame at 12 Hz: the worst a scene can do
    (tmp_path / "strobe.frag").write_text(
        '/*{"INPUTS": []}*/\nvoid main() {\n'
        "    float on = mod(floor(u_time * 24.0), 2.0);\n"
        "    fragColor = vec4(vec3(on), 1.0);\n}\n")
    size = (64, 36)
    r = SceneRenderer(ctx, size, shader_dir=tmp_path, flash_guard=FlashGuard())
    r.load_scene("strobe")
    surface = HeadlessSurface(ctx, size)
    lum, raw = [], []
    times = np.arange(3 * FPS) / FPS
    for t in times:
        r.render({"u_time": float(t)}, target=surface.framebuffer)
        img = surface.read().astype(np.float64) / 255.0
        lin = np.where(img <= 0.04045, img / 12.92, ((img + 0.055) / 1.055) ** 2.4)
        lum.append(float((lin @ [0.2126, 0.7152, 0.0722]).mean()))
        raw.append(float(np.floor(t * 24) % 2))
        assert np.array_equal(surface.read(), r.read())
    assert count_flashes(np.array(raw), times) >= 10          # the scene does strobe
    assert count_flashes(np.array(lum), times) <= 3           # the room does not
    assert r.flash_guard.limited_frames > 0
    assert ctx.error == "GL_NO_ERROR"
    surface.close()
    r.release()


def test_guarded_renderer_passes_a_calm_scene_unchanged(ctx):
    from pathlib import Path

    from installation.render.renderer import SceneRenderer
    from installation.render.stills import render_state

    shaders = Path(__file__).resolve().parents[1] / "shaders"
    plain = SceneRenderer(ctx, (96, 54), shader_dir=shaders)
    guarded = SceneRenderer(ctx, (96, 54), shader_dir=shaders, flash_guard=FlashGuard())
    for r in (plain, guarded):
        r.load_scene("os1")
    assert np.array_equal(render_state(plain, "voice"), render_state(guarded, "voice"))
    plain.release()
    guarded.release()
