"""installation.render.preview: feature frames -> MP4 / PNG sequence, headless (EGL)."""

from __future__ import annotations

import math
import re
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from installation.features import FeatureFrame
from installation.render.png import read_png
from installation.render.preview import iter_uniforms, probe_streams, render_preview
from installation.render.synthetic import Segment, demo_script, synthesize
from installation.render.uniforms import UniformState

SIZE = (64, 36)


@pytest.fixture(scope="module")
def frames() -> list[FeatureFrame]:
    """~2 s: silence, a word with an onset, a pause."""
    return synthesize([Segment(0.5, 1.2, voice=True, level_db=-15.0, pitch_hz=220.0),
                       Segment(0.0, 2.0, level_db=-35.0, onsets_per_s=2.0)], duration=2.0)


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> Path:
    """3 s of a 220 Hz tone at 48 kHz, longer than the video on purpose."""
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    sr = 48000
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * np.arange(3 * sr) / sr)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(samples.tobytes())
    return path


def decode(path: Path) -> list[np.ndarray]:
    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]


def test_mp4_has_the_right_frame_count(tmp_path, frames):
    out = tmp_path / "preview.mp4"
    result = render_preview(frames, out, size=SIZE, fps=30, progress=False)
    assert result.path == out and result.n_frames == 60 and result.seconds == 2.0
    n, secs = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n == 60
    assert secs == pytest.approx(2.0, abs=0.05)
    info = probe_streams(out)
    assert "h264" in info and "yuv420p" in info and "64x36" in info
    assert "Audio:" not in info


def test_mp4_with_audio_is_cut_to_the_video(tmp_path, frames, audio):
    out = tmp_path / "with_audio.mp4"
    render_preview(frames, out, size=SIZE, fps=25, audio_path=audio, progress=False)
    info = probe_streams(out)
    assert re.search(r"Audio: aac", info), info
    m = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    assert duration == pytest.approx(2.0, abs=0.1)     # the tone lasts 3 s
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 50


def test_two_renders_are_identical(tmp_path, frames):
    a = render_preview(frames, tmp_path / "a.mp4", size=SIZE, fps=30, progress=False)
    b = render_preview(frames, tmp_path / "b.mp4", size=SIZE, fps=30, progress=False)
    fa, fb = decode(a.path), decode(b.path)
    assert len(fa) == len(fb) == 60
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
    assert not all(np.array_equal(fa[0], f) for f in fa[1:])     # and it does move


def test_png_sequence_folder_and_pattern(tmp_path, frames):
    folder = render_preview(frames, f"{tmp_path}/seq/", size=SIZE, fps=10, seconds=1.0,
                            progress=False)
    files = sorted((tmp_path / "seq").glob("frame_*.png"))
    assert folder.n_frames == 10 and len(files) == 10
    assert files[0].name == "frame_00000.png"
    assert read_png(files[3]).shape == (36, 64, 3)
    pattern = render_preview(frames, tmp_path / "pat" / "f_%03d.png", size=SIZE, fps=10,
                             seconds=1.0, progress=False)
    assert pattern.n_frames == 10
    again = sorted((tmp_path / "pat").glob("f_*.png"))
    assert [p.name for p in again][:2] == ["f_000.png", "f_001.png"]
    assert all(np.array_equal(read_png(x), read_png(y)) for x, y in zip(files, again))


def test_png_without_pattern_is_refused(tmp_path, frames):
    with pytest.raises(ValueError, match="pattern"):
        render_preview(frames, tmp_path / "still.png", size=SIZE, progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"size": (63, 36)}, "even"),
    ({"fps": 0}, "fps"),
    ({"seconds": -1.0}, "seconds"),
    ({"audio_path": "/nonexistent.wav"}, "audio file"),
])
def test_bad_arguments(tmp_path, frames, kwargs, message):
    args = {"size": SIZE, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        render_preview(frames, tmp_path / "x.mp4", **args)


def test_unsorted_frames_are_refused(tmp_path, frames):
    with pytest.raises(ValueError, match="sorted"):
        render_preview(list(reversed(frames)), tmp_path / "x.mp4", size=SIZE, progress=False)


def test_no_pulse_is_lost_between_video_frames():
    """An onset in one 5 ms block between two video frames still shows in the next one."""
    blocks = [FeatureFrame(k * 0.005, k, onset=1.0 if k == 102 else 0.0) for k in range(200)]
    state = UniformState()
    pulses = [u["u_onset_pulse"] for u in iter_uniforms(blocks, fps=30, n_frames=30,
                                                        state=state)]
    # onset at 0.51 s; frame 16 shows t = 0.5333 s
    assert pulses[15] == 0.0
    assert pulses[16] == pytest.approx(math.exp(-(16 / 30 - 0.51) / 0.25), rel=1e-6)


def test_preview_with_params_and_demo_script(tmp_path):
    demo = synthesize(demo_script(4.0), duration=4.0)
    plain = render_preview(demo, f"{tmp_path}/plain/", size=SIZE, fps=4, progress=False)
    warm = render_preview(demo, f"{tmp_path}/warm/", size=SIZE, fps=4, progress=False,
                          params={"glow": 1.0, "line_width": 1.0})
    assert plain.n_frames == warm.n_frames == 16
    a = read_png(tmp_path / "plain" / "frame_00010.png").astype(int)
    b = read_png(tmp_path / "warm" / "frame_00010.png").astype(int)
    assert b.sum() > a.sum()
    with pytest.raises(KeyError, match="unknown scene parameter"):
        render_preview(demo, f"{tmp_path}/x/", size=SIZE, fps=4, progress=False,
                       params={"nope": 1})
