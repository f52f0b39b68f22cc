"""Control end to end: liblo's oscsend → control server → render loop → pixels change."""

from __future__ import annotations

import queue
import shutil
import subprocess

import pytest

from installation.osc.transport import ControlServer
from installation.render.context import HeadlessSurface, create_headless_context
from installation.render.renderer import SceneRenderer
from installation.render.uniforms import UniformState
from installation.render.window import run_loop
from conftest import FakeClock


@pytest.mark.skipif(shutil.which("oscsend") is None,
                    reason="liblo-tools is not installed (./setup.sh installs it)")
def test_oscsend_switches_the_scene_on_screen_and_master_dims_it(tmp_path):
    for name, value in (("dark", 0.0), ("bright", 1.0)):
        (tmp_path / f"{name}.frag").write_text(
            f'/*{{"INPUTS": []}}*/\nvoid main() {{ fragColor = vec4(vec3({value}), 1); }}\n')
    ctx = create_headless_context()
    commands: queue.Queue = queue.Queue()
    server = ControlServer(commands.put, "127.0.0.1", 0, "/her")
    surface = HeadlessSurface(ctx, (8, 8))
    renderer = SceneRenderer(ctx, (8, 8), shader_dir=tmp_path)
    try:
        renderer.load_scene("dark")
        state = UniformState(size=(8, 8))
        clock = FakeClock()
        run_loop(surface, renderer, state, lambda: None, commands=commands, clock=clock,
                 max_frames=2)
        assert surface.read().max() == 0
        subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/scene", "s", "bright"],
                       check=True, timeout=10)
        commands.put(commands.get(timeout=5))  # wait until the server has queued it
        run_loop(surface, renderer, state, lambda: None, commands=commands, clock=clock,
                 crossfade_s=0.0, max_frames=2)
        assert renderer.scene.name == "bright"
        assert surface.read().min() == 255
        subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/master", "f", "0.0"],
                       check=True, timeout=10)
        commands.put(commands.get(timeout=5))
        run_loop(surface, renderer, state, lambda: None, commands=commands, clock=clock,
                 max_frames=120)   # master is smoothed (150 ms): 2 s is plenty
        assert surface.read().max() <= 2
        # A scene that does not exist is reported and the current one stays on screen.
        subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/scene", "s", "nope"],
                       check=True, timeout=10)
        commands.put(commands.get(timeout=5))
        errors = []
        run_loop(surface, renderer, state, lambda: None, commands=commands, clock=clock,
                 max_frames=2, on_error=errors.append)
        assert renderer.scene.name == "bright" and "nope" in str(errors[0])
    finally:
        renderer.release()
        surface.close()
        server.close()
        ctx.release()
