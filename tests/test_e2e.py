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
    """5 s of the bundled piece: music alone, then a list of words with pauses between them."""
    x, sr = sf.read(str(BUNDLED))
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(str(path), x[int(15.5 * sr): int(20.5 * sr)], sr)
    return path


@pytest.fixture(scope="module")
def rendered(clip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("video") / "x.mp4"
    res = subprocess.run([sys.executable, "-m", "installation", "rehearse", str(clip), "--render",
                          str(out), "--size", f"{W}x{H}", "--fps", str(FPS)],
                         capture_output=True, text=True, cwd=REPO, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"wrote {out.resolve()}" in res.stdout
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
    # The scene eases (level attack ~30 ms, voice ~150 ms): the picture follows the sound
    # a few frames late. Take the best lag up to 200 ms and ask for a clear correlation.
    kernel = np.exp(-np.arange(10) / 2.0)
    smooth = np.convolve(loud, kernel / kernel.sum())[: len(loud)]
    by_lag = {lag: np.corrcoef(bright[lag:], smooth[: len(smooth) - lag])[0, 1]
              for lag in range(0, 7)}
    best = max(by_lag, key=by_lag.get)
    assert by_lag[best] > 0.6, f"brightness/loudness correlation only {by_lag}"
    assert bright.max() - bright.min() > 5  # visibly changes


def test_render_is_deterministic(clip, rendered, tmp_path):
    out = tmp_path / "again.mp4"
    subprocess.run([sys.executable, "-m", "installation", "rehearse", str(clip), "--render",
                    str(out), "--size", f"{W}x{H}", "--fps", str(FPS), "--seconds", "2", "-q"],
                   check=True, cwd=REPO, timeout=600)
    a = _brightness(out)
    b = _brightness(rendered)[: len(a)]
    # Same input, same frames (H.264 rate control may differ in the last bits). x264's
    # look-ahead (~10 frames at veryfast) sees different future frames at the end of the
    # shorter render, so its last frames are quantised a little differently.
    assert len(a) == 2 * FPS and np.max(np.abs(a[:-10] - b[:-10])) < 0.5
    assert np.max(np.abs(a - b)) < 2.0
