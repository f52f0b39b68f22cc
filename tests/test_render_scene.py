"""installation.render.scene: headers, includes, #line mapping, finding scenes (no GL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installation.render import scene as sc
from installation.render.scene import SceneError
from installation.render.uniforms import STANDARD_UNIFORMS

REPO_SHADERS = Path(__file__).resolve().parents[1] / "shaders"

GOOD_HEADER = {
    "DESCRIPTION": "test",
    "CREDIT": "tests",
    "INPUTS": [
        {"NAME": "width", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1, "LABEL": "W"},
        {"NAME": "count", "TYPE": "long", "DEFAULT": 3, "MIN": 1, "MAX": 8},
        {"NAME": "on", "TYPE": "bool", "DEFAULT": True},
        {"NAME": "tint", "TYPE": "color", "DEFAULT": [1, 0.5, 0.2, 1]},
        {"NAME": "centre", "TYPE": "point2D", "DEFAULT": [0, 0], "MIN": [-1, -1],
         "MAX": [1, 1]},
    ],
}


def scene_text(header: dict | str, body: str = "void main() { fragColor = vec4(1.0); }\n"
               ) -> str:
    head = header if isinstance(header, str) else json.dumps(header)  # one line
    return f"/*{head}*/\n{body}"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- header ---------------------------------------------------------------------------
def test_parse_good_header_gives_typed_inputs(tmp_path):
    path = write(tmp_path / "good.frag", scene_text(GOOD_HEADER))
    loaded = sc.load_scene(path)
    assert loaded.name == "good"
    assert loaded.description == "test"
    names = [i.name for i in loaded.inputs]
    assert names == ["width", "count", "on", "tint", "centre"]
    assert [i.glsl_type for i in loaded.inputs] == ["float", "int", "bool", "vec4", "vec2"]
    assert loaded.defaults() == {"width": 0.5, "count": 3, "on": True,
                                 "tint": (1.0, 0.5, 0.2, 1.0), "centre": (0.0, 0.0)}
    assert loaded.input("width").label == "W"
    assert loaded.input("count").label == "count"  # LABEL defaults to NAME


def test_input_coerce_clamps_and_converts():
    inputs = sc.header_inputs(GOOD_HEADER)
    by = {i.name: i for i in inputs}
    assert by["width"].coerce(7) == 1.0
    assert by["width"].coerce("0.25") == 0.25
    assert by["width"].coerce(float("nan")) == 0.0
    assert by["count"].coerce(2.6) == 3
    assert by["count"].coerce(-5) == 1
    assert by["on"].coerce("false") is False
    assert by["tint"].coerce([2, -1, 0.5, 1]) == (1.0, 0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="width"):
        by["width"].coerce("wide")
    with pytest.raises(ValueError, match="centre"):
        by["centre"].coerce([1, 2, 3])


@pytest.mark.parametrize("text, message, line", [
    ("void main() {}\n", "missing ISF JSON header", 1),
    ("/*{\"INPUTS\": []}\nvoid main() {}\n", "never closed", 1),
    ("/* just a comment */\nvoid main() {}\n", "JSON object", 1),
    ("/*{\n  \"INPUTS\": [\n    {\"NAME\": \"a\",}\n  ]\n}*/\n", "not valid JSON", 3),
    ("/*[1, 2]*/\n", "JSON object", 1),
])
def test_header_syntax_errors_name_file_and_line(tmp_path, text, message, line):
    path = write(tmp_path / "bad.frag", text)
    with pytest.raises(SceneError) as info:
        sc.load_scene(path)
    err = info.value
    assert err.file == str(path)
    assert message in err.message
    assert err.line == line
    assert str(path) in str(err)


def _with_input(**changes):
    inp = {"NAME": "width", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1}
    inp.update(changes)
    return {"INPUTS": [{k: v for k, v in inp.items() if v is not None}]}


@pytest.mark.parametrize("header, message", [
    ({"DESCRIPTON": "typo"}, "unknown header key 'DESCRIPTON'"),
    ({"PASSES": []}, "multi-pass"),
    ({"DESCRIPTION": 3}, "'DESCRIPTION' must be a string"),
    ({"INPUTS": {"NAME": "a"}}, "must be a list"),
    ({"INPUTS": ["width"]}, "must be an object"),
    (_with_input(TYPE="image"), "TYPE 'image' is not supported"),
    (_with_input(NAME="2wide"), "GLSL identifier"),
    (_with_input(NAME=None), "GLSL identifier"),
    (_with_input(DEFUALT=0.1), "unknown key 'DEFUALT'"),
    (_with_input(DEFAULT=None), "DEFAULT is required"),
    (_with_input(DEFAULT="big"), "DEFAULT must be a number"),
    (_with_input(DEFAULT=2.0), "outside"),
    (_with_input(MIN=1, MAX=0, DEFAULT=0.5), "greater than MAX"),
    (_with_input(MAX=None), "MIN and MAX are required"),
    (_with_input(TYPE="color", DEFAULT=[1, 0, 0], MIN=None, MAX=None), "list of 4 numbers"),
    (_with_input(LABEL=5), "LABEL must be a string"),
    ({"INPUTS": [{"NAME": "a", "TYPE": "bool", "DEFAULT": True},
                 {"NAME": "a", "TYPE": "bool", "DEFAULT": False}]}, "duplicate NAME 'a'"),
])
def test_header_validation_errors(tmp_path, header, message):
    path = write(tmp_path / "bad.frag", scene_text(header))
    with pytest.raises(SceneError, match=message) as info:
        sc.load_scene(path)
    assert info.value.file == str(path)


# -- includes and #line -----------------------------------------------------------------
def test_includes_are_inlined_once_with_line_directives(tmp_path):
    write(tmp_path / "lib" / "a.glsl", "float a() { return 1.0; }\n")
    write(tmp_path / "lib" / "b.glsl", '#include "lib/a.glsl"\nfloat b() { return a(); }\n')
    body = ('#include "lib/b.glsl"\n#include "lib/a.glsl"\n'
            "void main() { fragColor = vec4(b()); }\n")
    path = write(tmp_path / "s.frag", scene_text({"INPUTS": []}, body))
    loaded = sc.load_scene(path)
    src = loaded.source
    assert src.startswith("#version 330\n")
    assert src.count("float a()") == 1  # include guard
    a_index = loaded.files.index(str((tmp_path / "lib" / "a.glsl").resolve()))
    b_index = loaded.files.index(str((tmp_path / "lib" / "b.glsl").resolve()))
    assert loaded.files[0] == str(path) and loaded.files[1] == sc.PRELUDE_NAME
    stride = sc.LINE_STRIDE
    assert f"#line {b_index * stride + 1} {b_index}" in src
    assert f"#line {a_index * stride + 1} {a_index}" in src
    # back in b after its include of a, and in the scene after its first #include
    assert f"#line {b_index * stride + 2} {b_index}" in src
    assert "#line 3 0" in src


def test_line_numbers_survive_assembly(tmp_path):
    """Every original line must sit where its #line directive says."""
    write(tmp_path / "lib" / "x.glsl", "// x1\n// x2\nfloat x() { return 2.0; } // x3\n")
    body = '// s2\n#include "lib/x.glsl"\n// s4\nvoid main() { fragColor = vec4(x()); } // s5\n'
    path = write(tmp_path / "s.frag", scene_text({"INPUTS": []}, body).replace("/*{", "/*{", 1))
    loaded = sc.load_scene(path)
    # Simulate the preprocessor: track (file index, line) for every assembled line.
    current, line = None, None
    where = {}
    for text in loaded.source.split("\n"):
        if text.startswith("#line "):
            _, n, idx = text.split()
            current, line = int(idx), int(n)
            assert line // sc.LINE_STRIDE == current   # each file has its own band
            line %= sc.LINE_STRIDE
            continue
        if current is not None:
            for tag in ("x1", "x2", "x3", "s2", "s4", "s5"):
                if text.endswith(f"// {tag}"):
                    where[tag] = (loaded.files[current], line)
            line += 1
    xfile = str((tmp_path / "lib" / "x.glsl").resolve())
    assert where["x1"] == (xfile, 1) and where["x3"] == (xfile, 3)
    assert where["s2"] == (str(path), 2)
    assert where["s4"] == (str(path), 4)
    assert where["s5"] == (str(path), 5)


@pytest.mark.parametrize("files, body, message, err_file, line", [
    ({}, '\n#include "lib/nope.glsl"\n', "no such file", "s.frag", 3),
    ({}, '#include "../outside.glsl"\n', "points outside", "s.frag", 2),
    ({"lib/c1.glsl": '#include "lib/c2.glsl"\n', "lib/c2.glsl": '\n#include "lib/c1.glsl"\n'},
     '#include "lib/c1.glsl"\n', "circular", "lib/c2.glsl", 2),
    ({"lib/v.glsl": "#version 330\n"}, '#include "lib/v.glsl"\n', "must not have #version",
     "lib/v.glsl", 1),
    ({}, "#version 450\n", "remove the line", "s.frag", 2),
])
def test_include_errors_name_file_and_line(tmp_path, files, body, message, err_file, line):
    for rel, text in files.items():
        write(tmp_path / rel, text)
    write(tmp_path / "outside.glsl", "")
    path = write(tmp_path / "s.frag", scene_text({"INPUTS": []}, body))
    with pytest.raises(SceneError, match=message) as info:
        sc.load_scene(path)
    assert info.value.file.endswith(err_file)
    assert info.value.line == line


def test_version_330_line_is_tolerated(tmp_path):
    path = write(tmp_path / "s.frag", scene_text({"INPUTS": []}, "#version 330 core\n"
                                                 "void main() { fragColor = vec4(1.0); }\n"))
    assert sc.load_scene(path).source.count("#version") == 1


def test_prelude_declares_every_standard_uniform_and_params():
    inputs = sc.header_inputs(GOOD_HEADER)
    text = sc.prelude(inputs)
    for spec in STANDARD_UNIFORMS:
        assert f"uniform {spec.glsl_type} {spec.name};" in text
    assert "uniform vec4 p_tint;" in text and "uniform int p_count;" in text
    assert "out vec4 fragColor;" in text


# -- compile logs -------------------------------------------------------------------------
FILES = ("shaders/s.frag", sc.PRELUDE_NAME, "/abs/shaders/lib/noise.glsl")


@pytest.mark.parametrize("log, expected", [
    ("0:12(5): error: syntax error, unexpected '}'",
     ("shaders/s.frag", 12, "syntax error, unexpected '}'")),
    ("2:200003(1): error: `foo' undeclared",
     ("/abs/shaders/lib/noise.glsl", 3, "`foo' undeclared")),
    # Mesa loses the source number inside expressions: the line band still tells
    ("0:200004(13): error: `bar' undeclared",
     ("/abs/shaders/lib/noise.glsl", 4, "`bar' undeclared")),
    ("0(7) : error C1008: undefined variable \"x\"",
     ("shaders/s.frag", 7, 'undefined variable "x"')),
    ("ERROR: 2:200009: 'y' : undeclared identifier",
     ("/abs/shaders/lib/noise.glsl", 9, "'y' : undeclared identifier")),
    ("1:100002(3): error: prelude", (sc.PRELUDE_NAME, 2, "prelude")),
])
def test_map_error_log_formats(log, expected):
    diags = sc.map_error_log("GLSL Compiler failed\n\nfragment_shader\n===\n" + log, FILES)
    assert len(diags) == 1
    assert (diags[0].file, diags[0].line, diags[0].message) == expected


def test_map_error_log_offset_warnings_and_unknown_lines():
    log = "0:1(1): warning: unused\n0:5(2): error: bad\nerror: linking failed\n"
    diags = sc.map_error_log(log, FILES, line_offset=1)
    assert [(d.line, d.severity) for d in diags] == [(4, "error"), (None, "error")]
    assert diags[1].file == "shaders/s.frag"
    assert len(sc.map_error_log(log, FILES, include_warnings=True)) == 3
    assert sc.map_error_log("9:2(1): error: x", FILES)[0].file == "shaders/s.frag"
    assert sc.map_error_log("2:900002(1): error: x", FILES)[0].file == FILES[2]


# -- finding scenes -----------------------------------------------------------------------
def test_list_scenes_and_scene_path(tmp_path):
    write(tmp_path / "b.frag", "")
    write(tmp_path / "a-1.frag", "")
    write(tmp_path / "lib" / "x.frag", "")
    write(tmp_path / "notes.txt", "")
    assert sc.list_scenes(tmp_path) == ["a-1", "b"]
    assert sc.scene_path("b", tmp_path) == tmp_path / "b.frag"
    with pytest.raises(SceneError, match="no such scene"):
        sc.scene_path("c", tmp_path)


@pytest.mark.parametrize("name", ["../etc/passwd", "lib/x", "", ".hidden", "a b"])
def test_scene_names_cannot_escape(tmp_path, name):
    with pytest.raises(SceneError, match="scene name"):
        sc.scene_path(name, tmp_path)


def test_shader_dir_env_override_and_repo_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("HER_SHADERS", str(tmp_path))
    assert sc.shader_dir() == tmp_path
    monkeypatch.setenv("HER_SHADERS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="HER_SHADERS"):
        sc.shader_dir()
    monkeypatch.delenv("HER_SHADERS")
    found = sc.shader_dir()
    package_data = Path(sc.__file__).resolve().parents[1] / "_data" / "shaders"
    assert found == (package_data if package_data.is_dir() else REPO_SHADERS)
    assert "os1" in sc.list_scenes()


def test_bundled_scenes_parse():
    names = sc.list_scenes(REPO_SHADERS)
    assert "os1" in names
    for name in names:
        loaded = sc.load_scene(name, REPO_SHADERS)
        assert loaded.inputs, f"{name} declares no parameters"
        assert "#include" not in loaded.source.replace("// #include", "")
