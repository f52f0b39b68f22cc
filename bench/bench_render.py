"""Renderer benchmark: frame time per scene, and the renderer's own overhead per frame.

    .venv/bin/python bench/bench_render.py [--size 1280x720] [--frames 20]

Reports (medians, on whatever GL the EGL context gets: Mesa llvmpipe on a CPU-only machine):

- each scene's frame time at the given size (render + glFinish), plain and with the flash
  guard in the path;
- overhead of the renderer itself, in µs per frame: feature intake (OSC bundle decode +
  UniformState update), uniform dict + upload (os1's program), control message validation,
  the flash guard (reduce pass + read-back + decision), the warp/blend output pass for one
  and for two projectors, the audio texture (synthesis + upload).

Numbers move with the machine's load: compare within one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from installation.features import FeatureFrame  # noqa: E402
from installation.osc.codec import decode_frame, encode_frame  # noqa: E402
from installation.render.stills import state_frames  # noqa: E402


def median_time(fn, n: int, finish=None) -> float:
    fn()
    if finish:
        finish()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        if finish:
            finish()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    import moderngl

    from installation.osc.transport import ControlServer
    from installation.render.calibration import Calibration, EdgeBlend, OutputCalibration
    from installation.render.context import create_headless_context
    from installation.render.flashguard import FlashGuard
    from installation.render.outputs import OutputPass, draw_outputs, layout
    from installation.render.renderer import SceneRenderer
    from installation.render.scene import list_scenes
    from installation.render.uniforms import UniformState

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--frames", type=int, default=20)
    args = ap.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    n = args.frames
    ctx = create_headless_context()
    print(f"GL: {ctx.info['GL_RENDERER']}  size {size[0]}x{size[1]}  median of {n}")

    frames, t_end = state_frames("voice")
    print("\nscene frame time (ms)            plain    guarded")
    for name in list_scenes():
        row = []
        for guard in (None, FlashGuard()):
            r = SceneRenderer(ctx, size, flash_guard=guard)
            r.load_scene(name)
            st = UniformState(size=size)
            st.set_params(r.scene.inputs)
            st.feed(frames)
            clock = [t_end]

            def frame():
                clock[0] += 1 / 30
                st.advance(clock[0])
                r.render(st.uniforms())
            row.append(1000 * median_time(frame, n, ctx.finish))
            r.release()
        print(f"  {name:28s} {row[0]:8.1f} {row[1]:10.1f}")

    print("\nrenderer overhead per frame (µs)")
    data = encode_frame(FeatureFrame(1.0, 190, level_rms_db=-20.0, voice=1.0), "/her")
    st = UniformState(size=size)
    blocks = [0]

    def intake():   # one video frame at 60 fps receives ~3 bundles (190 blocks/s)
        for _ in range(3):
            blocks[0] += 1
            f, _ = decode_frame(data, "/her")
            st.update(FeatureFrame(blocks[0] * 0.0053, blocks[0], level_rms_db=-20.0,
                                   voice=1.0), blocks[0] * 0.0053)
    print(f"  feature intake (3 bundles decoded + applied)  {1e6 * median_time(intake, 200):8.1f}")

    r = SceneRenderer(ctx, (64, 36))
    r.load_scene("os1")
    st.set_params(r.scene.inputs)
    slot = r._current

    def upload():
        u = st.uniforms()
        for name, member in slot.uniforms.items():
            if name in u:
                member.value = u[name]
    print(f"  uniform dict + upload (os1)                   {1e6 * median_time(upload, 200):8.1f}")
    r.release()

    server = ControlServer(lambda c: None, "127.0.0.1", 0)
    v = lambda: server.validate("/her/param/os1/glow", [0.5])   # noqa: E731
    print(f"  control message validation                    {1e6 * median_time(v, 500):8.1f}")
    server.close()

    r = SceneRenderer(ctx, size, flash_guard=FlashGuard())
    r.load_scene("testpattern")
    r.render({"u_time": 0.0})
    tex = r.output_texture
    guard = FlashGuard()

    def guard_step():
        guard.limit(r._measure(tex), time.perf_counter())
    print("  flash guard (reduce + read-back + decide)     "
          f"{1e6 * median_time(guard_step, n):8.1f}")

    for count in (1, 2):
        cals = [OutputCalibration(region=(i / count, 0, (i + 1) / count, 1),
                                  keystone=(0.02, 0.03, 1, 0, 0.98, 1, 0, 0.97))
                for i in range(count)]
        if count == 2:
            cals[0].blend["right"] = EdgeBlend(0.1)
            cals[1].blend["left"] = EdgeBlend(0.1)
        cal = Calibration(cals)
        (w, h), views = layout(cal, [(size[0], size[1])] * count)
        otex = ctx.texture((w, h), 4)
        fbo = ctx.framebuffer([otex])
        op = OutputPass(ctx)
        us = 1e6 * median_time(lambda: draw_outputs(op, tex, cal, fbo, views), n, ctx.finish)
        print(f"  warp + blend, {count} output(s) of {size[0]}x{size[1]}        {us:10.1f}")
        op.release()
        fbo.release()
        otex.release()
    u = st.uniforms()
    at = lambda: r._audio_tex.write(r.audio.update(u).tobytes())   # noqa: E731
    print(f"  audio texture (synthesis + upload)            {1e6 * median_time(at, 200):8.1f}")
    r.release()
    ctx.release()
    del moderngl
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
