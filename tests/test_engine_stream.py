"""Offline analysis streamed: a file of any length is decoded, resampled and heard a piece
at a time (``sources.decode_stream``, ``sources.StreamSource``, ``offline.stream_taps``)."""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np
import pytest
import soundfile as sf

from installation.analysis.frames import FrameBuilder
from installation.engine.offline import analyse_taps, stream_frames, stream_taps
from installation.engine.server import boot_server, shut_down
from installation.engine.sources import SourceError, StreamSource, decode_stream, load_mono
from conftest import sine


def _noise(seconds: float, sr: int, channels: int = 1, seed: int = 3) -> np.ndarray:
    x = 0.2 * np.random.default_rng(seed).standard_normal((int(seconds * sr), channels))
    return x[:, 0] if channels == 1 else x


@pytest.mark.parametrize("file_sr,rate", [(16000, 48000), (44100, 48000), (48000, 48000),
                                          (48000, 8000)])
def test_decoded_pieces_are_the_whole_file_resampled_to_the_bit(tmp_path, file_sr, rate):
    path = tmp_path / "x.wav"
    sf.write(path, _noise(3.3, file_sr, channels=2), file_sr, subtype="FLOAT")
    info = sf.info(str(path))
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    import soxr
    whole = data.mean(axis=1)
    if file_sr != rate:
        whole = soxr.resample(whole, file_sr, rate, quality="HQ")
    pieces = list(decode_stream(path, rate, chunk_s=0.37))
    assert len(pieces) > 5 and info.channels == 2
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


@pytest.mark.parametrize("name,subtype", [("x.flac", "PCM_16"), ("x.ogg", "VORBIS"),
                                          ("x.aiff", "PCM_24"), ("x.mp3", "MPEG_LAYER_III")])
def test_every_supported_format_decodes_in_pieces_as_in_one_read(tmp_path, name, subtype):
    """libsndfile reads every format but MP3 the same in pieces as in one read. Its MP3
    decoder goes wrong after a partial read, so ffmpeg decodes an MP3, in pieces too: the
    same length as libsndfile's whole read and the same samples within 2e-6."""
    path = tmp_path / name
    sf.write(path, sine(330, 3.0, 44100, 0.4) * np.linspace(0, 1, 3 * 44100), 44100,
             subtype=subtype)
    whole, _ = sf.read(str(path), dtype="float32")
    pieces = list(decode_stream(path, 44100, chunk_s=0.25))
    assert len(pieces) >= 12  # a quarter of a second at a time, an MP3 too
    if name.endswith(".mp3"):
        assert len(np.concatenate(pieces)) == len(whole)
        np.testing.assert_allclose(np.concatenate(pieces), whole, atol=2e-6, rtol=0)
    else:
        np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_an_mp3_from_another_encoder_decodes_as_libsndfile_reads_it_whole(tmp_path):
    """ffmpeg's own LAME, stereo, tagged, and without a Xing header (whose length
    libsndfile's header overstates): ffmpeg's pieces hold what libsndfile's whole read holds,
    mixed to mono, and a decoding stopped early ends the decoder."""
    import subprocess

    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    path = tmp_path / "moon.mp3"
    subprocess.run([exe, "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=300:duration=4:sample_rate=48000", "-f", "lavfi", "-i",
                    "sine=frequency=500:duration=4:sample_rate=48000", "-filter_complex",
                    "amerge", "-metadata", "title=The Moon Song", "-c:a", "libmp3lame",
                    "-b:a", "128k", "-write_xing", "0", str(path)], check=True)
    info = sf.info(str(path))
    whole, _ = sf.read(str(path), dtype="float32", always_2d=True)
    assert info.channels == 2 and info.frames > len(whole)  # the header overstates it
    got = np.concatenate(list(decode_stream(path, 48000, chunk_s=0.5)))
    assert len(got) == len(whole)
    np.testing.assert_allclose(got, whole.mean(axis=1), atol=2e-6, rtol=0)
    pieces = decode_stream(path, 48000, chunk_s=0.5)
    next(pieces)
    pieces.close()  # the ffmpeg child is killed and reaped (no zombie, no warning)


def test_a_broken_mp3_is_a_clear_error(tmp_path):
    """One libsndfile cannot open is refused up front; one only ffmpeg is left to decode
    (its reader called on noise) ends in an error that names the file and what ffmpeg
    said."""
    from installation.engine.sources import _mp3_reads

    path = tmp_path / "broken.mp3"
    good = tmp_path / "good.mp3"
    sf.write(good, sine(330, 2.0, 44100, 0.4), 44100, subtype="MPEG_LAYER_III")
    path.write_bytes(good.read_bytes()[:600])  # the header, then nothing
    with pytest.raises(SourceError, match="broken.mp3: cannot read audio"):
        list(decode_stream(path, 44100))
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 5000, np.uint8)))
    with pytest.raises(SourceError, match=r"noise.mp3: cannot decode audio \(ffmpeg: .+\)"):
        list(_mp3_reads(noise, 1, 1000))


def test_decoded_pieces_stop_after_seconds_and_count_bad_samples(tmp_path, caplog):
    x = _noise(4.0, 16000)
    x[[100, 20000, 50000]] = [np.nan, np.inf, -np.inf]
    path = tmp_path / "bad.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    with caplog.at_level(logging.WARNING):
        y = load_mono(path, 16000, seconds=2.0)
    assert len(y) == 2.1 * 16000  # 0.1 s beyond, for the resampler's edge
    assert np.isfinite(y).all() and y[100] == 0.0 and y[20000] == 0.0
    assert "2 samples are not finite" in caplog.text  # the third lies beyond 2.1 s


def test_stream_source_plays_a_stream_many_rings_long_sample_for_sample():
    """Pieces of odd sizes, 2.5 rings of 4096 samples: what pyo plays is the stream, exactly
    (the ring is a power of two long, so the reader steps one sample a sample), then zeros.
    A table recorder keeps what was played (a file would carry the output stage's gain)."""
    import pyo

    sr, block = 48000, 64
    x = (0.5 * np.random.default_rng(5).uniform(-1, 1, 10240)).astype(np.float32)
    cuts = [0, 1, 700, 701, 5000, 9999, len(x)]
    server = boot_server("offline", sample_rate=sr, block_size=block)
    try:
        source = StreamSource((x[a:b] for a, b in zip(cuts, cuts[1:])), block, ring=4096)
        kept = pyo.DataTable(size=len(x) + 20 * block)
        recorder = pyo.TableRec(source.signal, kept).play()
        count = 0

        def on_block() -> None:
            nonlocal count
            source.feed(count)
            count += 1

        server.setCallback(on_block)
        with tempfile.TemporaryDirectory() as folder:
            server.recordOptions(dur=(len(x) + 20 * block) / sr,
                                 filename=os.path.join(folder, "out.wav"))
            server.start()
        played = np.array(kept.getBuffer(), dtype=np.float32)
        del recorder
    finally:
        shut_down(server)
    np.testing.assert_array_equal(played[:len(x)], x)
    assert not played[len(x):].any()


def test_stream_source_wants_a_power_of_two_ring():
    with pytest.raises(ValueError, match="power of two"):
        StreamSource(iter(()), 256, ring=3 * 4096)


def test_rows_come_in_pieces_and_join_to_the_whole(wav):
    """A 12 s file at 48 kHz: rows handed on 300 blocks at a time, in order, join to what
    ``analyse_taps`` returns, and the frames streamed are the whole file's frames."""
    x = np.concatenate([sine(220, 2.0, 48000, 0.3), np.zeros(48000)] * 4)
    path = wav(x, 48000)
    pieces = []
    n = stream_taps(path, lambda rows, rate: pieces.append(rows.copy()), chunk_blocks=300)
    assert n == 2250 and [len(p) for p in pieces] == [300] * 7 + [150]
    whole, rate = analyse_taps(path)
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    frames = []
    stream_frames(path, frames.extend)  # 1024 rows at a time
    assert [f.block for f in frames] == list(range(2250))
    assert frames == FrameBuilder(48000, 256, rate).push_many(whole)


def test_an_error_in_the_sink_is_raised_not_lost(wav):
    """pyo prints an exception raised in its callback and goes on: the analysis keeps it
    and raises it once the server has stopped."""
    path = wav(sine(220, 1.0, 48000), 48000)

    def sink(rows, rate):
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="the disk is full"):
        stream_taps(path, sink, chunk_blocks=16)


def test_an_error_stops_the_analysis_at_once(wav, monkeypatch):
    """An error (or Ctrl-C) in the first rows stops the server there: a long file is not run
    out first. The server's own clock says how much it computed."""
    import installation.engine.offline as offline

    servers = []

    def boot(*args, **kwargs):
        servers.append(offline_boot(*args, **kwargs))
        return servers[-1]

    offline_boot = offline.boot_server
    monkeypatch.setattr(offline, "boot_server", boot)
    path = wav(np.zeros(48000 * 60, np.float32), 48000)

    def sink(rows, rate):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream_taps(path, sink, chunk_blocks=16)
    hours, minutes, seconds, ms = (int(v) for v in servers[0].getCurrentTime().split(":"))
    assert hours == minutes == seconds == 0 and ms < 500  # 16 blocks are 85 ms


def test_offline_analysis_leaves_no_file_behind(wav):
    path = wav(sine(220, 1.0, 48000), 48000)
    before = set(os.listdir(tempfile.gettempdir()))
    analyse_taps(path)
    assert set(os.listdir(tempfile.gettempdir())) - before == set()


def test_samples_decoded_by_the_caller_give_the_same_rows(wav):
    """``samples=`` (a caller that needs the decoded file too) is heard exactly as the file
    decoded piece by piece, over several of its pieces (2**16 samples)."""
    path = wav(np.concatenate([sine(180, 1.5, 16000, 0.3), np.zeros(8000)] * 4), 16000)
    rows, _ = analyse_taps(path)
    same, _ = analyse_taps(path, samples=load_mono(path, 48000))
    np.testing.assert_array_equal(same, rows)


def test_prefetch_hands_on_every_piece_in_order_and_stops_when_asked(caplog):
    """A live file's decoder runs ahead on a thread of its own: every piece, in order,
    then the end; a decoder that breaks halfway ends the pieces with the error logged;
    closed early, the thread stops and the decoder is closed."""
    import threading

    from installation.engine.sources import Prefetch

    pieces = [np.full(10, i, np.float32) for i in range(50)]
    got = list(Prefetch(iter(pieces), 4))
    assert len(got) == 50 and all(np.array_equal(a, b) for a, b in zip(got, pieces))

    def breaks():
        yield pieces[0]
        raise SourceError("x.flac: cannot decode audio (a torn page)")

    with caplog.at_level(logging.ERROR, logger="installation.engine.sources"):
        assert len(list(Prefetch(breaks(), 4))) == 1
    assert [r.getMessage() for r in caplog.records] == \
        ["x.flac: cannot decode audio (a torn page)"]

    closed = threading.Event()

    def endless():
        try:
            while True:
                yield np.zeros(10, np.float32)
        finally:
            closed.set()

    ahead = Prefetch(endless(), 3)
    next(ahead)
    ahead.close()
    assert closed.wait(2) and not ahead._thread.is_alive()
    with pytest.raises(StopIteration):
        next(ahead)
