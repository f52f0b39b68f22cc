"""installation.render.png: the minimal PNG codec (no GL)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from installation.render import png


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (4, 3, 1), (36, 64, 3), (2, 9, 4)])
def test_roundtrip(shape):
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, size=shape, dtype=np.uint8)
    out = png.decode_png(png.encode_png(img))
    assert out.shape == (img.shape if img.ndim == 3 else img.shape + (1,))
    assert np.array_equal(out.reshape(img.shape), img)


def test_file_roundtrip(tmp_path):
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    png.write_png(tmp_path / "x.png", img)
    assert (tmp_path / "x.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert np.array_equal(png.read_png(tmp_path / "x.png"), img)


def _encode_with_filter(img: np.ndarray, ftype: int) -> bytes:
    """A PNG whose rows all use filter ``ftype`` (what other encoders write)."""
    h, w, c = img.shape
    data = img.astype(np.int32).reshape(h, w * c)
    rows = []
    prev = np.zeros(w * c, dtype=np.int32)
    for y in range(h):
        cur = data[y]
        left = np.concatenate([np.zeros(c, np.int32), cur[:-c]])
        upleft = np.concatenate([np.zeros(c, np.int32), prev[:-c]])
        if ftype == 1:
            pred = left
        elif ftype == 2:
            pred = prev
        elif ftype == 3:
            pred = (left + prev) >> 1
        else:
            pa, pb, pc = abs(prev - upleft), abs(left - upleft), abs(left + prev - 2 * upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        rows.append(bytes([ftype]) + ((cur - pred) & 0xFF).astype(np.uint8).tobytes())
        prev = cur
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("ftype", [1, 2, 3, 4])
def test_decodes_every_filter_type(ftype):
    rng = np.random.default_rng(ftype)
    img = rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    assert np.array_equal(png.decode_png(_encode_with_filter(img, ftype)), img)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 2), np.float32), "uint8"),
    (np.zeros((2, 2, 2), np.uint8), "H, W"),
    (np.zeros((0, 2, 3), np.uint8), "non-empty"),
])
def test_encode_rejects_bad_arrays(bad, message):
    with pytest.raises(ValueError, match=message):
        png.encode_png(bad)


def test_decode_rejects_garbage():
    with pytest.raises(ValueError, match="signature"):
        png.decode_png(b"GIF89a")
    good = png.encode_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="truncated"):
        png.decode_png(good[:20])
