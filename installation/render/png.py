"""Minimal PNG reading and writing with zlib + struct (8-bit grey, RGB, RGBA).

Enough for preview stills, PNG sequences and golden test images, without an imaging
library. Writing uses filter type 0 (none); reading handles all five filter types of
non-interlaced 8-bit images, so files from other tools load too.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}   # channels -> PNG colour type
_CHANNELS = {0: 1, 2: 3, 6: 4}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image: np.ndarray, *, level: int = 6) -> bytes:
    """PNG bytes of a uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), top row first."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"PNG image must be uint8, got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _COLOR_TYPES or 0 in img.shape[:2]:
        raise ValueError(f"PNG image must be (H, W[, 1|3|4]) and non-empty, got {image.shape}")
    h, w, c = img.shape
    raw = np.zeros((h, 1 + w * c), dtype=np.uint8)  # each row: filter byte 0, then pixels
    raw[:, 1:] = img.reshape(h, w * c)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPES[c], 0, 0, 0)
    return (_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + _chunk(b"IEND", b""))


def write_png(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write ``image`` (see :func:`encode_png`) to ``path``."""
    with open(path, "wb") as fh:
        fh.write(encode_png(image))


def decode_png(data: bytes) -> np.ndarray:
    """uint8 array (H, W, C) of an 8-bit, non-interlaced grey/RGB/RGBA PNG."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file (bad signature)")
    pos, idat, header = len(_SIGNATURE), [], None
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated PNG chunk")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError(f"truncated PNG chunk {kind!r}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("PNG has no IHDR chunk")
    w, h, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in _CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {ctype}, "
                         f"interlace {interlace} (need 8-bit grey/RGB/RGBA, no interlace)")
    c = _CHANNELS[ctype]
    stride = w * c
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    if raw.size != h * (stride + 1):
        raise ValueError("PNG pixel data has the wrong size")
    rows = raw.reshape(h, stride + 1)
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        ftype, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        else:  # Sub, Average, Paeth depend on the pixel to the left: go pixel by pixel
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - c] if x >= c else 0
                b = prev[x]
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) >> 1
                elif ftype == 4:
                    cc = prev[x - c] if x >= c else 0
                    pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2 * cc)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
                else:
                    raise ValueError(f"bad PNG filter type {ftype} in row {y}")
                cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.reshape(h, w, c)


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG file (see :func:`decode_png`)."""
    with open(path, "rb") as fh:
        return decode_png(fh.read())
