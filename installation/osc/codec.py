"""Feature frame ↔ OSC bundle bytes, audio texture ↔ OSC message bytes. Pure: no sockets."""

from __future__ import annotations

from pythonosc import osc_bundle, osc_bundle_builder, osc_message, osc_message_builder
from pythonosc.parsing import osc_types

from installation.features import FEATURE_NAMES, FeatureFrame
from installation.osc.namespace import AUDIO_TEXTURE, FRAME, OUT


class CodecError(ValueError):
    """A datagram that is not a valid feature bundle; the message says what is wrong."""


def _message(address: str, types: str, values: tuple) -> osc_message.OscMessage:
    builder = osc_message_builder.OscMessageBuilder(address=address)
    for tag, value in zip(types, values):
        builder.add_arg(int(value) if tag == "i" else float(value), arg_type=tag)
    return builder.build()


# The block index goes out as an OSC int32, which a long show outgrows (2**31 blocks are 132
# days at 48 kHz and 256 samples per block, 33 days at 64, 8 at 192 kHz and 64): it wraps
# to 0 there, as a packet sequence number does; the frame time (a double) stays whole.
BLOCK_WRAP = 2 ** 31


def encode_frame(frame: FeatureFrame, prefix: str = "/her", timetag: float = 0.0) -> bytes:
    """One bundle: ``/frame`` then every feature. ``timetag`` is Unix time in seconds
    (0 = immediately)."""
    bundle = osc_bundle_builder.OscBundleBuilder(
        timetag or osc_bundle_builder.IMMEDIATELY)
    bundle.add_content(_message(prefix + FRAME.path, FRAME.types,
                                (frame.time, frame.block % BLOCK_WRAP)))
    for address, value in zip(OUT[1:], frame.values()):
        bundle.add_content(_message(prefix + address.path, address.types, (value,)))
    return bundle.build().dgram


def decode_frame(dgram: bytes, prefix: str = "/her") -> tuple[FeatureFrame, float]:
    """Parse a feature bundle back into ``(frame, timetag)``. Raises :class:`CodecError`."""
    if not osc_bundle.OscBundle.dgram_is_bundle(dgram):
        raise CodecError("not an OSC bundle")
    try:
        bundle = osc_bundle.OscBundle(dgram)
    except (osc_bundle.ParseError, osc_message.ParseError, osc_types.ParseError) as exc:
        raise CodecError(f"malformed bundle: {exc}") from None
    values: dict[str, float] = {}
    head = None
    by_address = {prefix + a.path: a for a in OUT}
    for item in bundle:
        if not isinstance(item, osc_message.OscMessage):
            raise CodecError("nested bundles are not feature frames")
        address = by_address.get(item.address)
        if address is None:
            raise CodecError(f"unknown address {item.address}")
        params = item.params
        if len(params) != len(address.types):
            raise CodecError(f"{item.address}: expected {len(address.types)} argument(s)")
        if address is FRAME:
            head = (float(params[0]), int(params[1]))
        else:
            values[address.feature] = float(params[0])
    if head is None:
        raise CodecError(f"bundle has no {prefix}{FRAME.path} message")
    missing = [n for n in FEATURE_NAMES if n not in values]
    if missing:
        raise CodecError("bundle lacks " + ", ".join(missing))
    frame = FeatureFrame.from_values(head[0], head[1], (values[n] for n in FEATURE_NAMES))
    return frame, bundle.timestamp


TEXTURE_BYTES = 512   # uint8 per row of the audio texture


def encode_audio_texture(spectrum: bytes, waveform: bytes, prefix: str = "/her") -> bytes:
    """One ``/audio/texture`` message with two blobs of 512 uint8 (spectrum, waveform;
    see :mod:`installation.analysis.spectrum` ``to_bytes``). Raises ``ValueError`` on a
    wrong length."""
    if len(spectrum) != TEXTURE_BYTES or len(waveform) != TEXTURE_BYTES:
        raise ValueError(f"audio texture rows must be {TEXTURE_BYTES} bytes each")
    builder = osc_message_builder.OscMessageBuilder(address=prefix + AUDIO_TEXTURE.path)
    builder.add_arg(bytes(spectrum), arg_type="b")
    builder.add_arg(bytes(waveform), arg_type="b")
    return builder.build().dgram


def is_audio_texture(dgram: bytes, prefix: str = "/her") -> bool:
    """Whether ``dgram`` is addressed to ``/audio/texture`` (cheap: looks at the address)."""
    address = (prefix + AUDIO_TEXTURE.path).encode()
    return dgram.startswith(address + b"\0")


def decode_audio_texture(dgram: bytes, prefix: str = "/her") -> tuple[bytes, bytes]:
    """``(spectrum, waveform)``, 512 bytes each, from an ``/audio/texture`` message.
    Raises :class:`CodecError`."""
    try:
        message = osc_message.OscMessage(dgram)
    except (osc_message.ParseError, osc_types.ParseError, IndexError, ValueError) as exc:
        raise CodecError(f"malformed audio texture message: {exc}") from None
    if message.address != prefix + AUDIO_TEXTURE.path:
        raise CodecError(f"unknown address {message.address}")
    params = message.params
    if (len(params) != 2 or not all(isinstance(p, bytes) for p in params)
            or any(len(p) != TEXTURE_BYTES for p in params)):
        raise CodecError(f"{message.address}: expected two blobs of {TEXTURE_BYTES} bytes")
    return params[0], params[1]
