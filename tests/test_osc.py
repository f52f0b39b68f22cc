"""OSC over real loopback sockets, with liblo's oscdump/oscsend as a non-Python peer."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
from pythonosc import udp_client

from installation.features import FEATURE_NAMES, SPEC_BY_NAME, FeatureFrame
from installation.osc.codec import CodecError, decode_frame, encode_frame
from installation.osc.namespace import IN, OUT, markdown
from installation.osc.transport import ControlServer, FeatureReceiver, FeatureSender

FRAME = FeatureFrame(12.345678901, 2315, -23.5, -11.25, -30.0, -26.5, -41.0, 7.5, 1.0, 220.5,
                     0.875, 1830.0, 1.0, 0.0)


def f32(x: float) -> float:
    return float(np.float32(x))


def as_wire(frame: FeatureFrame) -> FeatureFrame:
    """What survives the wire: features are 32-bit floats, times from the stream's start
    (the frame's, a gap's start and emit times) 64-bit doubles."""
    return FeatureFrame.from_values(frame.time, frame.block, (
        v if SPEC_BY_NAME[n].kind == "time" else f32(v)
        for n, v in zip(FEATURE_NAMES, frame.values())))


WEEKS = 3 * 7 * 86400.0 + 0.123456789  # three weeks into a show
LATE = FeatureFrame.from_values(WEEKS, 340_200_023, (
    {"gap_start_time": WEEKS - 0.3127, "gap_emit_time": WEEKS - 0.2503,
     "gap_s": 0.3127}.get(n, 0.0) for n in FEATURE_NAMES))


def test_times_from_the_stream_start_stay_exact_after_weeks():
    """A 32-bit float's step is 125 ms at three weeks: emit - start (the detector's
    delay, ~60 ms) would read 0 or 125 ms. Sent as doubles, they arrive exact."""
    frame, _ = decode_frame(encode_frame(LATE))
    assert frame == as_wire(LATE)
    assert frame.gap_start_time == LATE.gap_start_time
    assert frame.gap_emit_time - frame.gap_start_time == pytest.approx(0.0624, abs=1e-9)
    assert abs(f32(LATE.gap_emit_time) - f32(LATE.gap_start_time) - 0.0624) > 0.05


def test_the_block_index_wraps_where_an_osc_int32_ends():
    """At 48 kHz and 64 samples per block a show passes 2**31 blocks on its 34th day; the
    int32 the block index goes out as could not carry it, and the publisher stopped."""
    frame = FeatureFrame.from_values(WEEKS * 2, 2 ** 31 + 5, LATE.values())
    decoded, _ = decode_frame(encode_frame(frame))
    assert decoded.block == 5
    assert decoded.time == frame.time


def test_codec_round_trip_keeps_every_value_and_the_timetag():
    frame, timetag = decode_frame(encode_frame(FRAME, "/her", 1_780_000_000.25))
    assert frame == as_wire(FRAME)
    assert frame.time == FRAME.time  # exact: sent as a double
    assert timetag == pytest.approx(1_780_000_000.25, abs=1e-6)


@pytest.mark.parametrize("data, message", [
    (b"", "not an OSC bundle"),
    (b"#bundle\x00garbage", "malformed"),
    (encode_frame(FRAME, "/other"), "unknown address"),
])
def test_codec_rejects_what_is_not_a_frame(data, message):
    with pytest.raises(CodecError, match=message):
        decode_frame(data)


def test_frame_survives_udp_loopback_unchanged():
    receiver = FeatureReceiver("127.0.0.1", 0)
    sender = FeatureSender([("127.0.0.1", receiver.port)])
    try:
        sender.send(FRAME, time.time())
        assert receiver.wait_frames(1, timeout=5)
        assert receiver.latest() == as_wire(FRAME)
        # Garbage on the same port is counted, never fatal; the next frame still arrives.
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw.sendto(b"\x00\x01not osc", ("127.0.0.1", receiver.port))
        raw.close()
        sender.send(FeatureFrame(13.0, 2316), 0)
        assert receiver.wait_frames(2, timeout=5)
        assert receiver.latest().block == 2316
        assert [f.block for f in receiver.take()] == [2315, 2316] and receiver.take() == []
        assert receiver.counters.malformed == 1
    finally:
        sender.close()
        receiver.close()


def test_namespace_every_feature_once_and_docs_current():
    carried = [a.feature for a in OUT if a.feature]
    assert carried == list(FEATURE_NAMES)
    paths = [a.path for a in OUT + IN]
    assert len(paths) == len(set(paths))
    from pathlib import Path
    docs = (Path(__file__).resolve().parents[1] / "docs" / "osc.md").read_text()
    assert markdown() in docs, "docs/osc.md is stale: run python -m installation.docs"


@pytest.fixture
def control():
    commands: queue.Queue = queue.Queue()
    server = ControlServer(commands.put, "127.0.0.1", 0, "/her")
    yield server, commands
    server.close()


def _get(commands: queue.Queue):
    return commands.get(timeout=5)


def test_control_commands_from_python_osc(control):
    server, commands = control
    client = udp_client.SimpleUDPClient("127.0.0.1", server.port)
    client.send_message("/her/scene", "os1")
    client.send_message("/her/master", 0.25)
    client.send_message("/her/blackout", 1)
    client.send_message("/her/blackout", 0.0)
    assert [_get(commands) for _ in range(4)] == [
        ("scene", "os1"), ("master", 0.25), ("blackout", True), ("blackout", False)]


def test_bad_control_is_counted_and_the_show_goes_on(control):
    server, commands = control
    client = udp_client.SimpleUDPClient("127.0.0.1", server.port)
    client.send_message("/her/master", 7.0)         # out of range
    client.send_message("/her/master", "loud")      # wrong type
    client.send_message("/her/nope", 1)             # unknown address
    client.send_message("/her/scene", [])           # no argument
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.sendto(b"/her/master\x00\x00\x00\x00,f\x00", ("127.0.0.1", server.port))  # truncated
    raw.close()
    client.send_message("/her/master", 0.5)         # still listening
    assert _get(commands) == ("master", 0.5)
    assert server.counters.rejected == 4
    assert server.counters.malformed == 1
    assert commands.empty()


def test_allowlist_ignores_other_senders():
    commands: queue.Queue = queue.Queue()
    server = ControlServer(commands.put, "127.0.0.1", 0, "/her", allow=["10.0.0.0/8"])
    try:
        udp_client.SimpleUDPClient("127.0.0.1", server.port).send_message("/her/master", 0.1)
        deadline = time.monotonic() + 5
        while server.counters.rejected == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.counters.rejected == 1 and commands.empty()
    finally:
        server.close()


liblo = pytest.mark.skipif(shutil.which("oscdump") is None or shutil.which("oscsend") is None,
                           reason="liblo-tools is not installed (./setup.sh installs it)")


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@liblo
def test_oscdump_receives_the_feature_bundle():
    port = _free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sender = FeatureSender([("127.0.0.1", port)])
    try:
        lines: list[str] = []
        # oscdump prints nothing until it is listening, so keep sending until it answers.
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(dump.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        while len(lines) < 2 * len(OUT) and time.monotonic() < deadline:
            sender.send(FRAME, time.time())
            if sel.select(timeout=0.2):
                lines.append(dump.stdout.readline().strip())
        text = "\n".join(lines)
        assert "/her/frame dh" in text or "/her/frame di" in text, text
        assert "/her/pitch/hz f 220.5" in text, text
        assert "/her/voice/active i 1" in text, text
        assert "/her/level/rms f -23.5" in text, text
        assert "/her/gap/start_time d " in text, text  # a double, as the table says
    finally:
        sender.close()
        dump.terminate()
        dump.wait(timeout=5)


@liblo
def test_oscsend_switches_the_scene_and_sets_master(control):
    server, commands = control
    subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/scene", "s", "os1"],
                   check=True, timeout=10)
    assert _get(commands) == ("scene", "os1")
    subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/master", "f", "0.5"],
                   check=True, timeout=10)
    assert _get(commands) == ("master", 0.5)
    subprocess.run(["oscsend", "127.0.0.1", str(server.port), "/her/blackout", "T"],
                   check=True, timeout=10)
    assert _get(commands) == ("blackout", True)
