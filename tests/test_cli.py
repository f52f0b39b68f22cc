"""The `installation` command: help, entry points, features output, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from installation.features import FEATURE_NAMES
from conftest import sine

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "installation", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize("command", [[], ["rehearse"], ["features"], ["scenes"], ["check"]])
def test_help_explains(command):
    res = run(*command, "--help")
    assert res.returncode == 0
    assert "usage: installation" in res.stdout
    assert "--show" in res.stdout or not command
    if command == ["rehearse"]:
        for flag in ("--render", "--seconds", "--size", "--fps", "--scene", "preview video"):
            assert flag in res.stdout


def test_console_script_matches_module():
    script = Path(sys.executable).with_name("installation")
    if not script.exists():
        pytest.skip("package not installed into this environment (./setup.sh installs it)")
    res = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout == run("--help").stdout


def test_features_jsonl_one_frame_per_line(wav):
    path = wav(sine(440, 1.0, 48000), 48000)
    res = run("features", str(path), "--jsonl")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 188  # ceil(48000 / 256)
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    assert list(first) == ["time", "block", *FEATURE_NAMES]
    assert first["block"] == 0 and last["block"] == 187
    assert last["time"] == pytest.approx(188 * 256 / 48000)
    assert json.loads(lines[100])["pitch_hz"] == pytest.approx(440, rel=0.01)


# On a bare Debian neither wxPython nor Tkinter is installed, and pyo's import then prints a
# banner; this runs the command with both hidden from it, as there.
NO_GUI_TOOLKIT = ("import sys, runpy; sys.modules['tkinter'] = sys.modules['wx'] = None; "
                  "sys.argv = ['installation', *sys.argv[1:]]; "
                  "runpy.run_module('installation', run_name='__main__')")


@pytest.mark.parametrize("args", [["gaps", "--json"], ["features", "--jsonl"]])
def test_machine_output_stays_clean_without_a_gui_toolkit(wav, args):
    path = wav(sine(440, 0.5, 16000), 16000)
    res = subprocess.run([sys.executable, "-c", NO_GUI_TOOLKIT, args[0], str(path), *args[1:]],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines and all(json.loads(line) is not None for line in lines), res.stdout[:300]


def test_features_summary_without_jsonl(wav):
    import re
    res = run("features", str(wav(sine(220, 0.5, 16000), 16000)))
    assert res.returncode == 0 and "94 frames" in res.stdout
    median = float(re.search(r"pitch  median ([\d.]+) Hz", res.stdout).group(1))
    assert median == pytest.approx(220, rel=0.01)


def test_features_uses_the_show_settings(wav, tmp_path):
    show = tmp_path / "show.toml"
    show.write_text("[audio]\nblock_size = 512\n")
    res = run("features", str(wav(sine(440, 1.0, 48000), 48000)), "--jsonl", "--show", str(show))
    assert len(res.stdout.splitlines()) == 94


def test_show_defaults_to_local_show_toml(tmp_path, wav):
    (tmp_path / "show.toml").write_text("[audio]\nblock_size = 1024\n")
    res = run("features", str(wav(sine(440, 1.0, 48000), 48000)), "--jsonl", cwd=tmp_path,
              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert len(res.stdout.splitlines()) == 47


@pytest.mark.parametrize("args, message", [
    (["features", "nope.wav"], "no such audio file"),
    (["rehearse", "--render", "x.mp4", "--scene", "nope"], "unknown scene 'nope'"),
    (["rehearse", "--size", "big"], "expected WIDTHxHEIGHT"),
    (["rehearse", "--seconds", "-1"], "expected a positive number"),
])
def test_bad_arguments_exit_2_with_a_message(args, message, tmp_path):
    res = run(*args, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 2
    assert message in res.stderr


def test_check_prints_every_key():
    res = run("check", "--show", str(REPO / "show.toml"))
    assert res.returncode == 0 and "render.scene = 'os1'" in res.stdout


def test_installed_package_finds_its_data(tmp_path):
    """A plain (non-editable) install ships shaders, audio, the default show and the gap
    detector's three voice models."""
    script = Path(sys.executable).with_name("installation")
    if not script.exists():
        pytest.skip("package not installed into this environment (./setup.sh installs it)")
    code = ("import installation.resources as r; print(r.data_root()); "
            "print(r.data_path('shaders', 'os1.frag')); "
            "print(r.data_path('audio', 'between_the_words.flac')); "
            "print(r.data_path('show.toml')); import installation.analysis.voicemodel as v; "
            "print(all(v.family_path(n).is_file() for n in ('hi', 'lo', 'nb')))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HER_DATA")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    root = res.stdout.splitlines()[0]
    assert root.endswith(os.path.join("installation", "_data")), root
    assert "site-packages" in root
    assert res.stdout.splitlines()[-1] == "True"  # the voice models


def test_features_into_a_reader_that_stops_early_ends_quietly(wav):
    """`installation features --jsonl F | head -1`: the reader goes, the analysis stops at
    once and says nothing (exit status 141, as a shell reports SIGPIPE)."""
    path = wav(sine(220, 20.0, 48000), 48000)
    child = subprocess.Popen([sys.executable, "-m", "installation", "features", "--jsonl", "-q",
                              str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=REPO)
    first = child.stdout.readline()
    child.stdout.close()  # 3750 frames are far more than a pipe holds: the next write fails
    _, err = child.communicate(timeout=300)
    assert first.startswith(b'{"time"')
    assert child.returncode == 141 and err == b""
