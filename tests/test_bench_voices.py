"""bench/voices.py's word trimming, which labels the unseen-voices set: known answers on
synthetic words (no download)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import voices  # noqa: E402

SR = voices.SR


def word(parts):
    """Concatenated (seconds, amplitude) stretches of a 300 Hz tone (0: silence)."""
    env = np.concatenate([np.full(int(round(s * SR)), a) for s, a in parts])
    return env * np.sin(2 * np.pi * 300 * np.arange(len(env)) / SR)


def test_a_word_is_trimmed_where_its_level_crosses_40_db_under_its_peak():
    # 0.1 s silence, 0.2 s at full level, 0.1 s at -30 dB (kept), 0.1 s at -50 dB (cut)
    y = word([(0.1, 0.0), (0.2, 0.5), (0.1, 0.5 * 10 ** (-30 / 20)),
              (0.1, 0.5 * 10 ** (-50 / 20)), (0.1, 0.0)])
    w = voices.trim(y)
    assert w is not None
    # the word spans from the first to the last 10 ms window over the threshold: each edge
    # lies up to 10 ms outside the tone; the -50 dB stretch is not the word
    assert len(w) / SR == pytest.approx(0.3 + 2 * 0.010, abs=0.003)


def test_words_that_do_not_trim_cleanly_are_not_used():
    assert voices.trim(word([(0.3, 0.5), (0.1, 0.0)])) is None  # not quiet before it
    assert voices.trim(word([(0.1, 0.0), (0.3, 0.5)])) is None  # nor after it
    # a stretch of 80 ms under the threshold inside it (two words, or a stop's closure)
    assert voices.trim(word([(0.1, 0.0), (0.2, 0.5), (0.08, 0.0), (0.2, 0.5),
                             (0.1, 0.0)])) is None
    # a floor less than 41 dB under its peak
    rng = np.random.default_rng(641)
    noisy = word([(0.1, 0.0), (0.3, 0.5), (0.1, 0.0)]) + 0.5 * 10 ** (-35 / 20) * (
        rng.standard_normal(int(round(0.5 * SR))))
    assert voices.trim(noisy) is None
    # 40 ms under the threshold inside a word is part of it
    assert voices.trim(word([(0.1, 0.0), (0.2, 0.5), (0.04, 0.0), (0.2, 0.5),
                             (0.1, 0.0)])) is not None


def test_a_sequence_joins_words_with_the_labelled_pauses():
    rng = np.random.default_rng(8316)
    pool = [voices.trim(word([(0.1, 0.0), (d, 0.5), (0.1, 0.0)])) for d in
            (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)]
    y, spans = voices.sequence(pool, rng)
    assert 5 <= len(spans) <= 6
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert 0.040 - 1e-9 <= c - b <= 1.5 + 1e-9  # pauses of 40-1500 ms
        gap = y[int(b * SR) + 1:int(c * SR) - 1]
        assert not gap.any()  # digital silence between the words
        word_rms = np.sqrt(np.mean(y[int(a * SR):int(b * SR)] ** 2))
        assert 20 * np.log10(word_rms) == pytest.approx(-20, abs=3.01)


def test_the_language_folds_hold_out_every_training_language_once():
    """``cv_gaps.py --by-language`` deals the training languages into folds: each language
    is held out exactly once, none of the unseen set's, and a file's language is read from
    its name (English files have none: they stay in every fold's training)."""
    from pathlib import Path

    import cv_gaps

    held = [lang for fold in cv_gaps.LANGUAGE_FOLDS for lang in fold]
    assert sorted(held) == sorted(voices.TRAIN_LANGUAGES)
    assert not set(held) & set(voices.EVAL_LANGUAGES)
    assert cv_gaps.language(Path("voices_ktuberling_lt_02_pink55__synth9001__snr+06.wav")) == "lt"
    assert cv_gaps.language(Path("voices_ktuberling_ca_00.wav")) == "ca"
    assert cv_gaps.language(Path("ktuberling_seq04__nylon_piano_80bpm__snr+06.wav")) is None


def _deb(tmp_path, name: str, files: dict[str, bytes]):
    """A Debian package ``name`` (built with dpkg-deb) holding ``files``, as a voices.Deb
    whose URL is the file's own."""
    import hashlib
    import subprocess

    tree = tmp_path / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\n"
        f"Description: test\n")
    for rel, data in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    deb = tmp_path / f"{name}_1_all.deb"
    subprocess.run(["dpkg-deb", "-Zgzip", "-b", str(tree), str(deb)], check=True,
                   capture_output=True)
    return voices.Deb(deb.as_uri(), hashlib.sha256(deb.read_bytes()).hexdigest(), 1)


def test_a_package_of_several_debs_is_unpacked_into_one_tree(tmp_path):
    """Asterisk's speakers come one Debian package per language: each is fetched once,
    checked against its SHA-256 and unpacked into the same sound folder."""
    a = _deb(tmp_path, "sounds-a", {"usr/share/s/aa/1.wav": b"a"})
    b = _deb(tmp_path, "sounds-b", {"usr/share/s/bb/2.wav": b"b"})
    package = voices.KTUBERLING._replace(name="two", debs=(a, b), sounds="usr/share/s")
    cache = tmp_path / "cache"
    folder = voices.sounds(cache, package)
    assert sorted(p.name for p in folder.iterdir()) == ["aa", "bb"]
    assert (folder / "bb" / "2.wav").read_bytes() == b"b"
    assert package.deb_names == "sounds-a, sounds-b"
    # unpacked once: a second call neither fetches nor unpacks again
    (folder / "aa" / "1.wav").unlink()
    assert voices.sounds(cache, package) == folder
    assert not (folder / "aa" / "1.wav").exists()
    # a package file that is not the one named is deleted, with a message naming it
    bad = _deb(tmp_path, "sounds-c", {"usr/share/s/cc/3.wav": b"c"})._replace(sha256="0" * 64)
    with pytest.raises(SystemExit, match="sounds-c_1_all.deb: SHA-256"):
        voices.sounds(cache, package._replace(debs=(a, b, bad)))
    assert not (cache / "sounds-c_1_all.deb").exists()


def test_g722_prompts_are_decoded_at_16_khz(tmp_path):
    """Asterisk's prompts are raw G.722: ``read_sound`` decodes them (through ffmpeg) to
    16 kHz samples; a 440 Hz tone of 0.5 s comes back as one."""
    import subprocess

    import imageio_ffmpeg
    import soundfile as sf

    t = np.arange(8000) / 16000
    sf.write(str(tmp_path / "tone.wav"), 0.5 * np.sin(2 * np.pi * 440 * t), 16000)
    g722 = tmp_path / "tone.g722"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i",
                    str(tmp_path / "tone.wav"), "-c:a", "g722", "-f", "g722", str(g722)],
                   check=True)
    y, sr = voices.read_sound(g722)
    assert sr == 16000
    assert len(y) / sr == pytest.approx(0.5, abs=0.01)
    mid = y[2000:6000]
    spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
    assert np.fft.rfftfreq(len(mid), 1 / sr)[spectrum.argmax()] == pytest.approx(440, abs=5)
    assert np.sqrt(np.mean(mid ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_the_evaluation_sets_hold_nothing_a_shipped_model_is_fitted_on():
    """``voices.py`` writes unseen sets: no shipped model's recipe fits on their speakers
    (KTuberling's languages other than EVAL_LANGUAGES; not Asterisk at all), and their
    music comes from synthetic pieces whose seeds no fit draws (train_gaps's are
    augment.TRAIN_SEED up, one per piece) and no other set uses."""
    import augment
    import train_gaps

    fitted = set()
    for name, (packages, pieces, _, _) in train_gaps.FAMILY_OPTIONS.items():
        fitted |= {p.split(":")[0] for p in packages}
        training_seeds = set(range(augment.TRAIN_SEED, augment.TRAIN_SEED + pieces))
        for _, _, seeds in voices.EVAL_SETS.values():
            assert not set(seeds) & training_seeds, name
    assert "asterisk" not in fitted
    ktuberling, asterisk = voices.EVAL_SETS["ktuberling"], voices.EVAL_SETS["asterisk"]
    assert ktuberling[0] is voices.KTUBERLING and asterisk[0] is voices.ASTERISK
    assert not set(ktuberling[1]) & set(voices.TRAIN_LANGUAGES)
    assert set(asterisk[1]) == set(voices.ASTERISK_SPEAKERS)
    assert not set(ktuberling[2]) & set(asterisk[2])
