"""End to end: `installation rehearse CLIP --render x.mp4` as a user runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf

from conftest import BUNDLED

REPO = Path(__file__).resolve().parents[1]
W, H, FPS = 320, 180, 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """5 s of the bundled piece: a sentence ends, a pause with music only, a new word list."""
    x, sr = sf.read(str(BUNDLED))
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(str(path), x[int(13.0 * sr): int(18.0 * sr)], sr)
    return path


@pytest.fixture(scope="module")
def rendered(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("video") / "x.mp4"
    res = subprocess.run([sys.executable, "-m", "installation", "rehearse", str(clip), "--render",
                          str(out), "--size", f"{W}x{H}", "--fps", str(FPS)],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}" in res.stdout
    return out


def _streams(path: Path) -> str:
    res = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)
    return res.stderr


def test_video_has_video_and_audio_of_the_clip_length(rendered):
    info = _streams(rendered)
    assert re.search(r"Stream #0:\d.*Video: h264", info), info
    assert re.search(r"Stream #0:\d.*Audio: aac", info), info
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    seconds = int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
    assert seconds == pytest.approx(5.0, abs=0.15)
    n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(rendered))
    assert n_frames == 5 * FPS


def _brightness(path: Path) -> np.ndarray:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    return np.array([np.frombuffer(f, np.uint8).reshape(h, w, 3).mean() for f in reader])


def test_brightness_follows_the_loudness(rendered, clip):
    bright = _brightness(rendered)
    x, sr = sf.read(str(clip))
    hop = sr // FPS
    loud = np.array([10 * np.log10(np.mean(x[k * hop:(k + 1) * hop] ** 2) + 1e-10)
                     for k in range(len(bright))])
    # The scene eases (attack ~30 ms, release ~300 ms): compare with smoothed loudness.
    kernel = np.exp(-np.arange(10) / 4.0)
    smooth = np.convolve(loud, kernel / kernel.sum())[: len(loud)]
    r = np.corrcoef(bright, smooth)[0, 1]
    assert r > 0.5, f"brightness/loudness correlation only {r:.2f}"
    assert bright.max() - bright.min() > 5  # visibly changes


def test_render_is_deterministic(clip, rendered, tmp_path):
    out = tmp_path / "again.mp4"
    subprocess.run([sys.executable, "-m", "installation", "rehearse", str(clip), "--render",
                    str(out), "--size", f"{W}x{H}", "--fps", str(FPS), "--seconds", "2", "-q"],
                   check=True, cwd=REPO, timeout=600)
    a = _brightness(out)
    b = _brightness(rendered)[: len(a)]
    # Same input, same frames (H.264 rate control may differ in the last bits).
    assert len(a) == 2 * FPS and np.max(np.abs(a - b)) < 0.5
