"""Shared fixtures: real services (JACK dummy server, Xvfb), test signals on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("PYO_GUI_WX", "0")
os.environ.setdefault("JACK_NO_START_SERVER", "1")
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "her-numba"))

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "audio" / "between_the_words.flac"


class FakeClock:
    """A clock that ticks 1/60 s each time it is read, injected instead of time.monotonic."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def __call__(self) -> float:
        self.t += 1 / 60
        return self.t


def write_wav(path: Path, signal: np.ndarray, sr: int) -> Path:
    sf.write(str(path), np.asarray(signal, dtype=np.float32), sr, subtype="FLOAT")
    return path


def sine(freq: float, seconds: float, sr: int, peak: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return peak * np.sin(2 * np.pi * freq * t)


@pytest.fixture
def wav(tmp_path):
    """``wav(signal, sr, name='x.wav')`` writes a float WAV and returns its path."""
    def make(signal: np.ndarray, sr: int, name: str = "signal.wav") -> Path:
        return write_wav(tmp_path / name, signal, sr)
    return make


@pytest.fixture(scope="session")
def jack_server():
    """A real JACK server with the dummy driver (started here unless one runs already)."""
    from installation.engine.server import jack_running

    if shutil.which("jackd") is None:
        pytest.skip("jackd2 is not installed (./setup.sh installs it)")
    if jack_running():
        yield None
        return
    proc = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not jack_running():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("jackd -d dummy did not start within 10 s")
        time.sleep(0.1)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def x_display():
    """A real X display: the one we have, else an Xvfb started here."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (./setup.sh installs it)")
    # -displayfd: Xvfb picks a free display and writes its number when it is ready, so
    # two test sessions at once never share (and then kill) one server
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             "1920x1080x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        number = ready.readline().strip()     # blocks until the server is up (or exits)
    if not number.isdigit():
        proc.kill()
        pytest.fail("Xvfb exited at start")
    display = f":{number}"
    os.environ["DISPLAY"] = display
    yield display
    del os.environ["DISPLAY"]
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def ctx():
    """One headless EGL OpenGL 3.3 context per test module (Mesa llvmpipe here)."""
    from installation.render.context import create_headless_context

    try:
        context = create_headless_context()
    except Exception as exc:  # moderngl raises plain Exceptions when EGL is missing
        pytest.skip(f"no EGL OpenGL 3.3 context (./setup.sh installs Mesa EGL): {exc}")
    yield context
    context.release()


@pytest.fixture(autouse=True)
def gl_clean(request):
    """A test that uses the GL context must leave no GL error behind (nor find one)."""
    if "ctx" not in request.fixturenames:
        yield
        return
    context = request.getfixturevalue("ctx")
    assert context.error == "GL_NO_ERROR"
    yield
    assert context.error == "GL_NO_ERROR"
