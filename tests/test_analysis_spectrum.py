"""The measured Shadertoy audio texture (WebAudio AnalyserNode semantics), its OSC
message, the live engine's tap and the preview's use of it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from installation.analysis.spectrum import (FFT_SIZE, N, SMOOTHING, AudioTexture,
                                            FileTexture, SampleWindow, blackman, from_bytes,
                                            texture_rows_at, to_bytes, window_at)
from installation.osc.codec import (CodecError, decode_audio_texture,
                                    encode_audio_texture, is_audio_texture)
from conftest import sine

SR = 48000


def tone(freq: float, peak: float = 0.5, n: int = FFT_SIZE, sr: int = SR) -> np.ndarray:
    return peak * np.sin(2 * np.pi * freq * np.arange(n) / sr)


def test_blackman_is_the_web_audio_window():
    w = blackman(8)
    assert w[0] == pytest.approx(0.0, abs=1e-12)        # a0 - a1 + a2 = 0
    assert w[4] == pytest.approx(1.0)                   # a0 + a1 + a2 = 1


def test_a_1khz_sine_at_48khz_peaks_in_bin_43():
    rows = AudioTexture().analyse(tone(1000.0))
    assert rows.shape == (2, N) and rows.dtype == np.float32
    assert abs(int(np.argmax(rows[0])) - round(1000 / (SR / FFT_SIZE))) <= 1
    # far from the tone, the Blackman sidelobes are below -100 dB
    assert rows[0][200:].max() == 0.0


def test_silence_is_an_empty_spectrum_and_a_flat_waveform():
    rows = AudioTexture().analyse(np.zeros(FFT_SIZE))
    assert np.all(rows[0] == 0.0) and np.all(rows[1] == 0.5)
    spec, wave = to_bytes(rows)
    assert set(spec) == {0} and set(wave) == {128}      # getByte*Data for silence


def test_a_full_scale_sine_waveform_spans_0_to_1():
    rows = AudioTexture().analyse(tone(1000.0, peak=1.0))
    assert rows[1].min() < 0.01 and rows[1].max() > 0.99
    assert np.allclose(rows[1], 0.5 + 0.5 * tone(1000.0, 1.0)[-N:], atol=1e-6)


def test_db_mapping_is_linear_from_minus_100_to_minus_30():
    tex = AudioTexture()
    tex.smoothed[:] = 0.0
    # a steady sine analysed many times: smoothed magnitude -> the raw magnitude
    x = tone(1000.0, peak=0.001)           # -60 dBFS peak -> bin ~ -60 - 13.6 dB
    for _ in range(60):
        rows = tex.analyse(x)
    peak = float(np.max(tex.smoothed))
    db = 20 * np.log10(peak)
    assert float(rows[0].max()) == pytest.approx((db + 100) / 70, abs=1e-5)
    assert -75 < db < -72


def test_smoothing_converges_geometrically():
    tex = AudioTexture()
    x = tone(1000.0)
    k = 43
    target = np.abs(np.fft.rfft(x * blackman()))[k] / FFT_SIZE
    errors = []
    for _ in range(10):
        tex.analyse(x)
        errors.append(target - tex.smoothed[k])
    ratios = np.array(errors[1:]) / np.array(errors[:-1])
    assert np.allclose(ratios, SMOOTHING, rtol=1e-9)
    assert errors[0] == pytest.approx(SMOOTHING * target)


def test_bytes_round_trip_and_lengths():
    rows = AudioTexture().analyse(tone(440.0))
    spec, wave = to_bytes(rows)
    assert len(spec) == len(wave) == N
    back = from_bytes(spec, wave)
    assert np.allclose(back, rows, atol=1.5 / 255)
    with pytest.raises(ValueError):
        from_bytes(spec[:10], wave)


def test_window_at_pads_and_file_texture_is_deterministic():
    x = sine(1000, 0.5, SR)
    assert np.all(window_at(x, SR, 0.0) == 0.0)
    assert np.allclose(window_at(x, SR, 0.25), x[12000 - FFT_SIZE:12000])
    a, b = FileTexture(x, SR), FileTexture(x, SR)
    ra = [a(k / 30) for k in range(12)]
    rb = [b(k / 30) for k in range(12)]
    assert all(np.array_equal(p, q) for p, q in zip(ra, rb))
    assert abs(int(np.argmax(ra[-1][0])) - 43) <= 1
    assert np.allclose(texture_rows_at(x, SR, 0.3), FileTexture(x, SR)(0.3))


def test_sample_window_cuts_pieces_as_window_at_cuts_the_whole():
    """A signal handed over in uneven pieces gives every window ``window_at`` gives from
    the whole (padding at both ends included), holds only what is still needed, and says
    so when asked to go back."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(SR).astype(np.float32)
    cuts = np.sort(rng.choice(np.arange(1, len(x)), 40, replace=False))
    w = SampleWindow(np.split(x, cuts))
    for end in [0, 5, 2047, 2048, 2049, *range(3000, len(x) + 3000, 997)]:
        assert np.array_equal(w.window(end), window_at(x, SR, end / SR)), end
        assert len(w._buf) <= FFT_SIZE + 2 * SR // 40 + max(np.diff(cuts))
    with pytest.raises(ValueError, match="go back"):
        w.window(len(x) - 5000)


def test_file_texture_from_pieces_gives_the_rows_of_the_whole_file():
    x = sine(440, 1.0, SR) * np.linspace(0, 1, SR)
    whole, pieces = FileTexture(x, SR), FileTexture(np.array_split(x, 17), SR)
    for t in (0.0, 0.01, 0.2, 0.2, 0.55, 1.0, 1.3):
        assert np.array_equal(whole(t), pieces(t)), t


def test_osc_message_round_trip_and_rejections():
    rows = AudioTexture().analyse(tone(1000.0))
    spec, wave = to_bytes(rows)
    data = encode_audio_texture(spec, wave, "/her")
    assert is_audio_texture(data, "/her") and not is_audio_texture(data, "/other")
    assert decode_audio_texture(data, "/her") == (spec, wave)
    with pytest.raises(ValueError):
        encode_audio_texture(spec[:511], wave)
    with pytest.raises(CodecError):
        decode_audio_texture(data[:40], "/her")
    from pythonosc.osc_message_builder import OscMessageBuilder
    b = OscMessageBuilder("/her/audio/texture")
    b.add_arg(1.0)
    with pytest.raises(CodecError):
        decode_audio_texture(b.build().dgram, "/her")


def test_receiver_keeps_the_latest_rows_and_counts_malformed():
    import socket

    from installation.osc.transport import FeatureReceiver

    receiver = FeatureReceiver("127.0.0.1", 0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert receiver.audio_rows() is None
        rows = AudioTexture().analyse(tone(1000.0))
        sock.sendto(encode_audio_texture(*to_bytes(rows)), ("127.0.0.1", receiver.port))
        sock.sendto(b"/her/audio/texture\0\0,b\0\0\0\0\0\x05ab", ("127.0.0.1", receiver.port))
        assert receiver.wait_audio(1, timeout=5)
        got = receiver.audio_rows()
        assert got.shape == (2, N) and abs(int(np.argmax(got[0])) - 43) <= 1
        deadline = threading.Event()
        for _ in range(50):
            if receiver.counters.malformed:
                break
            deadline.wait(0.05)
        assert receiver.counters.malformed == 1
    finally:
        sock.close()
        receiver.close()


def test_live_engine_publishes_the_measured_texture(wav):
    from installation.config import ShowConfig
    from installation.engine.live import LiveEngine
    from installation.osc.transport import FeatureReceiver

    path = wav(sine(1000, 0.8, SR), SR)
    receiver = FeatureReceiver("127.0.0.1", 0)
    engine = LiveEngine(ShowConfig(), "silent", file=path,
                        targets=[("127.0.0.1", receiver.port)])
    try:
        engine.start()
        assert engine.finished.wait(timeout=10), "the file never finished"
        assert receiver.wait_audio(10, timeout=5)
    finally:
        engine.stop()
        receiver.close()
    # ~60 per second, not one per block (48000 / 256 = 187 blocks per second)
    assert 20 <= engine.textures_sent <= 1.2 * 60 * 0.8 + 30
    rows = receiver.audio_rows()
    assert abs(int(np.argmax(rows[0])) - 43) <= 1
    assert rows[0].max() > 0.9 and receiver.counters.malformed == 0


def test_preview_of_a_sine_differs_from_silence(ctx, tmp_path):
    from installation.render.png import read_png
    from installation.render.preview import render_preview

    x = sine(1000, 1.0, SR)
    images = {}
    for name, samples in (("sine", x), ("silence", np.zeros_like(x))):
        out = render_preview([], f"{tmp_path / name}/", size=(160, 90), fps=10, seconds=0.5,
                             scene="shadertoy_ring", progress=False, flash_guard=False,
                             audio_rows=FileTexture(samples, SR))
        images[name] = read_png(out.path / "frame_00004.png").astype(np.int16)
    diff = np.abs(images["sine"] - images["silence"])
    # the ring bulges at the tone's bin and the waveform line swings: a local, bright change
    assert diff.mean() > 0.5 and diff.max() > 100


def test_run_loop_feeds_the_audio_source_to_the_renderer(ctx):
    from installation.render.context import HeadlessSurface
    from installation.render.renderer import SceneRenderer
    from installation.render.uniforms import UniformState
    from installation.render.window import run_loop

    surface = HeadlessSurface(ctx, (32, 18))
    renderer = SceneRenderer(ctx, (32, 18), flash_guard=None)
    renderer.load_scene("shadertoy_ring")
    rows = AudioTexture().analyse(tone(1000.0)).copy()
    calls = []

    def audio_source():
        calls.append(1)
        return rows if len(calls) == 2 else None    # None keeps the last rows

    n = run_loop(surface, renderer, UniformState(size=(32, 18)), lambda: None,
                 max_frames=3, audio_source=audio_source)
    assert n == 3 and len(calls) == 3 and renderer.audio.measured
    assert np.array_equal(renderer.audio.update({}), rows)
    renderer.release()
    surface.close() if hasattr(surface, "close") else None
