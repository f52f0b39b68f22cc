"""Booting a pyo server safely on any machine.

pyo's PortAudio backend segfaults when no audio device exists, so PortAudio is only tried
when PortAudio itself reports a device, and JACK only when a JACK server answers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from pathlib import Path

import pyo  # imported quietly by the package (__init__)

log = logging.getLogger(__name__)


class EngineError(RuntimeError):
    """The audio engine could not start; the message says why and what to do."""


# jack_client_open's option that keeps it from starting a server of its own
JACK_NO_START_SERVER = 0x01
# libjack keeps the error and info functions it is given for the life of the process, so
# this one lives as long as the module.
_QUIET = ctypes.CFUNCTYPE(None, ctypes.c_char_p)(lambda msg: None)


def jack_running() -> bool:
    """True when a JACK server answers: a client is opened on it through the system's
    libjack and closed again. (Not ``jack_wait``: since JACK 1.9.22, Debian 13 ships it in
    another package, jack-example-tools.) False when libjack is not installed."""
    name = ctypes.util.find_library("jack")
    if name is None:
        return False
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return False
    # A missing server is the expected answer here, not an error to print.
    lib.jack_set_error_function(_QUIET)
    lib.jack_set_info_function(_QUIET)
    lib.jack_client_open.restype = ctypes.c_void_p
    lib.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    client = lib.jack_client_open(b"her-probe", JACK_NO_START_SERVER, ctypes.byref(status))
    if not client:
        return False
    lib.jack_client_close(client)
    return True


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


def _nothing() -> None:
    """A process callback that holds nothing (see :func:`shut_down`)."""


def shut_down(server: pyo.Server) -> None:
    """Shut ``server`` down so that it can be freed. pyo keeps a server's process callback
    in C, where Python's garbage collector does not look: a callback that leads back to the
    server (a closure over the graph, a bound method of the engine) makes a cycle that is
    never collected, and the server, its graph and its tables stay for the life of the
    process. pyo allows 256 servers in a process, so the 256th file analysed in one process
    failed to boot. The callback is replaced by one that holds nothing first."""
    server.setCallback(_nothing)
    server.shutdown()


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
