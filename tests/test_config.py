"""show.toml: valid files load; each kind of bad value names file and key; exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installation.config import (ConfigError, ShowConfig, load_show, parse_show,
                                 schema_markdown)

REPO = Path(__file__).resolve().parents[1]


def test_default_show_file_loads_and_equals_builtin_defaults():
    show = load_show(REPO / "show.toml")
    assert show.path == REPO / "show.toml"
    # The commented default file states exactly the built-in defaults.
    defaults = ShowConfig()
    for section in ("audio", "rehearse", "analysis", "osc", "render"):
        assert getattr(show, section) == getattr(defaults, section), section


def test_empty_file_is_a_valid_show(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text("")
    assert load_show(p).render.scene == "os1"


def test_minimal_show_overrides_only_what_it_says(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text('[render]\nscene = "os1"\nfps = 25\n[osc]\ntargets = ["10.0.0.5:7000"]\n'
                 '[scenes.os1]\nglow = 0.8\n')
    show = load_show(p)
    assert show.render.fps == 25 and show.render.width == 1280
    assert show.osc.targets == ["10.0.0.5:7000"]
    assert show.scenes == {"os1": {"glow": 0.8}}


def test_integer_accepted_for_float_key():
    assert parse_show({"analysis": {"hangover_s": 1}}).analysis.hangover_s == 1.0


@pytest.mark.parametrize("toml, key, expected", [
    ('[render]\nsceen = "os1"\n', "render.sceen", "unknown key"),
    ('[rendr]\nscene = "os1"\n', "rendr", "unknown section"),
    ('[render]\nfps = "thirty"\n', "render.fps", "an integer"),
    ('[render]\nfps = 30.5\n', "render.fps", "an integer"),
    ('[render]\nfullscreen = 1\n', "render.fullscreen", "true or false"),
    ('[render]\nwidth = 8\n', "render.width", "from 16 to 16384"),
    ('[audio]\nbackend = "alsa"\n', "audio.backend", '"auto"'),
    ('[audio]\nblock_size = 300\n', "audio.block_size", "256"),
    ('[osc]\nfeature_port = 70000\n', "osc.feature_port", "from 1 to 65535"),
    ('[osc]\ntargets = ["nohost"]\n', "osc.targets[0]", "host:port"),
    ('[osc]\nallow = ["not-an-ip"]\n', "osc.allow[0]", "CIDR"),
    ('[osc]\nprefix = "her"\n', "osc.prefix", "OSC address prefix"),
    ('[osc]\ncontrol_port = 9000\n', "osc.control_port", "different from osc.feature_port"),
    ('[analysis]\npitch_min_hz = 400.0\npitch_max_hz = 300.0\n', "analysis.pitch_max_hz",
     "above analysis.pitch_min_hz"),
    ('[scenes.os1]\nglow = "bright"\n', "scenes.os1.glow", "a number"),
    ('render = 3\n', "render", "a table"),
])
def test_bad_values_name_file_key_and_expectation(tmp_path, toml, key, expected):
    p = tmp_path / "bad.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_show(p)
    message = str(info.value)
    assert message.startswith(f"{p}: {key}: expected"), message
    assert expected in message
    assert info.value.key == key


def test_invalid_toml_syntax_names_the_file(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[render\nscene = 1\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: expected valid TOML"):
        load_show(p)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="readable show file"):
        load_show(tmp_path / "nope.toml")


@pytest.mark.parametrize("command", [["check"], ["features", "x.wav"], ["rehearse"],
                                     ["scenes"]])
def test_cli_exits_2_before_starting_anything(tmp_path, command):
    p = tmp_path / "bad.toml"
    p.write_text("[render]\nfps = -1\n")
    res = subprocess.run([sys.executable, "-m", "installation", *command, "--show", str(p)],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 2
    assert f"{p}: render.fps: expected a value from 1 to 240, got -1" in res.stderr
    assert res.stdout == ""


def test_docs_list_every_key():
    docs = (REPO / "docs" / "show.md").read_text()
    assert schema_markdown() in docs, "docs/show.md is stale: run python -m installation.docs"


# -- outputs (projectors) ----------------------------------------------------------------
def test_outputs_array_of_tables(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text('[[outputs]]\nmonitor = "HDMI-1"\nregion = [0, 0, 0.55, 1]\n'
                 'blend_right = 0.18\n[[outputs]]\nmonitor = "1"\nregion = [0.45, 0, 1, 1]\n'
                 'keystone = [0, 0.02, 1, 0, 1, 1, 0, 0.97]\nblend_left = 0.18\n')
    show = load_show(p)
    assert len(show.outputs) == 2
    a, b = show.outputs
    assert a.monitor == "HDMI-1" and a.region == [0.0, 0.0, 0.55, 1.0] and a.blend_right == 0.18
    assert b.keystone[1] == 0.02 and b.fullscreen and b.blend_gamma == 2.2
    assert ShowConfig().outputs == ()


@pytest.mark.parametrize("body, key", [
    ('[[outputs]]\n[[outputs]]\nkeystone = [0, 0, 1]\n', "outputs[1].keystone"),
    ('[[outputs]]\nregion = [0.6, 0, 0.4, 1]\n', "outputs[0].region"),
    ('[[outputs]]\nblend_left = 0.9\n', "outputs[0].blend_left"),
    ('[[outputs]]\nsize = [1920]\n', "outputs[0].size"),
    ('[[outputs]]\nwarp = 1\n', "outputs[0].warp"),
    ('outputs = 3\n', "outputs"),
])
def test_bad_outputs_name_the_key(tmp_path, body, key):
    p = tmp_path / "show.toml"
    p.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_show(p)
    assert info.value.key == key and str(p) in str(info.value)


def test_docs_generator_help_writes_nothing(tmp_path, monkeypatch, capsys):
    from installation import docs as gen
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        gen.main(["--help"])
    assert stop.value.code == 0 and "show.toml" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # it once wrote a folder named "--help"
    gen.main([str(tmp_path / "out")])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["osc.md", "show.md"]
