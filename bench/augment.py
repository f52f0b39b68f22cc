"""More speech-over-music for training the gap detector (``bench/train_gaps.py``).

The developer set mixes each speech file over one music piece at +12, +6 and 0 dB. A model
fitted on that alone learns those six pieces and those three levels: in a cross-validation
over speech sources its F1 on unseen mixes fell to 0.63-0.67 at +12 dB. This module makes
more, all seeded:

- :func:`synth_piece`: soft music the set does not have, rendered with tinysoundfont and
  the FluidR3_GM soundfont (nylon and steel guitar, piano, electric piano, harp, strings,
  pads, vibraphone, music box; held chords, arpeggios, melodies; 55-105 BPM; a light
  room);
- :func:`levels`: every training speech file alone at other levels (-48 to -3 dBFS over
  its words), some over a steady noise floor (white or pink, 25 to 50 dB below the words;
  for the lo model also a building's low noise, 15 to 45 dB below): clean speech must stay
  clean speech at any level;
- :func:`rooms`: every training speech file in three reverberant rooms (RT60 0.2-1.2 s),
  labelled with its dry words: a room's tail is not the voice;
- :func:`mixes`: every training speech file over 14 random stretches of the dev music and of
  the synthetic pieces, at a voice-to-music ratio drawn from -6 to +18 dB (measured over the
  words, as the set does) and a speech level drawn from -42 to -8 dBFS.

Only the training speech goes in: the held-out sources stay out of every mix. Needs the
``compose`` extra, ``pip install --no-deps tinysoundfont`` and Debian's
``fluid-soundfont-gm`` (bench/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SEED = 641
# General MIDI programs in the film's register (some twice: guitar and piano lead it).
PROGRAMS = (24, 24, 25, 0, 0, 4, 46, 48, 49, 89, 88, 11, 10)
SUSTAINED = (48, 49, 88, 89)  # strings and pads hold chords
CHORDS = ([48, 52, 55, 60, 64], [45, 52, 57, 60, 64], [41, 48, 53, 57, 60],
          [43, 50, 55, 59, 62], [40, 47, 52, 55, 59], [50, 57, 62, 65, 69],
          [47, 50, 55, 59, 62])


def synth_piece(seed: int, sr: int = 48000, seconds: float = 30.0,
                soundfont: Path = SOUNDFONT) -> np.ndarray:
    """About ``seconds`` of soft music for one to three instruments (mono float64, peak
    0.5), deterministic for a seed."""
    import tinysoundfont
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(seed)
    synth = tinysoundfont.Synth(samplerate=sr)
    sfid = synth.sfload(str(soundfont))
    programs = rng.choice(PROGRAMS, rng.integers(1, 4), replace=False)
    for chan, prog in enumerate(programs):
        synth.program_select(chan, sfid, 0, int(prog))
        synth.control_change(chan, 7, int(rng.integers(70, 120)))
    beat = 60.0 / rng.uniform(55, 105)
    notes = []  # (on s, channel, key, velocity, length s)
    t = 0.0
    while t < seconds - 2.0:
        chord = CHORDS[rng.integers(len(CHORDS))]
        for chan, prog in enumerate(programs):
            style = rng.integers(3)
            if prog in SUSTAINED or style == 0:  # a held chord
                octave = 12 * int(prog in (0, 4, 10, 11))
                for key in chord[:rng.integers(3, 6)]:
                    notes.append((t + rng.uniform(0, 0.03), chan, key + octave,
                                  int(rng.integers(40, 90)), 4 * beat * rng.uniform(0.7, 1.0)))
            elif style == 1:  # an arpeggio in eighths
                for e, k in enumerate((0, 2, 3, 4, 2, 3, 1, 4)):
                    notes.append((t + e * beat / 2 + rng.uniform(-0.01, 0.01), chan, chord[k],
                                  int(rng.integers(40, 85)), beat * rng.uniform(0.8, 2.5)))
            else:  # a melody in quarters
                for e in range(4):
                    if rng.random() < 0.8:
                        key = int(rng.choice(chord)) + 12 + int(rng.choice([0, 2, -1, 0]))
                        notes.append((t + e * beat + rng.uniform(-0.01, 0.01), chan, key,
                                      int(rng.integers(45, 95)), beat * rng.uniform(0.6, 1.8)))
        t += 4 * beat
    events = []
    for on, chan, key, vel, length in notes:
        on = max(0.0, on)
        events += [(on, 1, chan, key, vel), (on + length, 0, chan, key, 0)]
    events.sort()
    blocks, pos = [], 0

    def render(n: int) -> None:
        blocks.append(np.frombuffer(synth.generate(n), dtype=np.float32).reshape(-1, 2))

    for when, on, chan, key, vel in events:
        n = int(when * sr) - pos
        if n > 0:
            render(n)
            pos += n
        if on:
            synth.noteon(chan, key, vel)
        else:
            synth.noteoff(chan, key)
    render(2 * sr)
    y = np.concatenate(blocks).mean(axis=1).astype(np.float64)
    n_ir = int(0.8 * sr)
    ir = rng.standard_normal(n_ir) * np.exp(-np.arange(n_ir) / (sr * rng.uniform(0.1, 0.25)))
    wet = fftconvolve(y, ir)[: len(y)]
    y = y + 10 ** (rng.uniform(-20, -10) / 20) * wet * _rms(y) / (_rms(wet) + 1e-20)
    return y / (np.abs(y).max() + 1e-9) * 0.5


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x) + 1e-30))


def _read(path: Path, sr: int) -> np.ndarray:
    import soundfile as sf
    import soxr

    y, file_sr = sf.read(str(path), dtype="float64", always_2d=True)
    y = y.mean(axis=1)
    return y if file_sr == sr else soxr.resample(y, file_sr, sr)


# The training's synthetic pieces are synth_piece(TRAIN_SEED + i), i = 0 .. n-1; the
# evaluation sets draw their music from seeds no fit reaches (voices.py).
TRAIN_SEED = 9000


def synth_pieces(out: Path, n: int = 10) -> list[Path]:
    """Write ``n`` synthetic pieces (48 kHz) under ``out``; returns their paths."""
    import soundfile as sf

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = out / f"synth{i:02d}.wav"
        if not path.exists():
            sf.write(str(path), synth_piece(TRAIN_SEED + i), 48000, subtype="FLOAT")
        paths.append(path)
    return paths


SR = 16000  # the rate the mixes are written at (the developer set's)


def _speech(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """A speech wav's labels, its samples at :data:`SR` and the mask of its words."""
    lab = json.loads(path.with_suffix(".json").read_text())
    y = _read(path, SR)
    words = np.zeros(len(y), bool)
    for w in lab["words"]:
        words[int(w["start"] * SR):int(w["end"] * SR)] = True
    return lab, y, words


def _write(path: Path, x: np.ndarray, speech: Path, lab: dict, under: str,
           snr_db: float | None) -> Path:
    """Write a training wav and its labels (the speech's, ``mix.speech`` = the clean file
    that :func:`train_gaps.labels_for` measures tails on)."""
    import soundfile as sf

    sf.write(str(path), x, SR, subtype="FLOAT")
    label = dict(lab, kind="mix", mix={"speech": str(speech.resolve()), "music": under,
                                       "snr_db": snr_db})
    path.with_suffix(".json").write_text(json.dumps(label))
    return path


def mixes(speech: list[Path], music: list[Path], out: Path, per_file: int = 14,
          seed: int = SEED, snr_db: tuple[float, float] = (-6.0, 18.0)) -> list[Path]:
    """Each speech wav (16 kHz, with its label JSON) over ``per_file`` random stretches of
    ``music`` at a voice-to-music ratio drawn from ``snr_db``; writes wavs and labels (the
    speech's words and gaps, ``mix.speech`` = the clean file) under ``out`` and returns the
    wav paths."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pieces = [(p.stem, _read(p, SR)) for p in music]
    paths = []
    for sp in speech:
        lab, y, words = _speech(sp)
        for j in range(per_file):
            name, m = pieces[rng.integers(len(pieces))]
            off = int(rng.integers(0, max(1, len(m) - len(y) - 2 * SR)))
            seg = m[off:off + len(y)]
            seg = np.pad(seg, (0, len(y) - len(seg)))
            snr = rng.uniform(*snr_db)
            mix = y + _rms(y[words]) / (_rms(seg[words]) * 10 ** (snr / 20)) * seg
            mix *= 10 ** (rng.uniform(-42.0, -8.0) / 20) / _rms(y[words])
            mix *= min(1.0, 0.98 / (np.abs(mix).max() + 1e-12))
            paths.append(_write(out / f"{sp.stem}__{name}__aug{j}.wav", mix, sp, lab,
                                name, round(snr, 1)))
    return paths


def _scaled_times(items: list[dict], factor: float) -> list[dict]:
    return [dict(it, **{k: it[k] / factor for k in ("start", "end") if k in it}) for it in items]


def speeds(speech: list[Path], out: Path, factors: tuple[float, ...] = (0.9, 1.1)) -> list[Path]:
    """Each speech wav played ``factor`` times as fast (resampled, so its pitch and
    formants move with the speed, as another speaker's would), its labels' times divided by
    the factor: new clean speech files under ``out`` (labelled like the originals, to be
    mixed, levelled and put in rooms like them)."""
    import soundfile as sf
    import soxr

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for sp in speech:
        lab = json.loads(sp.with_suffix(".json").read_text())
        y = _read(sp, SR)
        for f in factors:
            x = soxr.resample(y, SR * f, SR)
            path = out / f"{sp.stem}__speed{f:.2f}.wav"
            sf.write(str(path), x, SR, subtype="FLOAT")
            label = dict(lab, words=_scaled_times(lab["words"], f),
                         gaps=_scaled_times(lab.get("gaps", []), f))
            path.with_suffix(".json").write_text(json.dumps(label))
            paths.append(path)
    return paths


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f)
    spectrum[0] = 0.0
    y = np.fft.irfft(spectrum, n)
    return y / _rms(y)


def _low(n: int, rng: np.random.Generator, corner_hz: float) -> np.ndarray:
    """White noise through a second-order low-pass at ``corner_hz`` (at :data:`SR`); RMS 1."""
    from scipy.signal import butter, lfilter

    y = lfilter(*butter(2, corner_hz / (SR / 2)), rng.standard_normal(n))
    return y / _rms(y)


def _copies(speech: list[Path], out: Path, per_file: int, seed: int, make) -> list[Path]:
    """``per_file`` copies of each speech wav, ``make(y, words, rng, j) -> (x, under,
    name)`` making copy ``j`` of its samples ``y`` (``words``: the mask of its labelled
    words; ``under`` goes into ``mix.music``), kept under full scale; written under ``out``
    as :func:`mixes` writes (no SNR)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for sp in speech:
        lab, y, words = _speech(sp)
        for j in range(per_file):
            x, under, name = make(y, words, rng, j)
            x *= min(1.0, 0.98 / (np.abs(x).max() + 1e-12))
            paths.append(_write(out / f"{sp.stem}__{name}.wav", x, sp, lab, under, None))
    return paths


# The steady floors the level copies are heard over (:func:`levels`): white and pink 25 to
# 50 dB under the words; "low", a building's low noise (white under a 12 dB/octave
# low-pass at 30-150 Hz), 15 to 45 dB under them. A set that also names DC: half the
# copies (from a generator of their own, so every other draw stays as it was) also carry a
# DC offset of -70 to -36 dBFS, either sign (a sound card's or a mixer's offset: R47, R48).
FLOORS = ("white", "pink")
LOW_FLOORS = (*FLOORS, "low")
DC = "dc"
FLOOR_SETS = (FLOORS, LOW_FLOORS, (*FLOORS, DC), (*LOW_FLOORS, DC))


def levels(speech: list[Path], out: Path, per_file: int = 3, seed: int = SEED + 1,
           floors: tuple[str, ...] = FLOORS) -> list[Path]:
    """Each speech wav alone at ``per_file`` random levels, over no floor or one of
    ``floors`` (one of :data:`FLOOR_SETS`: the noises each as likely; with :data:`DC`, half
    the copies also carry a DC offset); same outputs as :func:`mixes` (``mix.music`` names
    the noise)."""
    if floors not in FLOOR_SETS:
        raise ValueError(f"floors {floors!r}: expected one of {', '.join(map(repr, FLOOR_SETS))}")
    noises = tuple(f for f in floors if f != DC)

    def make(y, words, rng, j):
        level = rng.uniform(-48.0, -3.0)
        x = y * 10 ** (level / 20) / _rms(y[words])
        noise = ("none", *noises)[rng.integers(1 + len(noises))]
        if noise != "none":
            if noise == "low":
                n, under = _low(len(x), rng, rng.uniform(30.0, 150.0)), (15.0, 45.0)
            else:
                n = rng.standard_normal(len(x)) if noise == "white" else _pink(len(x), rng)
                under = (25.0, 50.0)
            x = x + n / _rms(n) * 10 ** ((level - rng.uniform(*under)) / 20)
        if DC in floors:
            dc_rng = np.random.default_rng((SEED + 47, j, len(y)))
            if dc_rng.random() < 0.5:
                x = x + dc_rng.choice((-1.0, 1.0)) * 10 ** (dc_rng.uniform(-70.0, -36.0) / 20)
        return x, noise, f"{noise}__level{j}"

    return _copies(speech, out, per_file, seed, make)


def rooms(speech: list[Path], out: Path, per_file: int = 3, seed: int = SEED + 2) -> list[Path]:
    """Each speech wav at ``per_file`` random levels in a reverberant room
    (:func:`floors.room_tail`: RT60 0.2-1.2 s, the reverberation 12 to 0 dB under the dry
    voice), so its tail runs on into the pauses (the labels keep the dry words: a pause
    begins where the voice stops, not its room); same outputs as :func:`mixes`."""
    import floors

    def make(y, words, rng, j):
        tail = floors.room_tail(y, SR, words, rng.uniform(0.2, 1.2), rng)
        x = y + tail * 10 ** (-rng.uniform(0.0, 12.0) / 20)
        x *= 10 ** (rng.uniform(-42.0, -8.0) / 20) / _rms(x[words])
        return x, "room", f"room__rt{j}"

    return _copies(speech, out, per_file, seed, make)
