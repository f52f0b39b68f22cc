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


def test_a_streamed_rehearsal_draws_the_frames_of_the_whole_file(tmp_path):
    """The rehearsal's render as it now runs (frames fed to ``PreviewWriter`` as the
    analysis streams them, a chunk of 100 blocks at a time, and u_audio measured from a
    second decoding read piece by piece) writes the very images that rendering the whole
    file's frames and samples at once writes."""
    from installation.analysis.spectrum import FileTexture
    from installation.engine.offline import analyse_file, block_count, stream_frames
    from installation.engine.sources import decode_stream, load_mono
    from installation.render.png import read_png
    from installation.render.preview import PreviewWriter, render_preview

    sr, block, seconds = 16000, 256, 2.0
    kw = {"size": (64, 36), "fps": 12, "scene": "os1", "progress": False}
    whole = render_preview(analyse_file(AUDIO, sample_rate=sr, block_size=block,
                                        seconds=seconds), f"{tmp_path}/whole/",
                           audio_rows=FileTexture(load_mono(AUDIO, sr, seconds=seconds), sr),
                           **kw)
    last = block_count(AUDIO, sr, block, seconds) * block / sr
    feeds = []
    with PreviewWriter(f"{tmp_path}/streamed/", seconds=last,
                       audio_rows=FileTexture(decode_stream(AUDIO, sr, seconds=seconds), sr),
                       **kw) as writer:
        def feed(frames):
            for i in range(0, len(frames), 100):
                feeds.append(writer._k)
                writer.feed(frames[i:i + 100])

        stream_frames(AUDIO, feed, sample_rate=sr, block_size=block, seconds=seconds)
        streamed = writer.finish()
    assert streamed.n_frames == whole.n_frames == 24
    # 125 blocks of 16 ms: the first 100 end at 1.6 s, after video frames 0-19 (k / 12 s)
    assert feeds == [0, 20]  # video frames drawn before each feed: as the frames came
    for k in range(24):
        a = read_png(tmp_path / "whole" / f"frame_{k:05d}.png")
        b = read_png(tmp_path / "streamed" / f"frame_{k:05d}.png")
        assert np.array_equal(a, b), k


def test_rehearse_renders_png_frames_into_a_folder(tmp_path, capsys):
    """``--render frames/`` (a folder, its trailing slash kept) writes one PNG per frame;
    the slash used to be lost on the way and ffmpeg was asked for a video named 'frames'."""
    out = f"{tmp_path}/frames/"
    rc = cli.main(["rehearse", str(AUDIO), "--render", out, "--scene", "os1",
                   "--seconds", "0.5", "--size", "64x36", "--fps", "10", "-q"])
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        f"frame_{k:05d}.png" for k in range(5)]
