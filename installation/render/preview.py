"""Render a preview video (or PNG sequence) from feature frames, headless, deterministic.

Video frame ``k`` shows time ``t = k / fps``. Every feature frame with ``time <= t`` is fed
to the uniform state at its own time first, so no onset or word pulse between two video
frames is lost; then the state advances to ``t`` and the scene is drawn on EGL. Nothing
reads the wall clock and nothing is random, so the same input gives the same frames.

Output, chosen by ``out_path``:

- ``*.mp4`` (or any other video suffix): H.264, yuv420p, via ``imageio_ffmpeg``; with
  ``audio_path`` the audio is muxed as AAC and the file is cut to the video's length.
- a folder (``out/frames/``: ends with ``/`` or is an existing directory): PNG files
  ``frame_00000.png``, ``frame_00001.png``, ... in it.
- a printf pattern ending in ``.png`` (``out/f_%04d.png``): one PNG per frame, numbered
  from 0.

With ``audio_rows`` the Shadertoy texture ``u_audio`` is measured from the audio
(:mod:`installation.analysis.spectrum`); the renderer only uploads it.
"""

from __future__ import annotations

import math
import os
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from installation.features import FeatureFrame
from installation.render.context import create_headless_context
from installation.render.flashguard import FlashGuard
from installation.render.png import write_png
from installation.render.renderer import SceneRenderer
from installation.render.uniforms import UniformState


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """What was written: ``path`` (file, folder or pattern), ``n_frames``, ``seconds``
    (video length, ``n_frames / fps``), ``fps`` and ``size`` (w, h)."""

    path: Path
    n_frames: int
    seconds: float
    fps: float
    size: tuple[int, int]


def _png_target(out: str) -> str | None:
    """The printf pattern for PNG output, or None for a video file."""
    if out.endswith(("/", os.sep)) or Path(out).is_dir():
        return str(Path(out) / "frame_%05d.png")
    if out.lower().endswith(".png"):
        if "%" not in out:
            raise ValueError(f"PNG output {out!r} needs a frame-number pattern such as "
                             "'frames/f_%05d.png', or a folder ending with '/'")
        return out
    return None


def _uniforms_at(t: float, pending: deque, state: UniformState) -> dict[str, Any]:
    """Video time ``t``'s uniforms: every frame of ``pending`` (in time order) with
    ``time <= t`` fed through ``state`` at its own time first (and taken off), then the
    state advanced to ``t``."""
    while pending and pending[0].time <= t:
        f = pending.popleft()
        state.update(f, f.time)
    state.advance(t)
    return state.uniforms()


def iter_uniforms(frames: Sequence[FeatureFrame], *, fps: float, n_frames: int,
                  state: UniformState) -> Iterator[dict[str, Any]]:
    """Uniforms for video frames ``0 .. n_frames-1`` (``t = k / fps``), feeding every
    feature frame with ``time <= t`` through ``state`` first."""
    pending = deque(frames)
    for k in range(n_frames):
        yield _uniforms_at(k / fps, pending, state)


class PreviewWriter:
    """A preview rendered as its feature frames arrive: :meth:`feed` them in time order,
    as many at a time as come (e.g. as the sink of
    :func:`installation.engine.offline.stream_frames`), then :meth:`finish`. Video frame
    ``k`` is drawn as soon as a frame later than its time ``k / fps`` has been fed (every
    frame it shows is then in), so a file is rendered while it is analysed and nothing
    holds all of it; the images are those :func:`render_preview` draws from the whole list.
    A context manager: leaving it without :meth:`finish` (an error, Ctrl-C) releases the
    GPU context and ends the output where it got to. Arguments as :func:`render_preview`,
    but ``seconds`` (the length) is needed up front."""

    def __init__(self, out_path: str | os.PathLike, *, seconds: float,
                 size: tuple[int, int] = (1280, 720), fps: float = 30, scene: str = "os1",
                 audio_path: str | os.PathLike | None = None, progress: bool = True,
                 params: Mapping[str, Any] | None = None,
                 shader_dir: str | os.PathLike | None = None, quality: float = 6,
                 flash_guard: bool = True, outputs=None,
                 audio_rows: Callable[[float], np.ndarray] | None = None) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        w, h = int(size[0]), int(size[1])
        if w < 2 or h < 2:
            raise ValueError(f"size must be at least 2x2 pixels, got {size!r}")
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        self.fps, self.n_frames = float(fps), max(1, int(round(seconds * fps)))
        out = str(out_path)
        pattern = _png_target(out)
        if pattern is None and (w % 2 or h % 2):
            raise ValueError(f"MP4 (yuv420p) needs an even width and height, got {w}x{h}")
        if audio_path is not None and not Path(audio_path).is_file():
            raise ValueError(f"audio file not found: {audio_path}")
        self._audio_rows = audio_rows
        self._pending: deque = deque()
        self._last = -math.inf      # the latest fed frame's time
        self._k = 0                 # video frames drawn
        self._release: list[Callable[[], None]] = []   # run in reverse by close()
        self._ctx = create_headless_context()
        self._release.append(self._ctx.release)
        self._bar = _progress(self.n_frames, progress, out)
        self._release.append(self._bar.close)
        try:
            self._renderer = SceneRenderer(ctx=self._ctx, size=(w, h), shader_dir=shader_dir,
                                           flash_guard=FlashGuard() if flash_guard else None)
            self._release.append(self._renderer.release)
            loaded = self._renderer.load_scene(scene)
            self._state = UniformState(size=(w, h))
            self._state.set_params(loaded.inputs, params)
            self._frame, self.size, cleanup = _framer(self._ctx, self._renderer, outputs)
            self._release.append(cleanup)
            if pattern is not None:
                Path(pattern).parent.mkdir(parents=True, exist_ok=True)
                self._write = lambda image: write_png(pattern % self._k, image)
                is_folder = out.endswith(("/", os.sep)) or Path(out).is_dir()
                self.path = Path(pattern).parent if is_folder else Path(pattern)
            else:
                video = _open_video(out, self.size, fps, self.n_frames, audio_path, quality)
                self._release.append(video.close)
                self._write = lambda image: video.send(np.ascontiguousarray(image))
                self.path = Path(out)
        except BaseException:
            self.close()
            raise

    def feed(self, frames: Sequence[FeatureFrame]) -> None:
        """Take the next feature frames (in time order: ``ValueError`` otherwise) and draw
        every video frame they complete."""
        for f in frames:
            if f.time < self._last:
                raise ValueError(f"frames must be sorted by .time: {f.time} after "
                                 f"{self._last}")
            self._last = f.time
            if self._k < self.n_frames:  # (frames past the video's end are not needed)
                self._pending.append(f)
        self._draw(until=self._last)

    def finish(self) -> PreviewResult:
        """Draw the video frames left (every frame fed so far shown), close the output
        and release the GPU context."""
        self._draw(until=math.inf)
        self.close()
        return PreviewResult(path=self.path, n_frames=self.n_frames,
                             seconds=self.n_frames / self.fps, fps=self.fps, size=self.size)

    def _draw(self, until: float) -> None:
        """Draw the video frames whose time lies before ``until``."""
        while self._k < self.n_frames and self._k / self.fps < until:
            t = self._k / self.fps
            u = _uniforms_at(t, self._pending, self._state)
            if self._audio_rows is not None:  # the audio measured at this video frame
                rows = self._audio_rows(t)
                self._renderer.audio.set(rows[0], rows[1])
            self._write(self._frame(u))
            self._bar.update(1)
            self._k += 1

    def close(self) -> None:
        """Close the output and release what was made (the last made first); idempotent."""
        while self._release:
            self._release.pop()()

    def __enter__(self) -> "PreviewWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_preview(frames: Sequence[FeatureFrame], out_path: str | os.PathLike, *,
                   size: tuple[int, int] = (1280, 720), fps: float = 30,
                   scene: str = "os1", audio_path: str | os.PathLike | None = None,
                   seconds: float | None = None, progress: bool = True,
                   params: Mapping[str, Any] | None = None,
                   shader_dir: str | os.PathLike | None = None,
                   quality: float = 6, flash_guard: bool = True,
                   outputs=None,
                   audio_rows: Callable[[float], np.ndarray] | None = None) -> PreviewResult:
    """Render ``frames`` (sorted by ``.time``, seconds) to an MP4 or PNG sequence.

    ``size`` is (w, h) in pixels (even numbers for MP4: yuv420p), ``fps`` frames per
    second, ``scene`` a scene name or ``.frag`` path, ``params`` overrides of its
    parameters, ``seconds`` the length (default: the last frame's time).
    ``quality`` is imageio-ffmpeg's 1..10 scale (6: x264 CRF 20, visually clean; the film
    grain makes higher settings expensive in file size). Raises ``ValueError`` on bad
    arguments and :class:`installation.render.scene.SceneError` when the scene does not
    compile (a preview has no previous scene to fall back on). ``flash_guard`` puts the
    photosensitive guard in the path, as in the room. ``outputs`` (a
    :class:`installation.render.calibration.Calibration`) renders every projector output
    side by side (each warped and blended from the ``size`` canvas) instead of the canvas;
    the result's ``size`` is then the composition's. ``audio_rows(t)`` gives the measured
    ``u_audio`` rows ((2, 512), 0..1) at video time ``t`` (s), e.g.
    :class:`installation.analysis.spectrum.FileTexture` of the decoded file; without it the
    texture is synthesised from the features (:mod:`installation.render.audiotex`, a
    fallback for frames that come without audio). Frames that arrive as they are
    computed: :class:`PreviewWriter`.
    """
    frames = list(frames)
    if any(b.time < a.time for a, b in zip(frames, frames[1:])):
        raise ValueError("frames must be sorted by .time")
    if seconds is None:
        if not frames:
            raise ValueError("no frames and no seconds: nothing to render")
        seconds = frames[-1].time
    with PreviewWriter(out_path, seconds=seconds, size=size, fps=fps, scene=scene,
                       audio_path=audio_path, progress=progress, params=params,
                       shader_dir=shader_dir, quality=quality, flash_guard=flash_guard,
                       outputs=outputs, audio_rows=audio_rows) as writer:
        writer.feed(frames)
        return writer.finish()


def _framer(ctx, renderer: SceneRenderer, outputs):
    """``frame(uniforms) -> image``, the image size, and a cleanup callable."""
    if outputs is None:
        def frame(u):
            renderer.render(u)
            return renderer.read()
        return frame, renderer.size, lambda: None
    from installation.render.outputs import OutputPass, default_size, draw_outputs, layout
    from installation.render.renderer import read_framebuffer, release_framebuffers

    sizes = [default_size(c, renderer.size) for c in outputs.outputs]
    size, views = layout(outputs, sizes)
    tex = ctx.texture(size, 4)
    fbo = ctx.framebuffer(color_attachments=[tex])
    output_pass = OutputPass(ctx)

    def frame(u):
        renderer.render(u)
        draw_outputs(output_pass, renderer.output_texture, outputs, fbo, views)
        return read_framebuffer(fbo)

    def cleanup():
        output_pass.release()
        release_framebuffers(ctx, [fbo])
        tex.release()
    return frame, size, cleanup


def _open_video(out: str, size: tuple[int, int], fps: float, n_frames: int,
                audio_path: str | os.PathLike | None, quality: float):
    """imageio-ffmpeg's frame writer, started: ``send(image)`` each frame, then ``close()``."""
    import imageio_ffmpeg

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # -t cuts the audio (and anything else) to the video's length.
    # veryfast: x264 at its default preset costs more CPU than llvmpipe rendering itself.
    output_params = ["-t", f"{n_frames / fps:.6f}", "-movflags", "+faststart",
                     "-preset", "veryfast"]
    writer = imageio_ffmpeg.write_frames(
        out, size, fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=quality,
        macro_block_size=2, ffmpeg_log_level="error", output_params=output_params,
        audio_path=str(audio_path) if audio_path is not None else None,
        audio_codec="aac" if audio_path is not None else None)
    writer.send(None)  # start ffmpeg
    return writer


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, label: str):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, unit="frame", desc=f"render {Path(label).name}")


def probe_streams(path: str | os.PathLike) -> str:
    """ffmpeg's description of a media file's streams (``ffmpeg -i`` stderr), for checks."""
    import imageio_ffmpeg

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    return proc.stderr
