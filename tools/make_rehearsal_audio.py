#!/usr/bin/env python3
"""Build the bundled rehearsal recording ``audio/between_the_words.flac`` and its labels.

The piece is an original, slow (72 BPM, 4/4) composition in the spirit of the soundtrack of
the film *Her*: finger-picked nylon guitar arpeggios (GM 24), a soft piano tune (GM 0) and a very
quiet warm pad (GM 89) over a warm I-vi-IV-V harmony in C major with maj7/add9 colour. It has a
two-bar intro of guitar alone, a ritardando at the end and a 3 s decaying tail. Real speech is
placed over it: the five public-domain LibriVox utterances and five of the GPL-2+ KTuberling word
sequences of the developer evaluation set (``shared/eval/speech/``), with pauses of 0.45-6.5 s
between the utterances and music alone at the start and the end.

Steps (all deterministic, seed ``SEED``):

1. compose the MIDI with ``mido`` (humanised velocities and timing, one ``set_tempo`` per beat:
   a slight rubato and a closing ritardando) and write ``between_the_words.mid``;
2. render it sample-accurately with ``tinysoundfont`` and FluidR3_GM.sf2 at 48 kHz (the synth is
   advanced in chunks between MIDI events), mix to mono, add a light synthetic room reverb
   (seeded, exponentially decaying, low-passed noise impulse response, RT60 1.2 s, -14 dB wet);
3. read the speech files (16 kHz), trim their silent edges to at most 0.18 s before the first
   and 0.22 s after the last labelled word (20 ms fades at a cut), resample to 48 kHz
   (``scipy.signal.resample_poly``), and place them at whole-millisecond offsets; each
   utterance's gain sets its voice-to-music ratio to +12 dB, measured as RMS over the samples
   inside its labelled words;
4. scale the sum to -20 dBFS RMS and keep its peak at 0.89 (-1 dBFS) with a smooth look-ahead
   peak limiter (same gain on voice and music; it touches a few percent of the samples, all on
   speech peaks; the utterance gains are corrected so the ratio stays +12 dB after it); write a
   48 kHz mono 16-bit FLAC plus a label JSON in the evaluation-set format (words, gaps, onsets,
   beats, utterances).

Usage (from the repository root)::

    python tools/make_rehearsal_audio.py [--out audio] [--soundfont PATH] [--eval ../shared/eval]
"""
import argparse
import json
import os

import mido
import numpy as np
import soundfile as sf
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 2013
SR = 48000
SPEECH_SR = 16000
TPB = 480
BPM = 72.0
NAME = "between_the_words"
DEFAULT_SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

GUITAR, PIANO, PAD = 0, 1, 2                      # MIDI channels
PROGRAMS = {GUITAR: 24, PIANO: 0, PAD: 89}       # nylon guitar, acoustic grand, pad 2 (warm)
VOLUMES = {GUITAR: 75, PIANO: 127, PAD: 48}       # CC7 (tinysoundfont: gain = (v/127)^3)

TAIL_S = 3.0            # decaying tail rendered after the last note-off
SNR_DB = 12.0           # voice-to-music ratio over each utterance's words
TARGET_RMS_DB = -20.0
PEAK_MAX = 0.89         # -1 dBFS
MIN_GAP = 0.100
KEEP_BEFORE, KEEP_AFTER = 0.18, 0.22   # silence kept around an utterance's words (s)
EDGE_FADE = 0.020                      # raised-cosine fade at the trimmed edges (s)

# ------------------------------------------------------------------------------------------
# 1. composition

# Guitar voicings, five notes low to high (standard tuning, open-position shapes).
VOICINGS = {
    "Cadd9": [48, 55, 62, 64, 67],
    "Cmaj7": [48, 55, 59, 64, 67],
    "C/E":   [40, 48, 55, 60, 64],
    "Am7":   [45, 52, 55, 60, 64],
    "Fmaj7": [41, 48, 53, 57, 64],
    "Gsus4": [43, 50, 55, 60, 62],
    "G":     [43, 50, 55, 59, 62],
    "G6":    [43, 50, 55, 59, 64],
    "Em7":   [40, 47, 55, 59, 62],
    "Dm7":   [50, 57, 60, 65, 69],
}
# Pad and piano left-hand notes per chord (mid register, close voicing).
PAD_NOTES = {
    "Cadd9": [55, 60, 62, 64], "Cmaj7": [55, 59, 60, 64], "C/E": [52, 55, 60],
    "Am7": [55, 57, 60, 64], "Fmaj7": [53, 57, 60, 64], "Gsus4": [55, 60, 62],
    "G": [55, 59, 62], "G6": [55, 59, 64], "Em7": [52, 55, 59, 62], "Dm7": [53, 57, 60, 62],
}

# Bars: list of (chord for beats 0-1, chord for beats 2-3), section name.
BARS = (
    [(("Cadd9", "Cadd9"), "intro"), (("Fmaj7", "Fmaj7"), "intro")]
    + [((c, d), "A") for c, d in [("Cadd9", "Cadd9"), ("Am7", "Am7"), ("Fmaj7", "Fmaj7"),
                                  ("Gsus4", "G"), ("Cmaj7", "Cmaj7"), ("Am7", "Am7"),
                                  ("Fmaj7", "Fmaj7"), ("G", "G6")]]
    + [((c, d), "B") for c, d in [("Fmaj7", "Fmaj7"), ("G", "G"), ("Em7", "Em7"), ("Am7", "Am7"),
                                  ("Dm7", "Dm7"), ("Gsus4", "G"), ("Cmaj7", "Cmaj7"),
                                  ("Cadd9", "C/E")]]
    + [((c, d), "A2") for c, d in [("Cadd9", "Cadd9"), ("Am7", "Am7"), ("Fmaj7", "Fmaj7"),
                                   ("G", "G"), ("Fmaj7", "Fmaj7"), ("Gsus4", "G")]]
    + [(("Fmaj7", "Fmaj7"), "outro"), (("Cadd9", "Cadd9"), "end")]
)

# Finger-picking patterns: voicing index per eighth note (0 = bass).
PATTERNS = {
    "intro": [0, 2, 3, 4, 1, 3, 2, 3],
    "A":     [0, 2, 3, 4, 1, 3, 4, 2],
    "B":     [0, 3, 2, 4, 1, 4, 3, 2],
    "A2":    [0, 2, 3, 4, 1, 3, 4, 2],
    "outro": [0, 2, 3, 4, 1, 3, 2, 4],
}
DYNAMICS = {"intro": 0.86, "A": 0.97, "B": 1.06, "A2": 0.95, "outro": 0.85, "end": 0.78}

# Piano tune: bar index (0-based) -> [(beat, length in beats, key)].
TUNE = {
    2: [(0, 1.5, 76), (1.5, 0.5, 74), (2, 2, 67)],
    3: [(0, 1.5, 72), (1.5, 0.5, 71), (2, 1, 69), (3, 1, 72)],
    4: [(0, 1.5, 76), (1.5, 0.5, 77), (2, 2, 72)],
    5: [(0, 3, 74), (3, 1, 71)],
    6: [(0, 1.5, 76), (1.5, 0.5, 79), (2, 2, 76)],
    7: [(0, 1.5, 72), (1.5, 0.5, 74), (2, 2, 76)],
    8: [(0, 1, 77), (1, 1, 76), (2, 1, 74), (3, 1, 72)],
    9: [(0, 2, 74), (2, 2, 71)],
    10: [(0, 2, 69), (2, 1, 72), (3, 1, 76)],
    11: [(0, 3, 74), (3, 1, 71)],
    12: [(0, 2, 71), (2, 1, 74), (3, 1, 79)],
    13: [(0, 3, 76), (3, 1, 72)],
    14: [(0, 2, 77), (2, 1, 76), (3, 1, 74)],
    15: [(0, 2, 72), (2, 2, 71)],
    16: [(0, 1.5, 71), (1.5, 0.5, 72), (2, 2, 76)],
    17: [(0, 4, 74)],
    18: [(0, 2, 79), (2, 2, 76)],
    19: [(0, 2, 72), (2, 2, 76)],
    20: [(0, 2, 81), (2, 2, 76)],
    21: [(0, 4, 74)],
    22: [(0, 2, 72), (2, 2, 69)],
    23: [(0, 2, 72), (2, 2, 71)],
    24: [(0, 2, 69), (2, 2, 67)],
}


def tempo_map(n_beats, rng):
    """BPM for every beat: 72 with a slight smooth rubato (+-1.5 %), ritardando over the last 8."""
    wob = np.convolve(rng.standard_normal(n_beats + 8), np.hanning(9) / np.hanning(9).sum(), "same")
    wob = wob[4:4 + n_beats] / max(np.abs(wob).max(), 1e-9) * 0.015
    bpm = BPM * (1 + wob)
    bpm[:8] = BPM                                        # steady intro
    rit = np.linspace(0, 1, 9)[1:] ** 1.5                # last two bars: 72 -> about 48 BPM
    bpm[-8:] = BPM * (1 - 0.34 * rit)
    return bpm


def compose(rng):
    """Notes as (start beat, length in beats, channel, key, velocity); plus the tempo map."""
    notes = []

    def add(beat, length, chan, key, vel, jitter=0.012):
        beat = max(0.0, beat + rng.uniform(-jitter, jitter))        # +-0.012 beat = +-10 ms
        vel = int(np.clip(round(vel + rng.uniform(-4, 4)), 1, 127))
        notes.append((beat, length, chan, key, vel))

    n_bars = len(BARS)
    for b, ((c1, c2), sec) in enumerate(BARS):
        b0 = 4.0 * b
        dyn = DYNAMICS[sec]
        if sec == "end":
            # final chord: slowly rolled guitar chord and a soft piano chord, let ring
            for i, k in enumerate(VOICINGS["Cadd9"]):
                add(b0 + 0.09 * i, 4.0 - 0.09 * i, GUITAR, k, 62 - 2 * i, jitter=0.004)
            for i, k in enumerate([60, 64, 67, 74]):
                add(b0 + 0.35 + 0.06 * i, 3.6, PIANO, k, 56, jitter=0.004)
            add(b0, 4.0, PIANO, 36, 52, jitter=0.0)
            add(b0, 4.0, PAD, 48, 60, jitter=0.0)               # the pad carries the held chord
            for k in PAD_NOTES["Cadd9"]:
                add(b0, 4.0, PAD, k, 60, jitter=0.0)
            continue
        pat = PATTERNS[sec]
        for e in range(8):
            v = VOICINGS[c1 if e < 4 else c2]
            idx = pat[e]
            key = v[idx]
            beat = b0 + 0.5 * e
            # phrase swell inside the bar, accent on the beats, softer upper strings
            vel = (56 if idx == 0 else 50 if idx == 1 else 44) + (4 if e % 2 == 0 else 0)
            if sec == "intro" and b == 0 and e == 0:
                vel -= 6
            length = 2.0 if idx <= 1 else 1.25                        # let strings ring
            add(beat, length, GUITAR, key, vel * dyn)
        # piano: the tune, plus a soft left hand in B and A2
        for beat, length, key in TUNE.get(b, []):
            add(b0 + beat, length * 0.95, PIANO, key, 62 * dyn + (4 if beat == 0 else 0))
        if sec in ("B", "A2", "outro"):
            for half, ch in ((0, c1), (2, c2)):
                if half == 2 and c2 == c1:
                    continue
                root = VOICINGS[ch][0] + (12 if VOICINGS[ch][0] < 45 else 0)
                add(b0 + half, 4.0 - half if c2 == c1 else 2.0, PIANO, root, 50 * dyn)
        if sec in ("B", "A2", "outro"):
            pv = 58 if sec != "outro" else 52
            for half, ch in ((0, c1), (2, c2)):
                if half == 2 and c2 == c1:
                    continue
                for k in PAD_NOTES[ch]:
                    add(b0 + half, (4.0 if c2 == c1 else 2.0) - 0.02, PAD, k, pv, jitter=0.0)
    n_beats = 4 * n_bars
    return notes, tempo_map(n_beats, rng)


def write_midi(path, notes, bpm):
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    tr0 = mido.MidiTrack()
    mid.tracks.append(tr0)
    tr0.append(mido.MetaMessage("track_name", name="Between the words", time=0))
    tr0.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    tr0.append(mido.MetaMessage("key_signature", key="C", time=0))
    for b, t in enumerate(bpm):          # one tempo event per beat: the beat grid is the tempo map
        tr0.append(mido.MetaMessage("set_tempo", tempo=int(round(6e7 / t)), time=0 if b == 0 else TPB))
    names = {GUITAR: "Nylon guitar", PIANO: "Piano", PAD: "Warm pad"}
    for chan, prog in PROGRAMS.items():
        tr = mido.MidiTrack()
        mid.tracks.append(tr)
        tr.append(mido.MetaMessage("track_name", name=names[chan], time=0))
        ev = [(0, 0, mido.Message("program_change", channel=chan, program=prog)),
              (0, 0, mido.Message("control_change", channel=chan, control=7, value=VOLUMES[chan]))]
        mine = sorted((n for n in notes if n[2] == chan), key=lambda n: n[0])
        spans = []
        for beat, length, _, key, vel in mine:
            spans.append([int(round(beat * TPB)), int(round((beat + length) * TPB)), key, vel])
        # a re-struck key ends the previous sounding of that key (else its note-off would cut it)
        for i, s in enumerate(spans):
            for t in spans[i + 1:]:
                if t[2] == s[2] and t[0] < s[1]:
                    s[1] = max(s[0] + 1, t[0])
                    break
        for on, off, key, vel in spans:
            ev.append((on, 2, mido.Message("note_on", channel=chan, note=key, velocity=vel)))
            ev.append((off, 1, mido.Message("note_off", channel=chan, note=key, velocity=0)))
        ev.sort(key=lambda e: (e[0], e[1]))
        last = 0
        for tick, _, msg in ev:
            tr.append(msg.copy(time=tick - last))
            last = tick
    mid.save(path)
    return mid


# ------------------------------------------------------------------------------------------
# 2. rendering


def render_midi(path, sf2, sr=SR, tail_s=TAIL_S):
    """Render with tinysoundfont, sample-accurately: (stereo float64 array, note-on times, end)."""
    import tinysoundfont
    mid = mido.MidiFile(path)
    synth = tinysoundfont.Synth(samplerate=sr)
    sfid = synth.sfload(sf2)
    t, pos, blocks, onsets, last_off = 0.0, 0, [], [], 0.0

    def gen(n):
        # generate() returns a memoryview of interleaved stereo float32 samples
        blocks.append(np.frombuffer(synth.generate(n), dtype=np.float32).reshape(-1, 2).copy())

    for msg in mid:                      # merged tracks, .time in seconds through the tempo map
        t += msg.time
        n = int(round(t * sr)) - pos
        if n > 0:
            gen(n)
            pos += n
        if msg.type == "program_change":
            synth.program_select(msg.channel, sfid, 0, msg.program)
        elif msg.type == "control_change":
            synth.control_change(msg.channel, msg.control, msg.value)
        elif msg.type == "note_on" and msg.velocity > 0:
            synth.noteon(msg.channel, msg.note, msg.velocity)
            onsets.append(pos / sr)
        elif msg.type in ("note_off", "note_on"):
            synth.noteoff(msg.channel, msg.note)
            last_off = pos / sr
    gen(int(round(tail_s * sr)))
    return np.concatenate(blocks).astype(np.float64), onsets, last_off, mid


def room_reverb(y, sr, rng, rt60=1.2, wet_db=-14.0):
    """Light synthetic room: seeded exponentially decaying noise IR, low-passed, under the dry."""
    n = int(1.5 * rt60 * sr)
    t = np.arange(n) / sr
    noise = sosfilt(butter(2, 5000, fs=sr, output="sos"), rng.standard_normal(n))
    ir = noise * np.exp(-6.91 * t / rt60)                      # -60 dB at t = rt60
    ir[: int(0.012 * sr)] = 0                                  # 12 ms pre-delay
    ir /= np.sqrt(np.sum(ir ** 2))
    wet = fftconvolve(y, ir)[: len(y)]
    return y + 10 ** (wet_db / 20) * wet * rms(y) / max(rms(wet), 1e-12)


def midi_beats(mid, until):
    """Beat times (s) below `until`: every ticks_per_beat ticks through the tempo map."""
    tempos, tick, out = [], 0, []
    for msg in mido.merge_tracks(mid.tracks):
        tick += msg.time
        if msg.type == "set_tempo":
            tempos.append((tick, msg.tempo))
    tempos.sort()
    sec, last_tick, tempo, ti = 0.0, 0, 500000, 0
    k = 0
    while True:
        target = k * mid.ticks_per_beat
        while ti < len(tempos) and tempos[ti][0] <= target:
            sec += (tempos[ti][0] - last_tick) * tempo / 1e6 / mid.ticks_per_beat
            last_tick, tempo = tempos[ti]
            ti += 1
        tsec = sec + (target - last_tick) * tempo / 1e6 / mid.ticks_per_beat
        if tsec >= until:
            return out
        out.append(tsec)
        k += 1


# ------------------------------------------------------------------------------------------
# 3. voice


# (file in <eval>/speech, pause in s before its first word: from the previous utterance's last
# word, or for the first one the absolute time of its first word)
UTTERANCES = [
    ("librivox_0870", 8.60),
    ("ktuberling_seq08", 1.60),
    ("librivox_0880", 0.55),
    ("ktuberling_seq01", 2.20),
    ("librivox_0890", 6.50),
    ("ktuberling_seq04", 0.90),
    ("librivox_0920", 4.80),
    ("ktuberling_seq10", 0.45),
    ("librivox_0930", 3.20),
    ("ktuberling_seq02", 1.30),
]


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def r3(x):
    return float(round(x + 0.0, 3))


def gaps_from_words(words, min_gap=MIN_GAP):
    """As in the eval set: [word_i.end, word_{i+1}.start] when >= 0.100 s, on the rounded times."""
    ws = sorted(words, key=lambda w: w["start"])
    gaps = []
    for a, b in zip(ws, ws[1:]):
        s, e = r3(a["end"]), r3(b["start"])
        if round(e - s, 3) >= min_gap - 1e-9:
            gaps.append({"start": s, "end": e})
    return gaps


def word_mask(words, n, sr):
    m = np.zeros(n, bool)
    for w in words:
        m[int(round(w["start"] * sr)):int(round(w["end"] * sr))] = True
    return m


def load_utterance(eval_dir, stem):
    """Trimmed speech at 48 kHz, its words (times relative to the trimmed start), labels."""
    wav = os.path.join(eval_dir, "speech", stem + ".wav")
    lab = json.load(open(os.path.join(eval_dir, "speech", stem + ".json")))
    y, sr = sf.read(wav, dtype="float64")
    assert sr == SPEECH_SR and y.ndim == 1, (wav, sr, y.shape)
    w0, w1 = lab["words"][0]["start"], lab["words"][-1]["end"]
    a = max(0, int(round((w0 - KEEP_BEFORE) * 1000)))            # trim on whole ms
    b = min(len(y) * 1000 // sr, int(round((w1 + KEEP_AFTER) * 1000)))
    seg = y[a * sr // 1000: b * sr // 1000].copy()
    nf = int(EDGE_FADE * sr)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(nf) / nf)
    if a > 0:
        seg[:nf] *= ramp
    if b * sr // 1000 < len(y):
        seg[-nf:] *= ramp[::-1]
    seg48 = resample_poly(seg, SR // SPEECH_SR, 1)
    words = [{"start": w["start"] - a / 1000, "end": w["end"] - a / 1000, "text": w["text"]}
             for w in lab["words"]]
    return seg48, words, lab, a / 1000


def limiter_gain(x, thr, sr, window_s=0.040):
    """Gain of a smooth look-ahead peak limiter: |x * gain| <= thr, gain 1 where x is below.

    The needed gain reduction (dB) is spread by a centred maximum filter of window_s and then
    smoothed by a Hann window half as long, so the smoothed reduction is never less than what
    any sample needs; attack and release are about window_s / 2.
    """
    need = np.maximum(0.0, 20 * np.log10(np.maximum(np.abs(x), 1e-12) / thr))
    w = int(window_s * sr) | 1
    held = maximum_filter1d(need, size=w, mode="constant")
    k = np.hanning(w // 2 | 1)
    red = np.convolve(held, k / k.sum(), "same")
    return 10 ** (-red / 20)


def place_voice(eval_dir, music, trim_db=None):
    """Voice track (same length as music), words in piece time, utterance table.

    Each utterance's gain puts it SNR_DB above the music under its words (RMS over the samples
    inside its labelled words), plus trim_db[i] dB (a correction for the final peak limiter).
    """
    voice = np.zeros_like(music)
    words, utts = [], []
    prev_end = None
    for i, (stem, pause) in enumerate(UTTERANCES):
        seg, w, lab, trimmed = load_utterance(eval_dir, stem)
        first = pause if prev_end is None else prev_end + pause
        off_ms = int(round((first - w[0]["start"]) * 1000))          # whole ms: exact at 48 kHz
        off = off_ms / 1000
        i0 = off_ms * SR // 1000
        assert i0 + len(seg) <= len(music), "utterance runs past the music"
        if utts:
            assert off >= utts[-1]["end"], "utterances overlap"
        pw = [{"start": x["start"] + off, "end": x["end"] + off, "text": x["text"]} for x in w]
        # gain: voice-to-music RMS ratio over this utterance's words = SNR_DB
        m = word_mask(w, len(seg), SR)
        g = rms(music[i0:i0 + len(seg)][m]) * 10 ** (SNR_DB / 20) / rms(seg[m])
        if trim_db is not None:
            g *= 10 ** (trim_db[i] / 20)
        voice[i0:i0 + len(seg)] += g * seg
        words += pw
        utts.append({"file": "speech/" + stem + ".wav", "start": r3(off), "end": r3(off + len(seg) / SR),
                     "offset": r3(off - trimmed), "license": lab["license"],
                     "i0": i0, "n": len(seg), "mask": m})
        prev_end = pw[-1]["end"]
    return voice, words, utts


# ------------------------------------------------------------------------------------------
# 4. assembly


def build(out_dir, sf2, eval_dir, verbose=True):
    rng = np.random.default_rng(SEED)
    os.makedirs(out_dir, exist_ok=True)
    notes, bpm = compose(rng)
    mid_path = os.path.join(out_dir, NAME + ".mid")
    write_midi(mid_path, notes, bpm)
    st, onsets, last_off, mid = render_midi(mid_path, sf2)
    music = st.mean(axis=1)
    music = room_reverb(music, SR, rng)
    nf = int(1.0 * SR)                                        # the last second of the tail fades out
    music[-nf:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(nf) / nf)
    music *= 10 ** (-26 / 20) / rms(music)

    # loudness: -20 dBFS RMS, then a smooth peak limiter keeps the peak at -1 dBFS. It acts on a
    # few speech peaks only, with the same gain on voice and music; because it lowers the voice's
    # loudest moments it lowers the ratio over the words a little, so two correction passes
    # restore each utterance's ratio to SNR_DB.
    trim = np.zeros(len(UTTERANCES))
    for _ in range(3):
        voice, words, utts = place_voice(eval_dir, music, trim)
        mix = voice + music
        scale = 10 ** (TARGET_RMS_DB / 20) / rms(mix)
        gain = scale * limiter_gain(mix * scale, PEAK_MAX * 0.999, SR)
        for i, u in enumerate(utts):
            sl, m = slice(u["i0"], u["i0"] + u["n"]), u["mask"]
            r = 20 * np.log10(rms((voice[sl] * gain[sl])[m]) / rms((music[sl] * gain[sl])[m]))
            trim[i] += SNR_DB - r
    mix, voice, music = mix * gain, voice * gain, music * gain
    limited = float(np.mean(gain < scale * 10 ** (-0.1 / 20)))
    max_red = float(-20 * np.log10(gain.min() / scale))
    # what the 16-bit file will hold
    q = np.clip(np.round(mix * 32767), -32768, 32767) / 32767
    flac = os.path.join(out_dir, NAME + ".flac")
    sf.write(flac, q, SR, subtype="PCM_16", format="FLAC")

    wl = [{"start": r3(w["start"]), "end": r3(w["end"]), "text": w["text"]} for w in words]
    m = word_mask(wl, len(mix), SR)
    ratio = 20 * np.log10(rms(voice[m]) / rms(music[m]))
    n_kt = sum("ktuberling" in u["file"] for u in utts)
    lab = {
        "audio": NAME + ".flac", "sr": SR, "duration": r3(len(mix) / SR), "kind": "mix",
        "source": (
            "original composition generated by tools/make_rehearsal_audio.py (seed %d): %s.mid "
            "(nylon guitar GM 24, piano GM 0, warm pad GM 89; 4/4, about 72 BPM with a slight "
            "rubato and a closing ritardando) rendered at 48 kHz with tinysoundfont and "
            "FluidR3_GM.sf2 (Debian fluid-soundfont-gm), mixed to mono, synthetic room reverb "
            "(RT60 1.2 s, -14 dB wet); voice: %d LibriVox utterances and %d KTuberling word "
            "sequences from the eval set (shared/eval/speech), edges trimmed, 16->48 kHz, each at "
            "+%.0f dB voice-to-music over its words; normalised to -20 dBFS RMS, smooth peak "
            "limiter at -1 dBFS"
            % (SEED, NAME, len(utts) - n_kt, n_kt, SNR_DB)),
        "license": (
            "GPL-2+ as a whole, because it contains KTuberling recordings (Debian ktuberling-data, "
            "GPL-2+); parts: composition, MIDI and rendering CC0-1.0 (original to this project); "
            "FluidR3_GM soundfont MIT; LibriVox recordings public domain"),
        "words": wl,
        "gaps": gaps_from_words(wl),
        "onsets": [r3(t) for t in merge_times(onsets, 0.030)],
        "beats": [r3(t) for t in midi_beats(mid, until=last_off - 1e-3)],
        "utterances": [{"file": u["file"], "start": u["start"], "end": u["end"], "offset": u["offset"]}
                       for u in utts],
    }
    with open(os.path.join(out_dir, NAME + ".json"), "w") as fh:
        json.dump(lab, fh, indent=1)
        fh.write("\n")
    if verbose:
        print(f"wrote {flac}: {len(mix) / SR:.3f} s, peak {np.abs(q).max():.3f}, "
              f"RMS {20 * np.log10(rms(q)):.2f} dBFS, voice/music over words {ratio:+.2f} dB, "
              f"{len(wl)} words, {len(lab['gaps'])} gaps, {len(lab['onsets'])} onsets, "
              f"last note-off {last_off:.2f} s; limiter: {100 * limited:.2f} % of samples reduced "
              f"by > 0.1 dB, at most {max_red:.1f} dB")
    return lab, mix, voice, music


def merge_times(times, tol=0.030):
    """Sorted times with clusters closer than tol (s) merged to their first member."""
    out = []
    for t in sorted(times):
        if not out or t - out[-1] >= tol:
            out.append(t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "audio"), help="output folder (default: audio/)")
    ap.add_argument("--soundfont", default=DEFAULT_SF2, help=f"FluidR3_GM.sf2 (default: {DEFAULT_SF2})")
    ap.add_argument("--eval", default=os.path.normpath(os.path.join(REPO, "..", "shared", "eval")),
                    help="evaluation set folder holding speech/ (default: ../shared/eval from the repo root)")
    a = ap.parse_args()
    build(a.out, a.soundfont, a.eval)


if __name__ == "__main__":
    main()
