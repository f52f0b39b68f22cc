"""The ``installation`` command.

Subcommands: ``rehearse`` (a file through the whole pipeline, to a window or a preview
video), ``features`` (the feature frames of a file as JSON lines), ``gaps`` (the pauses
between words in a file, as the live detector hears them), ``scenes`` (the scenes
and their parameters), ``check`` (validate a show file). Every subcommand takes ``--show``.
Exit codes: 0 success, 1 runtime failure, 2 bad command line or show file, 130 interrupted
(Ctrl-C), 141 the reader of its output went away (`... | head`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from array import array
from pathlib import Path

from installation import __version__
from installation.config import ConfigError, ShowConfig, default_show_path, load_show, \
    rehearsal_file

log = logging.getLogger("installation")

EXIT_RUNTIME = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument; reported like argparse's own errors (exit 2)."""


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1280x720, got {text!r}")
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"expected sizes from 16 to 16384 pixels, got {text!r}")
    return w, h


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="installation",
        description="An audiovisual installation after the film Her: a pyo engine listens "
                    "to voice and music, measures the words and the pauses between them, "
                    "and a moderngl renderer turns them into light, driven over OSC.",
        epilog="Start with `installation rehearse`: it plays the bundled piece in a window, "
               "or renders a preview video when there is no display. "
               "Docs: docs/show.md (show.toml), docs/osc.md (OSC), docs/shaders.md (scenes).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--show", type=Path, metavar="PATH",
                        help="show file (default: ./show.toml if present, else the bundled "
                             "default show)")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more log detail")
    common.add_argument("-q", "--quiet", action="store_true",
                        help="warnings and errors only, no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    r = sub.add_parser(
        "rehearse", parents=[common], help="rehearse an audio file: window or preview video",
        description="Run an audio file through the whole pipeline: pyo analysis → feature "
                    "frames → OSC → renderer. With a display (and no --render) it opens a "
                    "window and plays in real time (JACK or PortAudio when an audio device "
                    "exists, else silently on the wall clock). Without a display, or with "
                    "--render, it renders a deterministic preview video with the audio "
                    "muxed in, headless (EGL), and says where it wrote it.")
    r.add_argument("audio", nargs="?", type=Path, metavar="AUDIO",
                   help="WAV, FLAC, OGG, MP3 or AIFF file (default: rehearse.file in the show, "
                        "else the bundled piece)")
    r.add_argument("--render", metavar="OUT.mp4",
                   help="render a preview video here instead of opening a window (a folder "
                        "ending in / or a pattern such as f_%%05d.png: one PNG per frame)")
    r.add_argument("--seconds", type=_positive(float), metavar="N",
                   help="only the first N seconds")
    r.add_argument("--size", type=_size, metavar="WxH",
                   help="video size (default: render.width x render.height from the show)")
    r.add_argument("--fps", type=_positive(int), metavar="N",
                   help="video frame rate (default: render.fps)")
    r.add_argument("--scene", metavar="NAME", help="scene to show (default: render.scene)")

    f = sub.add_parser(
        "features", parents=[common], help="print the feature frames of an audio file",
        description="Analyse a file with the same pyo analysis graph the live show uses "
                    "(pyo offline mode, causal) and print its feature frames.")
    f.add_argument("audio", type=Path, metavar="AUDIO", help="WAV, FLAC, OGG, MP3 or AIFF file")
    f.add_argument("--jsonl", action="store_true",
                   help="one JSON object per line and frame: time (s, end of the block), "
                        "block, and every feature (see docs/osc.md for units); without it, "
                        "a short human summary")
    f.add_argument("--seconds", type=_positive(float), metavar="N", help="only the first N s")

    g = sub.add_parser(
        "gaps", parents=[common], help="print the pauses between words in an audio file",
        description="Run the live gap detector over a file (pyo offline mode, causal: only "
                    "past audio, block by block) and print every pause of at least "
                    "analysis.gap_min_s between two words.")
    g.add_argument("audio", type=Path, metavar="AUDIO", help="WAV, FLAC, OGG, MP3 or AIFF file")
    g.add_argument("--json", action="store_true",
                   help='a JSON array [{"start": s, "end": s, "emitted_at": s}, ...] (s from '
                        "the file's start; emitted_at is when the live detector confirmed "
                        "the gap's start); without it, one line per gap")

    s = sub.add_parser("scenes", parents=[common], help="list the scenes and their parameters",
                       description="List the scenes in shaders/ with their parameters.")
    s.add_argument("--json", action="store_true", help="as JSON")

    sub.add_parser("check", parents=[common], help="validate a show file and print it",
                   description="Parse and validate the show file; exit 2 with a message "
                               "naming the key if anything is wrong.")
    return parser


def _load(args: argparse.Namespace) -> ShowConfig:
    path = args.show if args.show is not None else default_show_path()
    return load_show(path)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _progress_bar(enabled: bool, desc: str, unit: str):
    """A ``progress(done, total)`` callable drawing a tqdm bar, and a closer."""
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, leave=False, file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return progress, bar.close


def cmd_gaps(args: argparse.Namespace, show: ShowConfig) -> int:
    from installation.analysis.gaps import gaps_from_frames
    from installation.engine.offline import stream_frames

    gaps: list[dict[str, float]] = []

    def keep(frames) -> None:  # a few thousand frames at a time: a long file fits anywhere
        gaps.extend(gaps_from_frames(frames, show.analysis.gap_min_s))

    progress, close = _progress_bar(not args.quiet and not args.json, "analysing", "block")
    try:
        stream_frames(args.audio, keep, sample_rate=show.audio.sample_rate,
                      block_size=show.audio.block_size, settings=show.analysis,
                      progress=progress)
    finally:
        close()
    if args.json:
        sys.stdout.write(json.dumps(gaps) + "\n")
        return 0
    for g in gaps:
        length_ms = 1000 * (g["end"] - g["start"])
        sys.stdout.write(f"{g['start']:9.3f} – {g['end']:9.3f} s  ({length_ms:.0f} ms, "
                         f"emitted at {g['emitted_at']:.3f} s)\n")
    sys.stdout.write(f"{len(gaps)} gaps\n")
    return 0


def cmd_features(args: argparse.Namespace, show: ShowConfig) -> int:
    from installation.engine.offline import stream_frames

    out = sys.stdout
    summary = _FeatureSummary()

    def take(frames) -> None:  # a few thousand frames at a time: a long file fits anywhere
        if args.jsonl:
            out.write("".join(json.dumps(f.as_dict(), separators=(",", ":")) + "\n"
                              for f in frames))
        else:
            summary.add(frames)

    progress, close = _progress_bar(not args.quiet and not args.jsonl, "analysing", "block")
    try:
        stream_frames(args.audio, take, sample_rate=show.audio.sample_rate,
                      block_size=show.audio.block_size, settings=show.analysis,
                      seconds=args.seconds, progress=progress)
    finally:
        close()
    if args.jsonl:
        return 0
    out.write(f"{args.audio}: {summary.frames} frames, {summary.duration:.2f} s "
              f"({show.audio.sample_rate} Hz, block {show.audio.block_size})\n")
    out.write(f"  level  max {summary.level_max:.1f} dBFS RMS\n")
    out.write(f"  voice  {summary.words} words, "
              f"{100 * summary.voiced / max(1, summary.frames):.0f}% of the time\n")
    out.write(f"  onsets {summary.onsets}\n")
    if summary.pitches:
        pitched = sorted(summary.pitches)
        out.write(f"  pitch  median {pitched[len(pitched) // 2]:.1f} Hz over "
                  f"{len(pitched)} voiced frames\n")
    out.write("Use --jsonl for every frame.\n")
    return 0


class _FeatureSummary:
    """What ``installation features`` prints of a file, gathered a piece at a time."""

    def __init__(self) -> None:
        self.frames = self.words = self.onsets = 0
        self.voiced, self.duration, self.level_max = 0.0, 0.0, -math.inf
        self._voice = None  # the last frame's voice: a word starts where voice rises
        self.pitches = array("d")

    def add(self, frames) -> None:
        for f in frames:
            self.voiced += f.voice
            self.words += bool(self._voice is not None and f.voice and not self._voice)
            self.onsets += int(f.onset)
            self.level_max = max(self.level_max, f.level_rms_db)
            if f.pitch_hz > 0:
                self.pitches.append(f.pitch_hz)
            self._voice = f.voice
        if frames:
            self.frames += len(frames)
            self.duration = frames[-1].time


def cmd_rehearse(args: argparse.Namespace, show: ShowConfig) -> int:
    from installation.engine.sources import file_info

    audio = args.audio if args.audio is not None else rehearsal_file(show)
    file_info(audio)  # fail early with a clear message
    scene = args.scene or show.render.scene
    _check_scene(scene)
    if args.render is None and _has_display():
        return _rehearse_window(args, show, audio, scene)
    out = args.render
    if out is None:
        out = Path(show.rehearse.render_path)
        log.info("no display: rendering a preview video instead of opening a window")
    return _rehearse_render(args, show, audio, scene, out)


def _check_scene(scene: str) -> None:
    from installation.render.scene import list_scenes, shader_dir

    names = list_scenes(shader_dir())
    if scene not in names:
        raise UsageError(f"unknown scene {scene!r}; scenes in {shader_dir()}: "
                         + ", ".join(names))


def _rehearse_render(args: argparse.Namespace, show: ShowConfig, audio: Path, scene: str,
                     out: str | Path) -> int:
    from installation.analysis.spectrum import FileTexture
    from installation.engine.offline import block_count, stream_frames
    from installation.engine.sources import decode_stream
    from installation.render.preview import PreviewWriter

    size = args.size or (show.render.width, show.render.height)
    fps = args.fps or show.render.fps
    sr, block = show.audio.sample_rate, show.audio.block_size
    # The file is analysed and drawn a piece at a time (the video frames are drawn as the
    # analysis reaches them), and u_audio is measured from a second decoding read as the
    # video advances: memory does not grow with the file's length.
    seconds = args.seconds or block_count(audio, sr, block) * block / sr
    log.info("rehearsing %s into %s at %dx%d, %d fps, scene %s", audio, out, size[0],
             size[1], fps, scene)
    with PreviewWriter(out, seconds=seconds, size=size, fps=fps, scene=scene,
                       audio_path=audio, progress=not args.quiet,
                       params=show.scenes.get(scene), flash_guard=show.render.flash_guard,
                       outputs=_calibration(show),
                       audio_rows=FileTexture(decode_stream(audio, sr, seconds=args.seconds),
                                              sr)) as writer:
        stream_frames(audio, writer.feed, sample_rate=sr, block_size=block,
                      settings=show.analysis, seconds=args.seconds)
        result = writer.finish()
    print(f"wrote {Path(result.path).resolve()} ({result.n_frames} frames, {result.seconds:.1f} s)")
    return 0


def _rehearse_window(args: argparse.Namespace, show: ShowConfig, audio: Path,
                     scene: str) -> int:
    import queue

    from installation.engine.live import LiveEngine
    from installation.engine.server import choose_backend
    from installation.osc.transport import (ControlServer, FeatureReceiver, StatusSender,
                                            parse_hostport)
    from installation.render.window import run_window

    backend = choose_backend(show.audio.backend)
    if backend == "silent":
        log.warning("no JACK server and no audio device: playing silently on the wall clock")
    osc = show.osc
    receiver = FeatureReceiver(osc.host, osc.feature_port, osc.prefix)
    commands: queue.Queue = queue.Queue()
    control = ControlServer(commands.put, osc.control_host, osc.control_port, osc.prefix,
                            osc.allow)
    targets = [(osc.host, receiver.port)] + [parse_hostport(t) for t in osc.targets]
    engine = LiveEngine(show, backend, file=audio, targets=targets)
    status = StatusSender([parse_hostport(t) for t in osc.targets], osc.prefix, control.peers)
    size = args.size or (show.render.width, show.render.height)
    log.info("OSC: features to %s, control on port %d", ", ".join(f"{h}:{p}" for h, p in targets),
             control.port)
    try:
        engine.start()
        render = show.render
        common = dict(scene=scene, master=render.master, scene_params=show.scenes,
                      stop=engine.finished, seconds=args.seconds, crossfade_s=render.crossfade_s,
                      param_smoothing_s=render.param_smoothing_s,
                      flash_guard=render.flash_guard, hot_reload=render.hot_reload,
                      vsync=render.vsync, status=status,
                      status_interval_s=render.status_interval_s)
        if show.outputs:   # projectors: one window per output, warped and blended
            from installation.render.outputs import run_outputs
            run_outputs(receiver.take, commands, outputs=show.outputs,
                        audio_source=receiver.audio_rows,
                        calibration=_calibration(show), canvas_size=size, **common)
        else:
            run_window(receiver.take, commands, size=size, fullscreen=render.fullscreen,
                       audio_source=receiver.audio_rows, **common)
    finally:
        engine.stop()
        status.close()
        control.close()
        receiver.close()
    return 0


def _calibration(show: ShowConfig):
    """The outputs' calibration (show.toml + the saved file), or None without outputs."""
    if not show.outputs:
        return None
    from installation.render.calibration import Calibration

    return Calibration.from_show(show)


def cmd_scenes(args: argparse.Namespace, show: ShowConfig) -> int:
    from installation.render.scene import list_scenes, load_scene, shader_dir

    listing = []
    for name in list_scenes(shader_dir()):
        scene = load_scene(name, shader_dir())
        listing.append({"name": name, "description": scene.description,
                        "params": [vars(p) if not hasattr(p, "_asdict") else p._asdict()
                                   for p in scene.params]})
    if args.json:
        print(json.dumps(listing, indent=2, default=str))
        return 0
    for item in listing:
        print(f"{item['name']}: {item['description']}")
        for p in item["params"]:
            print("    " + ", ".join(f"{k}={v}" for k, v in p.items()))
    return 0


def cmd_check(args: argparse.Namespace, show: ShowConfig) -> int:
    import dataclasses

    print(f"{show.path or '(built-in defaults)'}: valid")
    for name in ("audio", "rehearse", "analysis", "osc", "render"):
        section = getattr(show, name)
        for fld in dataclasses.fields(section):
            print(f"  {name}.{fld.name} = {getattr(section, fld.name)!r}")
    for scene, params in show.scenes.items():
        for key, value in params.items():
            print(f"  scenes.{scene}.{key} = {value!r}")
    for i, out in enumerate(show.outputs):
        for fld in dataclasses.fields(out):
            print(f"  outputs[{i}].{fld.name} = {getattr(out, fld.name)!r}")
    return 0


COMMANDS = {"rehearse": cmd_rehearse, "features": cmd_features, "gaps": cmd_gaps,
            "scenes": cmd_scenes,
            "check": cmd_check}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from installation.show.logs import setup_logging

    setup_logging(-1 if args.quiet else args.verbose)
    try:
        show = _load(args)
    except ConfigError as exc:
        print(f"installation: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args, show)
    except UsageError as exc:
        print(f"installation {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `installation features --jsonl F | head`: the reader has gone
        # Python would complain again flushing stdout at exit: point it at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command killed by SIGPIPE
    except Exception as exc:  # the last line of defence: say what failed, no traceback wall
        from installation.engine.sources import SourceError

        if isinstance(exc, SourceError):
            print(f"installation {args.command}: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        log.debug("traceback", exc_info=True)
        print(f"installation {args.command}: failed: {type(exc).__name__}: {exc} "
              "(run with -v for the traceback)", file=sys.stderr)
        return EXIT_RUNTIME
