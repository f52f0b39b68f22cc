"""UDP transport: send feature bundles, receive them, and receive control messages.

Bad input never stops the show: a datagram that cannot be parsed, an unknown address, a
wrong type or an out-of-range value is counted in :class:`Counters`, logged once per kind
(then every 100th time), and dropped. Only these classes touch sockets.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from pythonosc import osc_bundle, osc_message, osc_message_builder, osc_packet
from pythonosc.parsing import osc_types

from installation.features import FeatureFrame
from installation.osc.codec import (CodecError, decode_audio_texture, decode_frame,
                                    encode_audio_texture, encode_frame, is_audio_texture)
from installation.osc.namespace import (BLACKOUT, BLEND, CALIBRATION_RESET, CORNER, CROSSFADE,
                                        IN, IN_BY_PATH, KEYSTONE, MASTER, PARAM, REGION,
                                        RELOAD, SCENE, STATUS)

log = logging.getLogger(__name__)


def parse_hostport(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


@dataclass
class Counters:
    """What a receiver has seen; read by logs and health reports."""

    received: int = 0
    malformed: int = 0
    rejected: int = 0
    last_error: str = ""
    _seen: dict = field(default_factory=dict)

    def error(self, kind: str, message: str, *, malformed: bool) -> None:
        if malformed:
            self.malformed += 1
        else:
            self.rejected += 1
        self.last_error = message
        n = self._seen.get(kind, 0) + 1
        self._seen[kind] = n
        if n == 1 or n % 100 == 0:
            log.warning("%s (seen %d time%s)", message, n, "" if n == 1 else "s")


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.settimeout(0.1)
    return sock


class _UdpSender:
    """One UDP socket that sends datagrams to a list of targets, counting what fails.

    An unplugged network or an unreachable target must not stop the show: a failure is
    counted in ``failed`` and logged the first time and every 1000th time after."""

    def __init__(self, targets: Iterable[tuple[str, int]], prefix: str = "/her") -> None:
        self.targets = list(targets)
        self.prefix = prefix
        self.sent = 0    # datagrams delivered to the network stack
        self.failed = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def _send_all(self, data: bytes, targets: Iterable[tuple[str, int]]) -> None:
        for target in targets:
            try:
                self._sock.sendto(data, target)
                self.sent += 1
            except OSError as exc:
                self.failed += 1
                if self.failed == 1 or self.failed % 1000 == 0:
                    log.warning("OSC send to %s:%d failed: %s", *target, exc)

    def close(self) -> None:
        self._sock.close()


class FeatureSender(_UdpSender):
    """Sends each frame as one bundle to every target ``(host, port)``."""

    def send(self, frame: FeatureFrame, timetag: float = 0.0) -> None:
        self._send_all(encode_frame(frame, self.prefix, timetag), self.targets)

    def send_audio_texture(self, spectrum: bytes, waveform: bytes) -> None:
        """Send one ``/audio/texture`` message (512 + 512 bytes) to every target."""
        self._send_all(encode_audio_texture(spectrum, waveform, self.prefix), self.targets)


class _ReceiverThread:
    """A daemon thread reading datagrams from one UDP port until :meth:`close`."""

    def __init__(self, host: str, port: int, name: str) -> None:
        self.counters = Counters()
        self._sock = _bind(host, port)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            self.counters.received += 1
            self.handle(data, peer)

    def handle(self, data: bytes, peer: tuple[str, int]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


class FeatureReceiver(_ReceiverThread):
    """Keeps the feature frames received on ``port`` (0 picks a free port).

    :meth:`latest` is the newest frame; :meth:`take` the frames since the last call (so a
    renderer running at 60 fps sees every onset of a 190 blocks/s stream).
    :meth:`audio_rows` is the newest ``/audio/texture`` (the measured ``u_audio`` rows) or
    None; malformed texture messages are counted like malformed bundles.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, prefix: str = "/her",
                 backlog: int = 2048) -> None:
        self.prefix = prefix
        self._pending: deque[FeatureFrame] = deque(maxlen=backlog)
        self._latest: FeatureFrame | None = None
        self._latest_at = 0.0
        self._frames = 0
        self._audio: tuple[bytes, bytes] | None = None
        self.audio_textures = 0
        self._cond = threading.Condition()
        super().__init__(host, port, "osc-features")

    def handle(self, data: bytes, peer: tuple[str, int]) -> None:
        if is_audio_texture(data, self.prefix):
            self._handle_audio(data, peer)
            return
        try:
            frame, _ = decode_frame(data, self.prefix)
        except CodecError as exc:
            self.counters.error(f"features:{exc}", f"feature port: dropped datagram from "
                                f"{peer[0]}:{peer[1]}: {exc}", malformed=True)
            return
        with self._cond:
            self._pending.append(frame)
            self._latest, self._latest_at = frame, time.monotonic()
            self._frames += 1
            self._cond.notify_all()

    def _handle_audio(self, data: bytes, peer: tuple[str, int]) -> None:
        try:
            rows = decode_audio_texture(data, self.prefix)
        except CodecError as exc:
            self.counters.error(f"audio:{exc}", f"feature port: dropped audio texture from "
                                f"{peer[0]}:{peer[1]}: {exc}", malformed=True)
            return
        with self._cond:
            self._audio = rows      # one tuple store: readers see old or new, never half
            self.audio_textures += 1
            self._cond.notify_all()

    def audio_rows(self):
        """The newest measured audio texture as (2, 512) float32 rows (``byte / 255``),
        or None before the first ``/audio/texture``."""
        from installation.analysis.spectrum import from_bytes

        latest = self._audio
        return None if latest is None else from_bytes(*latest)

    def wait_audio(self, count: int, timeout: float) -> bool:
        """Block until ``count`` audio textures have arrived in total, or ``timeout`` s."""
        with self._cond:
            return self._cond.wait_for(lambda: self.audio_textures >= count, timeout)

    def latest(self) -> FeatureFrame | None:
        return self._latest

    def take(self) -> list[FeatureFrame]:
        """The frames received since the last call, oldest first."""
        with self._cond:
            frames = list(self._pending)
            self._pending.clear()
        return frames

    def age(self) -> float:
        """Seconds since the latest frame arrived (inf before the first)."""
        return time.monotonic() - self._latest_at if self._latest else float("inf")

    def wait_frames(self, count: int, timeout: float) -> bool:
        """Block until ``count`` frames have arrived in total, or ``timeout`` s pass."""
        with self._cond:
            return self._cond.wait_for(lambda: self._frames >= count, timeout)


Command = tuple[str, object]


class ControlServer(_ReceiverThread):
    """Validates control messages and hands ``(name, value)`` commands to ``on_command``.

    Commands: ``("scene", str)``, ``("master", float)``, ``("blackout", bool)``,
    ``("crossfade", s)``, ``("param", scene, name, value)`` (value a float or a tuple for
    color/point2D), ``("reload",)``, ``("keystone", n, (8 floats))``,
    ``("corner", n, k, x, y)``, ``("blend", n, side, width, gamma, curve)``,
    ``("region", n, (x0, y0, x1, y1))``, ``("calibration_reset", n)``.
    ``allow`` lists networks allowed to send; empty allows everyone. :attr:`peers` holds
    the last few senders, so status replies reach the controllers in use.
    """

    def __init__(self, on_command: Callable[[Command], None], host: str = "0.0.0.0",
                 port: int = 0, prefix: str = "/her", allow: Iterable[str] = ()) -> None:
        self.prefix = prefix
        self.on_command = on_command
        self.allow = [ipaddress.ip_network(a, strict=False) for a in allow]
        self.peers: deque[tuple[str, int]] = deque(maxlen=4)
        super().__init__(host, port, "osc-control")

    def handle(self, data: bytes, peer: tuple[str, int]) -> None:
        if self.allow and not any(ipaddress.ip_address(peer[0]) in net for net in self.allow):
            self.counters.error(f"deny:{peer[0]}", f"control port: {peer[0]} is not in "
                                "osc.allow; message ignored", malformed=False)
            return
        try:
            messages = [m.message for m in osc_packet.OscPacket(data).messages]
        except (osc_packet.ParseError, osc_bundle.ParseError, osc_message.ParseError,
                osc_types.ParseError, IndexError, ValueError) as exc:
            self.counters.error("parse", f"control port: malformed OSC from {peer[0]}:"
                                f"{peer[1]} ({exc or type(exc).__name__})", malformed=True)
            return
        if peer not in self.peers:
            self.peers.append(peer)
        for message in messages:
            command = self.validate(message.address, list(message.params))
            if command is not None:
                self.on_command(command)

    def validate(self, address: str, params: list) -> Command | None:
        """A command, or None after counting and logging what was wrong."""
        if not address.startswith(self.prefix + "/"):
            return self._reject(address, f"unknown address {address} (expected {self.prefix}/…)")
        spec = IN_BY_PATH.get(address[len(self.prefix):])
        if spec is None:
            return self._validate_pattern(address, params)
        if len(params) != 1:
            return self._reject(address, f"{address}: expected 1 argument ({spec.types}), "
                                f"got {len(params)}")
        value = params[0]
        if spec is SCENE:
            if not isinstance(value, str) or not value:
                return self._reject(address, f"{address}: expected a scene name, got {value!r}")
            return ("scene", value)
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)):
            return self._reject(address, f"{address}: expected a number, got {value!r}")
        if not spec.lo <= value <= spec.hi:
            return self._reject(address, f"{address}: expected {spec.lo:g} … {spec.hi:g}, "
                                f"got {value!r}")
        if spec is MASTER:
            return ("master", float(value))
        if spec is CROSSFADE:
            return ("crossfade", float(value))
        if spec is RELOAD:
            return ("reload",) if value >= 0.5 else None
        if spec is CALIBRATION_RESET:
            return ("calibration_reset", int(value))
        assert spec is BLACKOUT
        return ("blackout", value >= 0.5)

    def _validate_pattern(self, address: str, params: list) -> Command | None:
        """Addresses with parts in them: /param/<scene>/<name>, /output/<n>/..."""
        parts = address[len(self.prefix):].split("/")[1:]
        numbers = [float(v) if isinstance(v, (bool, int, float)) else None for v in params]
        if any(v is None for v in numbers):
            return self._reject(address, f"{address}: expected numbers, got {params!r}")
        if len(parts) == 3 and parts[0] == "param":
            scene, name = parts[1], parts[2]
            if not name.isidentifier() or not scene or not 1 <= len(numbers) <= 4:
                return self._reject(address, f"{address}: expected {self.prefix}{PARAM.path} "
                                    "with 1 to 4 numbers")
            value = numbers[0] if len(numbers) == 1 else tuple(numbers)
            return ("param", scene, name, value)
        if len(parts) >= 3 and parts[0] == "output" and parts[1].isdigit():
            n = int(parts[1])
            kind = "/".join(["", *parts[2:]])

            def need(spec, count: int) -> bool:
                if len(numbers) != count:
                    self._reject(address, f"{address}: expected {count} numbers "
                                 f"({spec.types}), got {len(numbers)}")
                    return False
                if not all(spec.lo <= v <= spec.hi for v in numbers):
                    self._reject(address, f"{address}: expected values from {spec.lo:g} to "
                                 f"{spec.hi:g}, got {numbers}")
                    return False
                return True

            if kind == "/keystone":
                return ("keystone", n, tuple(numbers)) if need(KEYSTONE, 8) else None
            if kind == "/region":
                if not need(REGION, 4):
                    return None
                x0, y0, x1, y1 = numbers
                if not (x1 > x0 and y1 > y0):
                    return self._reject(address, f"{address}: expected x0 < x1 and y0 < y1")
                return ("region", n, tuple(numbers))
            if len(parts) == 4 and parts[2] == "corner" and parts[3] in ("0", "1", "2", "3"):
                return ("corner", n, int(parts[3]), *numbers) if need(CORNER, 2) else None
            if len(parts) == 4 and parts[2] == "blend" and parts[3] in (
                    "left", "right", "top", "bottom"):
                if not need(BLEND, 3):
                    return None
                width, gamma, curve = numbers
                if not (width <= 0.5 and 0.5 <= gamma <= 4.0 and curve <= 1.0):
                    return self._reject(address, f"{address}: expected width 0..0.5, gamma "
                                        f"0.5..4, curve 0..1, got {numbers}")
                return ("blend", n, parts[3], width, gamma, curve)
        known = ", ".join(self.prefix + a.path for a in IN)
        return self._reject(address, f"unknown address {address} (known: {known})")

    def _reject(self, address: str, message: str) -> None:
        self.counters.error(f"bad:{address}", "control port: " + message, malformed=False)
        return None


class StatusSender(_UdpSender):
    """Sends renderer status messages (``/status/...``, see ``namespace.STATUS``) to fixed
    targets and to the recent senders of control messages (``peers``, e.g.
    :attr:`ControlServer.peers`), so TouchOSC or QLab see shader errors and frame pacing.
    Callable as ``status(path, *args)``; never raises (a status is not worth a show)."""

    def __init__(self, targets: Iterable[tuple[str, int]], prefix: str = "/her",
                 peers: Iterable[tuple[str, int]] = ()) -> None:
        super().__init__(targets, prefix)
        self.peers = peers
        self._types = {a.path: a.types for a in STATUS}

    def __call__(self, path: str, *args) -> None:
        types = self._types.get(path)
        if types is None or len(types) != len(args):
            log.warning("status %s%s: not in the namespace with these arguments", self.prefix,
                        path)
            return
        builder = osc_message_builder.OscMessageBuilder(address=self.prefix + path)
        for tag, value in zip(types, args):
            value = {"i": int, "f": float, "s": str}[tag](value)
            builder.add_arg(value[:1000] if tag == "s" else value, arg_type=tag)
        self._send_all(builder.build().dgram, {*self.targets, *list(self.peers)})
