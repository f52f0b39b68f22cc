"""Where the engine's sound comes from: a file player or a live input, always mono."""

from __future__ import annotations

from pathlib import Path

import pyo
import soundfile as sf

SUPPORTED = (".wav", ".flac", ".ogg", ".aif", ".aiff")


class SourceError(ValueError):
    """The audio file cannot be used; the message names it and why."""


def file_info(path: Path) -> sf._SoundFileInfo:
    """Check an audio file up front (exists, known format, readable)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such audio file")
    if path.suffix.lower() not in SUPPORTED:
        raise SourceError(f"{path}: expected one of {', '.join(SUPPORTED)} files")
    try:
        info = sf.info(str(path))
    except RuntimeError as exc:
        raise SourceError(f"{path}: cannot read audio ({exc})") from None
    if info.frames == 0:
        raise SourceError(f"{path}: the file holds no audio")
    return info


class FileSource:
    """Plays a file once, mixed to mono. ``signal`` is what the graph listens to."""

    def __init__(self, path: Path, *, monitor: bool = False) -> None:
        self.info = file_info(path)
        self.player = pyo.SfPlayer(str(path), loop=False)  # resamples to the server rate
        mono = self.player if self.info.channels == 1 else pyo.Mix(self.player, voices=1,
                                                                   mul=1.0 / self.info.channels)
        self.signal = mono
        self._monitor = pyo.Mix(mono, voices=2).out() if monitor else None

    @property
    def duration(self) -> float:
        return self.info.frames / self.info.samplerate


class InputSource:
    """A live input channel (0-based)."""

    def __init__(self, channel: int = 0) -> None:
        self.signal = pyo.Input(chnl=channel)
