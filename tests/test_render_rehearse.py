"""`installation rehearse AUDIO --render out.mp4 --scene NAME` works for every scene, and
with [[outputs]] renders every projector output side by side."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from installation import cli
from installation.render.scene import list_scenes

REPO = Path(__file__).resolve().parents[1]
AUDIO = REPO / "audio" / "between_the_words.flac"


@pytest.mark.parametrize("scene", list_scenes(REPO / "shaders"))
def test_rehearse_renders_every_scene(scene, tmp_path, capsys):
    out = tmp_path / f"{scene}.mp4"
    rc = cli.main(["rehearse", str(AUDIO), "--render", str(out), "--scene", scene,
                   "--seconds", "0.5", "--size", "64x36", "--fps", "10", "-q"])
    assert rc == 0 and out.is_file()
    assert "wrote" in capsys.readouterr().out
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n == 5


def test_rehearse_with_outputs_composes_them_side_by_side(tmp_path, capsys):
    show = tmp_path / "show.toml"
    show.write_text('[[outputs]]\nregion = [0.0, 0.0, 0.6, 1.0]\nblend_right = 0.33\n'
                    '[[outputs]]\nregion = [0.4, 0.0, 1.0, 1.0]\nblend_left = 0.33\n'
                    'keystone = [0.0, 0.03, 1.0, 0.0, 1.0, 1.0, 0.02, 0.96]\n')
    out = tmp_path / "two.mp4"
    rc = cli.main(["rehearse", str(AUDIO), "--show", str(show), "--render", str(out),
                   "--scene", "testpattern", "--seconds", "0.3", "--size", "160x90",
                   "--fps", "10", "-q"])
    assert rc == 0
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (192, 90)       # 96 + 96: both outputs side by side
    frame = np.frombuffer(next(reader), np.uint8).reshape(90, 192, 3)
    assert frame[:, :96].mean() > 10 and frame[:, 96:].mean() > 10
    assert not (tmp_path / "calibration.json").exists()   # rendering never writes it
