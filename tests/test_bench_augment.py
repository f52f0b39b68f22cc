"""bench/augment.py's voices at other speeds, and how the cross-validation files them:
known answers on made-up speech (no download, no analysis)."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import augment  # noqa: E402
import cv_gaps  # noqa: E402

SR = augment.SR


def tone_word(tmp_path, name="ktuberling_seq01"):
    """A labelled "speech" file: a 440 Hz tone from 0.5 to 1.5 s, a 0.3 s pause, another
    word to 2.3 s."""
    t = np.arange(int(2.6 * SR)) / SR
    y = np.where(((t >= 0.5) & (t < 1.5)) | ((t >= 1.8) & (t < 2.3)),
                 0.3 * np.sin(2 * np.pi * 440 * t), 0.0)
    path = tmp_path / f"{name}.wav"
    sf.write(str(path), y, SR, subtype="FLOAT")
    label = {"kind": "speech", "words": [{"start": 0.5, "end": 1.5, "text": "a"},
                                         {"start": 1.8, "end": 2.3, "text": "b"}],
             "gaps": [{"start": 1.5, "end": 1.8}]}
    path.with_suffix(".json").write_text(json.dumps(label))
    return path


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_a_voice_at_another_speed_moves_pitch_and_times_together(tmp_path, factor):
    [copy] = augment.speeds([tone_word(tmp_path)], tmp_path / "speed", (factor,))
    y, sr = sf.read(str(copy))
    assert sr == SR and len(y) == pytest.approx(2.6 * SR / factor, abs=2)
    label = json.loads(copy.with_suffix(".json").read_text())
    assert [w["text"] for w in label["words"]] == ["a", "b"]
    assert label["words"][0]["start"] == pytest.approx(0.5 / factor)
    assert label["gaps"][0]["end"] - label["gaps"][0]["start"] == pytest.approx(0.3 / factor)
    # the tone, inside the first word, is 440 Hz times the factor
    w = label["words"][0]
    seg = y[int(w["start"] * SR) + 400:int(w["end"] * SR) - 400]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 8 * len(seg)))
    assert np.argmax(spectrum) * SR / (8 * len(seg)) == pytest.approx(440 * factor, rel=0.005)
    # and the labelled words are where the sound is
    assert np.abs(y[int((w["start"] - 0.02) * SR):int(w["start"] * SR) - 30]).max() < 1e-3


def test_a_speed_copy_and_its_mixes_count_as_their_source(tmp_path):
    """The cross-validation keeps a fold's sources out of its training by file name: a
    speed copy, and its mixes, must name the source and never a music piece of their own."""
    [copy] = augment.speeds([tone_word(tmp_path)], tmp_path / "speed", (1.1,))
    mix = copy.parent / f"{copy.stem}__nylon_piano_80bpm__aug3.wav"
    assert cv_gaps.source(copy) == cv_gaps.source(mix) == "ktuberling_seq01"
    assert cv_gaps.piece(copy) is None and cv_gaps.piece(mix) == "nylon_piano_80bpm"
    voices = tmp_path / "voices_ktuberling_ca_00__speed0.90.wav"
    assert cv_gaps.language(voices) == "ca"


def _faked_recipe(tmp_path, monkeypatch):
    """``train_gaps.augmented`` with its generators faked (no download, no audio): a
    function of the other voices' packages returning (the generator calls, in order, and
    the labelled files)."""
    import train_gaps
    import voices

    calls = []

    def fake(kind):
        def make(speech, *args, **kw):
            calls.append((kind, [p.name for p in speech], [str(a) for a in args],
                          sorted(kw.items())))
            return [tmp_path / f"{kind}{kw.get('seed', '')}_{p.stem}.wav" for p in speech]
        return make

    def sequences(out, languages, package=voices.KTUBERLING, **kw):
        calls.append(("sequences", package.name, languages))
        return [out / f"voices_{package.name}_{lang}_00.wav" for lang in languages]

    for kind in ("mixes", "levels", "rooms", "speeds"):
        monkeypatch.setattr(augment, kind, fake(kind))
    monkeypatch.setattr(augment, "synth_pieces", lambda out, n: [out / f"synth{n}.wav"])
    monkeypatch.setattr(train_gaps, "negatives", lambda root, tmp: [])
    monkeypatch.setattr(voices, "sequences", sequences)
    speech = [tmp_path / "speech" / "ktuberling_seq01.wav"]

    def recipe(packages, floors=augment.FLOORS):
        calls.clear()
        files = train_gaps.augmented(tmp_path, speech, tmp_path, packages, 20, (0.9, 1.1),
                                     floors)
        return list(calls), files[0]

    return recipe


def test_more_voices_leave_the_shipped_recipes_draws_unchanged(tmp_path, monkeypatch):
    """``train_gaps.augmented`` with KLettres' voices added makes every file the
    KTuberling-only recipe makes, from the same generator calls (the same speech, seeds and
    counts, in the same order): a new package draws from seeds of its own."""
    import voices

    recipe = _faked_recipe(tmp_path, monkeypatch)
    shipped, shipped_files = recipe(("ktuberling",))
    more, more_files = recipe(("ktuberling", "klettres"))
    assert [c for c in more if c in shipped] == shipped  # every call, in the same order
    assert set(shipped_files) <= set(more_files)
    added = [c for c in more if c not in shipped]
    assert ("sequences", "klettres", voices.LETTERS_LANGUAGES) in added
    # the new voices' mixes, levels, rooms and speed copies: their own seeds
    seeds = [dict(c[3]).get("seed") for c in added if c[0] in ("mixes", "levels", "rooms")]
    assert len(seeds) == 6 and len(set(seeds)) == 6
    assert not set(seeds) & {dict(c[3]).get("seed") for c in shipped if c[0] != "sequences"}


def test_voices_heard_only_under_music_are_the_same_mixes_and_rooms(tmp_path, monkeypatch):
    """``klettres:music``: KLettres' sequences only over music and in rooms, made by the
    very calls the full package makes (the same files), without its sequences alone, at
    another level or at other speeds; KTuberling's files do not change."""
    recipe = _faked_recipe(tmp_path, monkeypatch)
    full, full_files = recipe(("ktuberling", "klettres"))
    music, music_files = recipe(("ktuberling", "klettres:music"))
    assert [c for c in full if c in music] == music  # a subset, in the same order
    dropped = [c for c in full if c not in music]
    # its sequences at another level, and its speed copies (alone, mixed, at a level, in a
    # room: written under speed*/)
    assert [c[0] for c in dropped if not any("/speed" in a for a in c[2])] == ["levels"]
    assert {c[0] for c in dropped} == {"levels", "speeds", "mixes", "rooms"}
    assert {c[0] for c in music if "klettres" in str(c)} == {"sequences", "mixes", "rooms"}
    lost = set(full_files) - set(music_files)
    assert lost and all("klettres" in p.name for p in lost)
    assert any(p.parent.name == "speech" and "klettres" in p.name for p in lost)
    assert not any(p.parent.name == "speech" and "klettres" in p.name for p in music_files)


def test_the_other_voices_packages_are_named_on_the_command_line():
    import argparse

    import train_gaps

    assert train_gaps.parse_voices("ktuberling,klettres") == ("ktuberling", "klettres")
    assert train_gaps.parse_voices("none") == ()
    with pytest.raises(argparse.ArgumentTypeError, match="unknown voices espeak"):
        train_gaps.parse_voices("ktuberling,espeak")
    assert train_gaps.parse_voices("ktuberling,klettres:music") == ("ktuberling",
                                                                     "klettres:music")
    with pytest.raises(argparse.ArgumentTypeError, match="klettres:rooms"):
        train_gaps.parse_voices("klettres:rooms")
    # a language with a region keeps one name part: the cross-validation reads it back
    assert cv_gaps.language(REPO / "voices_klettres_pt-BR_03__speed1.10.wav") == "pt-BR"
    assert train_gaps.parse_voices("ktuberling,klettres:music,asterisk") == (
        "ktuberling", "klettres:music", "asterisk")
    # so does an Asterisk speaker's folder: one "language" per speaker, in every fold's
    # training (none of them is a held-out language)
    speaker = cv_gaps.language(REPO / "voices_asterisk_es-MX-f-Allison_02_pink55__room__rt0.wav")
    assert speaker == "es-MX-f-Allison"
    assert not any(speaker in fold for fold in cv_gaps.LANGUAGE_FOLDS)


def test_level_copies_draw_their_floors_from_the_family_set(tmp_path):
    """``augment.levels``: the plain floors (the hi and nb models') draw exactly as they
    did before the low ones existed (the shipped files' seeds), and the lo model's set adds
    a building's low noise: a floor whose power lies under 300 Hz."""
    speech = tone_word(tmp_path)
    plain = augment.levels([speech], tmp_path / "plain", per_file=12, seed=5)
    kinds = [json.loads(p.with_suffix(".json").read_text())["mix"]["music"] for p in plain]
    # the draws before the low floors were added: a noise among none/white/pink per copy
    rng = np.random.default_rng(5)
    expected = []
    for _ in range(12):
        rng.uniform(-48.0, -3.0)
        noise = ("none", "white", "pink")[rng.integers(3)]
        expected.append(noise)
        if noise != "none":
            rng.standard_normal(len(sf.read(str(speech))[0]))  # the noise's own draws
            rng.uniform(25.0, 50.0)
    assert kinds == expected and set(kinds) == {"none", "white", "pink"}
    low = augment.levels([speech], tmp_path / "low", per_file=12, seed=5,
                         floors=augment.LOW_FLOORS)
    lows = [p for p in low if json.loads(p.with_suffix(".json").read_text())["mix"]["music"]
            == "low"]
    assert lows, "twelve draws among four kinds gave no low floor"
    y, _ = sf.read(str(lows[0]))
    pause = y[int(1.55 * SR):int(1.75 * SR)]  # between the two words: the floor alone
    power = np.abs(np.fft.rfft(pause)) ** 2
    f = np.fft.rfftfreq(len(pause), 1 / SR)
    assert power[f < 300].sum() > 0.95 * power.sum()
    with pytest.raises(ValueError, match="floors"):
        augment.levels([speech], tmp_path / "bad", floors=("brown",))


def test_level_copies_with_dc_carry_an_offset_and_draw_the_rest_as_before(tmp_path):
    """With :data:`augment.DC` in the set, some copies carry a DC offset of -70 to -36 dBFS
    (either sign) and the others none, and every copy is otherwise the file the same set
    without DC writes (the offset's draws are the copies' own)."""
    speech = tone_word(tmp_path)
    for floors in (augment.FLOORS, augment.LOW_FLOORS):
        plain = augment.levels([speech], tmp_path / f"p{len(floors)}", per_file=12, seed=5,
                               floors=floors)
        dc = augment.levels([speech], tmp_path / f"d{len(floors)}", per_file=12, seed=5,
                            floors=(*floors, augment.DC))
        offsets = []
        for a, b in zip(plain, dc):
            assert a.name == b.name
            x, _ = sf.read(str(a))
            y, _ = sf.read(str(b))
            # y = a x + b: a is 1 unless the offset pushed the copy over its 0.98 peak
            (a_, b_), *_ = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)
            assert abs(a_ - 1.0) < 0.02 and np.abs(y - (a_ * x + b_)).max() < 1e-4
            offsets.append(float(b_))
        signs = {np.sign(o) for o in offsets if o != 0.0}
        carried = [abs(o) for o in offsets if abs(o) > 1e-6]
        assert 3 <= len(carried) <= 9 and signs == {-1.0, 1.0}, offsets
        assert all(10 ** (-70 / 20) * 0.99 < o < 10 ** (-36 / 20) * 1.01 for o in carried)
        assert sum(abs(o) <= 1e-6 for o in offsets) == 12 - len(carried)


def test_only_the_lo_recipe_hears_the_low_floors(tmp_path, monkeypatch):
    """Every level copy of the lo recipe (its own speech, the other voices', the speed
    copies') is drawn over the low floors too; the hi and nb recipes keep the plain ones."""
    import train_gaps

    assert train_gaps.family_options("lo")[3] == (*augment.LOW_FLOORS, augment.DC)
    assert train_gaps.family_options("hi")[3] == train_gaps.family_options("nb")[3] \
        == augment.FLOORS
    recipe = _faked_recipe(tmp_path, monkeypatch)
    plain, plain_files = recipe(("ktuberling", "klettres:music"))
    low, low_files = recipe(("ktuberling", "klettres:music"), augment.LOW_FLOORS)
    levels = [c for c in low if c[0] == "levels"]
    assert len(levels) == 3  # the developer set's speech, KTuberling's, their speed copies
    assert all(dict(c[3])["floors"] == augment.LOW_FLOORS for c in levels)
    assert all(dict(c[3])["floors"] == augment.FLOORS for c in plain if c[0] == "levels")
    # nothing else changes: the same calls but for the floors, the same files
    def strip(c):  # (a "sequences" call has no keywords)
        return c if c[0] == "sequences" else c[:3] + ([kv for kv in c[3] if kv[0] != "floors"],)
    assert [strip(c) for c in low] == [strip(c) for c in plain] and low_files == plain_files


def test_the_floors_are_named_on_the_command_line():
    import argparse

    import train_gaps

    assert train_gaps.parse_floors("low") == augment.LOW_FLOORS
    assert train_gaps.parse_floors("plain") == augment.FLOORS
    assert train_gaps.parse_floors("low+dc") == (*augment.LOW_FLOORS, augment.DC)
    assert train_gaps.parse_floors("plain+dc") == (*augment.FLOORS, augment.DC)
    for bad in ("brown", "low+hum", "+dc"):
        with pytest.raises(argparse.ArgumentTypeError, match=re.escape(f"floors '{bad}'")):
            train_gaps.parse_floors(bad)
    # an override wins over the family's recipe, and only the floors change
    hi = train_gaps.family_options("hi")
    assert train_gaps.family_options("hi", floors=augment.LOW_FLOORS) == (*hi[:3],
                                                                          augment.LOW_FLOORS)
