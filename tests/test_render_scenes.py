"""The bundled scenes on EGL: each compiles, reacts to what it hears in a way a visitor can
see (voice / pause / music differ from silence), and matches its golden images (silence,
loud voice, mid-gap) at a small size, within a tolerance."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from installation.render import scene as sc
from installation.render.png import read_png, write_png
from installation.render.renderer import SceneRenderer
from installation.render.stills import STATES, render_state, state_frames

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"
GOLDEN = Path(__file__).resolve().parent / "golden"
SIZE = (96, 54)
SCENES = ("os1", "between", "8316", "letters", "dawn")
GOLDEN_STATES = ("silence", "voice", "gap")


def draw(ctx, name: str, state: str, size=SIZE, **params) -> np.ndarray:
    r = SceneRenderer(ctx, size, shader_dir=REPO_SHADERS)
    try:
        r.load_scene(name)
        return render_state(r, state, params)
    finally:
        r.release()


def test_the_five_scenes_and_the_test_pattern_are_bundled():
    names = sc.list_scenes(REPO_SHADERS)
    for name in (*SCENES, "testpattern"):
        assert name in names
    for name in names:
        scene = sc.load_scene(name, REPO_SHADERS)
        assert scene.description, f"{name} needs a DESCRIPTION"


def test_state_scripts_mean_what_they_say():
    for state in STATES:
        frames, t = state_frames(state)
        last = [f for f in frames if f.time <= t][-1]
        assert last.voice == (1.0 if state == "voice" else 0.0)
        if state == "gap":
            assert 2.5 <= last.gap_s <= 3.5
    with pytest.raises(KeyError):
        state_frames("nope")


@pytest.mark.parametrize("name", SCENES)
def test_voice_pause_and_music_each_look_different_from_silence(ctx, name):
    imgs = {s: draw(ctx, name, s, size=(160, 90)).astype(np.int16) for s in STATES}
    for state in ("voice", "gap", "music"):
        diff = np.abs(imgs[state] - imgs["silence"]).mean()
        assert diff > 1.5, f"{name}: {state} vs silence differs by only {diff:.2f}"
    diff = np.abs(imgs["voice"] - imgs["gap"]).mean()
    assert diff > 1.5, f"{name}: speaking and a pause look alike ({diff:.2f})"


@pytest.mark.parametrize("name", SCENES)
def test_palette_is_warm_never_cold_blue(ctx, name):
    for state in STATES:
        img = draw(ctx, name, state, size=(160, 90)).astype(np.float64)
        r, b = img[..., 0].mean(), img[..., 2].mean()
        assert r >= b, f"{name}/{state}: mean red {r:.1f} < mean blue {b:.1f}"
        assert img.min(axis=2).max() < 255 or name == "dawn"


@pytest.mark.parametrize("name", SCENES)
@pytest.mark.parametrize("state", GOLDEN_STATES)
def test_golden(ctx, name, state):
    """tests/golden/scene_<name>_<state>.png; HER_UPDATE_GOLDEN=1 rewrites them."""
    img = draw(ctx, name, state)
    path = GOLDEN / f"scene_{name}_{state}.png"
    if os.environ.get("HER_UPDATE_GOLDEN") == "1":
        write_png(path, img)
    assert path.is_file(), f"missing {path}; run with HER_UPDATE_GOLDEN=1 to create it"
    golden = read_png(path).astype(np.int16)
    diff = np.abs(img.astype(np.int16) - golden)
    assert diff.mean() <= 3.0 and diff.max() <= 60, (
        f"{name}/{state}: mean abs diff {diff.mean():.2f} (<= 3), max {diff.max()} (<= 60)")


# -- 8,316 -------------------------------------------------------------------------------
M32 = 0xFFFFFFFF


def pcg_hash(v: int) -> int:
    """lib/noise.glsl's pcg_hash on 32-bit unsigned ints."""
    state = (v * 747796405 + 2891336453) & M32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & M32
    return ((word >> 22) ^ word) & M32


def mix16(v: int) -> int:
    return (((v * 2654435761) & M32) ^ ((v * 40503 << 7) & M32)) >> 15


def perm8316(x: int, y: int) -> int:
    """The shader's perm8316 in Python."""
    a, b = x, y
    a = (a + mix16(b + 911) % 99) % 99
    b = (b + mix16(a + 3643) % 84) % 84
    a = (a + mix16(b + 7817) % 99) % 99
    return b * 99 + a


def test_8316_lights_exactly_641_warm():
    text = (REPO_SHADERS / "8316.frag").read_text()
    assert "const int NX = 99;" in text and "const int NY = 84;" in text and 99 * 84 == 8316
    for const in ("mix16(b + 911u)", "mix16(a + 3643u)", "mix16(b + 7817u)",
                  "(v * 2654435761u) ^ (v * 40503u << 7)) >> 15", "perm8316(c) < 641"):
        assert const in text             # the Python mirror below is the shader's function
    values = [perm8316(x, y) for y in range(84) for x in range(99)]
    assert sorted(values) == list(range(8316))                    # a permutation
    warm = [(x, y) for y in range(84) for x in range(99) if perm8316(x, y) < 641]
    assert len(warm) == 641
    # scattered: every tenth of the field holds some, none holds most
    per_band = np.bincount([x * 10 // 99 for x, _ in warm], minlength=10)
    assert per_band.min() > 30 and per_band.max() < 110


def test_8316_gathers_with_music(ctx):
    """Music pulls the lights toward the centre: more light in the middle third."""
    def centre_share(img):
        lum = img.astype(np.float64).sum(axis=2)
        h, w = lum.shape
        return lum[h // 3: 2 * h // 3, w // 3: 2 * w // 3].sum() / lum.sum()
    assert centre_share(draw(ctx, "8316", "music", size=(192, 108))) > \
        1.3 * centre_share(draw(ctx, "8316", "silence", size=(192, 108)))


def test_between_space_opens_in_the_pause(ctx):
    """In a pause the centre column (the space between the words) gets brighter."""
    def centre_column(img):
        h, w = img.shape[:2]
        return img[h // 3: 2 * h // 3, w // 2 - 3: w // 2 + 3].mean()
    voice = draw(ctx, "between", "voice", size=(320, 180))
    gap = draw(ctx, "between", "gap", size=(320, 180))
    assert centre_column(gap) > centre_column(voice) + 3


def test_letters_write_only_while_she_speaks(ctx):
    """More ink after more speech; the pause state (less speech so far) has less."""
    voice = draw(ctx, "letters", "voice", size=(320, 180)).astype(np.float64)
    silence = draw(ctx, "letters", "silence", size=(320, 180)).astype(np.float64)
    gap = draw(ctx, "letters", "gap", size=(320, 180)).astype(np.float64)
    ink = lambda img: (img.max(axis=2) > 120).sum()   # noqa: E731
    assert ink(silence) < ink(gap) < ink(voice)


def test_dawn_rises(ctx):
    early = draw(ctx, "dawn", "voice", size=(160, 90), start=0.0)
    late = draw(ctx, "dawn", "voice", size=(160, 90), start=0.9)
    assert late.mean() > early.mean() + 20
