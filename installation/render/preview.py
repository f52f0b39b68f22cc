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

import os
import subprocess
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


def iter_uniforms(frames: Sequence[FeatureFrame], *, fps: float, n_frames: int,
                  state: UniformState) -> Iterator[dict[str, Any]]:
    """Uniforms for video frames ``0 .. n_frames-1`` (``t = k / fps``), feeding every
    feature frame with ``time <= t`` through ``state`` first."""
    i = 0
    for k in range(n_frames):
        t = k / fps
        while i < len(frames) and frames[i].time <= t:
            state.update(frames[i], frames[i].time)
            i += 1
        state.advance(t)
        yield state.uniforms()


def _with_audio(uniforms: Iterator[dict[str, Any]], renderer: SceneRenderer,
                audio_rows: Callable[[float], np.ndarray], fps: float
                ) -> Iterator[dict[str, Any]]:
    """Pass ``uniforms`` through, handing video frame ``k``'s measured audio rows
    (``audio_rows(k / fps)``) to the renderer just before it is drawn."""
    for k, u in enumerate(uniforms):
        rows = audio_rows(k / fps)
        renderer.audio.set(rows[0], rows[1])
        yield u


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
    fallback for frames that come without audio).
    """
    frames = list(frames)
    if any(b.time < a.time for a, b in zip(frames, frames[1:])):
        raise ValueError("frames must be sorted by .time")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    w, h = int(size[0]), int(size[1])
    if w < 2 or h < 2:
        raise ValueError(f"size must be at least 2x2 pixels, got {size!r}")
    if seconds is None:
        if not frames:
            raise ValueError("no frames and no seconds: nothing to render")
        seconds = frames[-1].time
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    n_frames = max(1, int(round(seconds * fps)))
    out = str(out_path)
    pattern = _png_target(out)
    if pattern is None and (w % 2 or h % 2):
        raise ValueError(f"MP4 (yuv420p) needs an even width and height, got {w}x{h}")
    if audio_path is not None and not Path(audio_path).is_file():
        raise ValueError(f"audio file not found: {audio_path}")

    ctx = create_headless_context()
    bar = _progress(n_frames, progress, out)
    try:
        renderer = SceneRenderer(ctx, (w, h), shader_dir=shader_dir,
                                 flash_guard=FlashGuard() if flash_guard else None)
        loaded = renderer.load_scene(scene)
        state = UniformState(size=(w, h))
        state.set_params(loaded.inputs, params)
        uniforms = iter_uniforms(frames, fps=fps, n_frames=n_frames, state=state)
        if audio_rows is not None:
            uniforms = _with_audio(uniforms, renderer, audio_rows, fps)
        frame, out_size, cleanup = _framer(ctx, renderer, outputs)
        if pattern is not None:
            Path(pattern).parent.mkdir(parents=True, exist_ok=True)
            for k, u in enumerate(uniforms):
                write_png(pattern % k, frame(u))
                bar.update(1)
            is_folder = out.endswith(("/", os.sep)) or Path(out).is_dir()
            path = Path(pattern).parent if is_folder else Path(pattern)
        else:
            _write_video(out, frame, uniforms, out_size, fps, n_frames, audio_path,
                         quality, bar)
            path = Path(out)
        cleanup()
        renderer.release()
    finally:
        bar.close()
        ctx.release()
    return PreviewResult(path=path, n_frames=n_frames, seconds=n_frames / fps, fps=fps,
                         size=out_size)


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


def _write_video(out: str, frame, uniforms: Iterator[dict[str, Any]],
                 size: tuple[int, int], fps: float, n_frames: int,
                 audio_path: str | os.PathLike | None, quality: float, bar) -> None:
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
    try:
        for u in uniforms:
            writer.send(np.ascontiguousarray(frame(u)))
            bar.update(1)
    finally:
        writer.close()


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
