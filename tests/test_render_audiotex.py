"""The Shadertoy-compatible audio texture (512 x 2: spectrum row, waveform row) and a
shader written for Shadertoy running unchanged below `#include "lib/shadertoy.glsl"`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from installation.features import FeatureFrame
from installation.render.audiotex import N, NYQUIST_HZ, AudioRows
from installation.render.uniforms import UniformState

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"


def _scene_from_source(ctx, tmp_path, name: str, source: str, size: tuple[int, int]):
    """A renderer on ``tmp_path`` holding the repository's shader lib and one scene
    ``name`` written from ``source``, loaded."""
    from installation.render.renderer import SceneRenderer
    import shutil

    shutil.copytree(REPO_SHADERS / "lib", tmp_path / "lib")
    (tmp_path / f"{name}.frag").write_text(source)
    r = SceneRenderer(ctx, size, shader_dir=tmp_path)
    r.load_scene(name)
    return r


def rows_for(**features) -> np.ndarray:
    s = UniformState()
    s.update(FeatureFrame(1.0, 1, **features), 1.0)
    return AudioRows().update(s.uniforms()).copy()


def test_silence_is_an_empty_spectrum_and_a_flat_waveform():
    r = rows_for()
    assert r.shape == (2, N) and r.dtype == np.float32
    assert r[0].max() == 0.0 and np.allclose(r[1], 0.5, atol=1e-3)


def test_a_voice_shows_harmonic_peaks_at_its_pitch_and_a_waveform():
    r = rows_for(level_rms_db=-18, band_low_db=-30, band_mid_db=-20, band_high_db=-40,
                 pitch_hz=220.0, centroid_hz=900.0, voice=1.0)
    spec = r[0]
    bin_of = lambda f: int(f / NYQUIST_HZ * N)   # noqa: E731
    assert spec[bin_of(220)] > spec[bin_of(220) + 5] + 0.05     # a peak at the pitch
    assert spec[bin_of(440)] > spec[bin_of(330)]                 # and at its harmonic
    assert spec[bin_of(400)] > spec[bin_of(8000)]                # voice energy is low-mid
    assert r[1].std() > 0.02                                     # the waveform moves
    loud = rows_for(level_rms_db=-10, band_low_db=-20, band_mid_db=-10, band_high_db=-30,
                    pitch_hz=220.0, centroid_hz=900.0, voice=1.0)
    assert loud[0].mean() > spec.mean()


def test_measured_rows_replace_the_synthesis():
    a = AudioRows()
    a.set(np.linspace(0, 1, N), np.full(N, 0.25))
    r = a.update({})
    assert r[0, -1] == pytest.approx(1.0) and np.all(r[1] == 0.25)


def test_shader_reads_the_rows_like_shadertoy(ctx, tmp_path):
    r = _scene_from_source(
        ctx, tmp_path, "probe",
        '/*{"INPUTS": []}*/\n#include "lib/shadertoy.glsl"\n'
        "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n"
        "    float x = fragCoord.x / iResolution.x;\n"
        "    fragColor = vec4(texture(iChannel0, vec2(x, 0.25)).x,\n"
        "                     texture(iChannel0, vec2(x, 0.75)).x, 0.0, 1.0);\n}\n", (N, 2))
    r.audio.set(np.linspace(0, 1, N), np.full(N, 0.25))
    r.render({"u_time": 0.0})
    img = r.read().astype(np.float64) / 255
    assert np.allclose(img[0, :, 0], np.linspace(0, 1, N), atol=0.01)
    assert np.allclose(img[0, :, 1], 0.25, atol=0.01)
    r.release()


def test_the_ported_example_reacts_to_sound(ctx):
    from installation.render.renderer import SceneRenderer
    from installation.render.stills import render_state

    r = SceneRenderer(ctx, (160, 90), shader_dir=REPO_SHADERS)
    r.load_scene("shadertoy_ring")
    silent = render_state(r, "silence").astype(np.int16)
    voice = render_state(r, "voice").astype(np.int16)
    assert np.abs(voice - silent).mean() > 2
    r.release()


def test_an_isf_shader_runs_with_the_isf_shim(ctx, tmp_path):
    """An ISF-host shader: TIME, RENDERSIZE, isf_FragNormCoord, IMG_NORM_PIXEL, gl_FragColor
    work unchanged; the input name is mapped with one #define."""
    r = _scene_from_source(
        ctx, tmp_path, "isf",
        '/*{"ISFVSN": "2", "CATEGORIES": ["test"], "INPUTS": [{"NAME": "level", '
        '"TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0}]}*/\n'
        '#include "lib/isf.glsl"\n#define level p_level\n'
        "void main() {\n"
        "    vec2 uv = isf_FragNormCoord;\n"
        "    float fft = IMG_NORM_PIXEL(u_audio, vec2(uv.x, 0.25)).r;\n"
        "    gl_FragColor = vec4(level * uv.x, fft, RENDERSIZE.x / 1000.0 + 0.0 * TIME, 1.0);\n"
        "}\n", (100, 4))
    r.audio.set(np.full(N, 0.5), np.full(N, 0.5))
    r.render({"u_time": 1.0, "p_level": 1.0})
    img = r.read()
    assert img[0, -1, 0] > 245 and img[0, 0, 0] < 5          # uv.x * level
    assert abs(int(img[0, 50, 1]) - 128) <= 2 and abs(int(img[0, 0, 2]) - 26) <= 1
    r.release()
