"""Booting a pyo server safely on any machine.

pyo's PortAudio backend segfaults when no audio device exists, so PortAudio is only tried
when PortAudio itself reports a device, and JACK only when a JACK server answers.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pyo  # imported quietly by the package (__init__)

log = logging.getLogger(__name__)


class EngineError(RuntimeError):
    """The audio engine could not start; the message says why and what to do."""


def jack_running() -> bool:
    """True when a JACK server answers (``jack_wait -c``)."""
    tool = shutil.which("jack_wait")
    if tool is None:
        return False
    try:
        res = subprocess.run([tool, "-c"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "running" in res.stdout and "not" not in res.stdout


def _linux_has_no_sound_card() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    cards = Path("/proc/asound/cards")
    try:
        return not cards.exists() or "no soundcards" in cards.read_text()
    except OSError:
        return False


def portaudio_has_devices() -> bool:
    """True when PortAudio lists at least one output device."""
    if _linux_has_no_sound_card():
        return False  # probing would only fill the log with ALSA errors
    try:
        return pyo.pa_count_devices() > 0 and pyo.pa_get_default_output() >= 0
    except Exception:  # pyo raises plain exceptions from its C layer
        return False


def choose_backend(preference: str) -> str:
    """Resolve ``auto`` to ``jack``, ``portaudio`` or ``silent`` for this machine."""
    if preference != "auto":
        return preference
    if jack_running():
        return "jack"
    if portaudio_has_devices():
        return "portaudio"
    return "silent"


def boot_server(backend: str, *, sample_rate: int, block_size: int, nchnls: int = 1,
                duplex: bool = False, jack_client: str = "her") -> pyo.Server:
    """Boot a server. ``backend``: offline, manual, silent (= manual), jack or portaudio."""
    audio = {"silent": "manual"}.get(backend, backend)
    if audio == "jack" and not jack_running():
        raise EngineError("audio.backend is 'jack' but no JACK server is running "
                          "(start one, e.g. `jackd -d dummy -r 48000 -p 256`)")
    if audio == "portaudio" and not portaudio_has_devices():
        raise EngineError("audio.backend is 'portaudio' but PortAudio sees no audio device")
    server = pyo.Server(sr=sample_rate, nchnls=nchnls, buffersize=block_size,
                        duplex=1 if duplex else 0, audio=audio, jackname=jack_client,
                        verbosity=1)
    server.deactivateMidi()
    server.boot()
    if not server.getIsBooted():
        raise EngineError(f"pyo could not boot its {backend} audio backend")
    if audio == "jack":
        # JACK dictates the rate; frames carry the real one.
        log.info("JACK server: %d Hz, block %d", server.getSamplingRate(), server.getBufferSize())
    return server
