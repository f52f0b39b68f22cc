"""Stills of a scene in the four states a visitor must tell apart, for docs and tests.

``python -m installation.render.stills [SCENE ...] [--size 640x360] [--out docs/img/scenes]``
writes ``<out>/<scene>_<state>.png`` for the states of :data:`STATES` (silence, voice,
gap, music) and prints the median frame time of each scene at 1280x720. Deterministic:
scripted feature frames (:mod:`.synthetic`), injected time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from installation.features import FeatureFrame
from installation.render.synthetic import Segment, synthesize

#: state -> one-line meaning; the scripts are in :func:`state_frames`.
STATES: dict[str, str] = {
    "silence": "nothing heard yet (1.5 s into the stream)",
    "voice": "she has been talking for a while and is mid-word",
    "gap": "3 s into a pause after talking",
    "music": "only music (soft plucks) for 30 s",
}


#: parameters for the docs stills (dawn: show the sunrise well under way)
STILL_PARAMS: dict[str, dict[str, float]] = {"dawn": {"start": 0.55}}
#: scenes that need fewer stills (the test pattern ignores the sound)
STILL_STATES: dict[str, tuple[str, ...]] = {"testpattern": ("voice",),
                                            "shadertoy_ring": ("voice", "music")}


def _talk(until: float) -> list[Segment]:
    segs, t, k = [], 1.0, 0
    while t < until:
        word = 0.35 + 0.12 * (k % 4)
        segs.append(Segment(t, min(until, t + word), voice=True, level_db=-17.0 - 3.0 * (k % 3),
                            pitch_hz=190.0 + 30.0 * (k % 5)))
        t += word + (0.25 if k % 5 else 0.7)
        k += 1
    return segs


def state_frames(state: str) -> tuple[list[FeatureFrame], float]:
    """Scripted feature frames and the time (s) to show for ``state``."""
    if state == "silence":
        return synthesize([], duration=1.5), 1.5
    if state == "voice":
        segs = _talk(24.0) + [Segment(23.6, 24.4, voice=True, level_db=-14.0, pitch_hz=230.0)]
        return synthesize(segs, duration=24.2), 24.2
    if state == "gap":
        return synthesize(_talk(21.0), duration=24.0), 24.0
    if state == "music":
        return synthesize([Segment(0.0, 30.0, level_db=-24.0, pitch_hz=220.0,
                                   onsets_per_s=1.3)], duration=30.0), 30.0
    raise KeyError(f"unknown state {state!r}; expected one of {list(STATES)}")


def render_state(renderer, state: str, params: Mapping[str, Any] | None = None,
                 time_offset: float = 0.0) -> np.ndarray:
    """Draw ``state`` with a loaded :class:`SceneRenderer`; uint8 (H, W, 3)."""
    from installation.render.uniforms import UniformState

    frames, t = state_frames(state)
    u = UniformState(size=renderer.size)
    u.set_params(renderer.scene.inputs, params)
    for f in frames:
        u.update(f, f.time + time_offset)
    u.advance(t + time_offset)
    renderer.render(u.uniforms())
    return renderer.read()


def time_scene(renderer, n: int = 12) -> float:
    """Median seconds per frame (render + glFinish) of the loaded scene."""
    from installation.render.uniforms import UniformState

    u = UniformState(size=renderer.size)
    u.set_params(renderer.scene.inputs)
    frames, t = state_frames("voice")
    u.feed(frames)
    renderer.render(u.uniforms())
    renderer.ctx.finish()
    times = []
    for k in range(n):
        u.advance(t + k / 30)
        t0 = time.perf_counter()
        renderer.render(u.uniforms())
        renderer.ctx.finish()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    from installation.render.context import create_headless_context
    from installation.render.png import write_png
    from installation.render.renderer import SceneRenderer
    from installation.render.scene import list_scenes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenes", nargs="*")
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--out", type=Path, default=Path("docs/img/scenes"))
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    ctx = create_headless_context()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.scenes or list_scenes():
        r = SceneRenderer(ctx, (w, h))
        r.load_scene(name)
        for state in STILL_STATES.get(name, tuple(STATES)):
            write_png(args.out / f"{name}_{state}.png",
                      render_state(r, state, STILL_PARAMS.get(name)))
        r.release()
        if not args.no_timing:
            r = SceneRenderer(ctx, (1280, 720))
            r.load_scene(name)
            print(f"{name}: {1000 * time_scene(r):.1f} ms per 1280x720 frame")
            r.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
