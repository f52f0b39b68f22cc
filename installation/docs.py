"""Regenerate the reference docs from the code that defines them.

``python -m installation.docs [DOCS_DIR]`` rewrites ``docs/show.md`` (every show.toml key,
from :mod:`installation.config`) and ``docs/osc.md`` (every OSC address, from
:mod:`installation.osc.namespace`). Tests fail when the committed docs are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from installation.config import schema_markdown
from installation.osc.namespace import markdown as osc_markdown

SHOW_INTRO = """# show.toml reference

A show is described by one TOML file. `installation` reads `--show PATH`, else `./show.toml`,
else the bundled default show. Every key has a default, so an empty file is a valid show; the
commented `show.toml` at the top of the repository spells out every default.

The file is parsed once, before anything starts. An unknown section or key, a wrong type or an
out-of-range value stops with exit code 2 and a message naming the file, the key and what was
expected, e.g.

    installation: error: show.toml: render.fps: expected a value from 1 to 240, got -1

`installation check --show PATH` validates a file and prints every resolved value.

*This table is generated from `installation/config.py` by `python -m installation.docs`.*

"""

OSC_INTRO = """# OSC reference

The engine sends one OSC **bundle per audio block** (5.3 ms at 48 kHz, block 256) over UDP to
the renderer (`osc.host`:`osc.feature_port`) and to every `osc.targets` entry. The bundle's
timetag is the wall-clock time the block was measured; its first message is `/her/frame`, then
one message per feature, always in the order below, so a receiver can also read the messages
one by one (TouchOSC, Max `udpreceive` + `oscroute`, TouchDesigner OSC In CHOP, QLab).
Floats are 32-bit (`f`), except times from the stream's start (`d`, 64-bit so they stay exact
over weeks: the frame time, a gap's start and emit times; a 32-bit float's step is 62 ms after a
week); booleans and triggers are `i` (0/1).

Control messages go to `osc.control_port` (default 9001). Every control message is checked
against the table: an unknown address, a wrong type or an out-of-range value is counted, logged
once (then every 100th time) and ignored, never fatal; so is a datagram that is not OSC.
`osc.allow` restricts who may send control. The prefix (`/her`) is `osc.prefix`.

Try it with liblo's tools:

    oscdump 9000                              # watch the feature stream
    oscsend 127.0.0.1 9001 /her/scene s os1   # switch scene
    oscsend 127.0.0.1 9001 /her/master f 0.5  # half brightness
    oscsend 127.0.0.1 9001 /her/blackout i 1  # fade to black

*The tables are generated from `installation/osc/namespace.py` by `python -m installation.docs`.*

"""


def write(docs: Path) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    show = docs / "show.md"
    osc = docs / "osc.md"
    show.write_text(SHOW_INTRO + schema_markdown(), encoding="utf-8")
    osc.write_text(OSC_INTRO + osc_markdown(), encoding="utf-8")
    return [show, osc]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m installation.docs",
        description="Regenerate docs/show.md (every show.toml key) and docs/osc.md (every OSC "
                    "address) from the code that defines them.")
    parser.add_argument("target", nargs="?", type=Path,
                        default=Path(__file__).resolve().parents[1] / "docs",
                        help="folder to write them to (default: the repository's docs/)")
    args = parser.parse_args(argv)
    for path in write(args.target):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
