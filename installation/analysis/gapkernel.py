"""The gap detector's compiled kernel: the voice likelihood and the word/gap decisions.

Everything the detector computes per block runs here, in one numba call per block live
(about 2.5 µs with the call) or one per file offline, so the live and offline paths are the
same code.
:mod:`~installation.analysis.voicemodel` owns the likelihood's weights and state,
:mod:`~installation.analysis.gaps` the decisions' settings and the readable state; this
module holds only their arithmetic and the layout of their arrays. It is one module on
purpose: numba's disk cache checks only the file of the function it compiled, so a kernel
that called into another module's compiled code could load a stale copy of it.

The likelihood (:func:`voice_block`) reads the short band levels of a tap row, the
voicing and the onset strength, computes the cues of ``FAMILY_FEATURES`` (see voicemodel)
and runs the network. The decisions (:func:`decide`) smooth the likelihood, run the
hysteresis state machine and back-date boundaries (see
:class:`~installation.analysis.gaps.GapDetector`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from installation.analysis.taps import TAP_INDEX

# Bands, in the order of the features: whole (~10 ms window), < 250 Hz, then octaves
# 250-500, 500-1k, 1-2k, 2-4k, and > 4 kHz; and where each sits in a tap row.
BANDS = ("fast", "low", "b250", "b500", "b1k", "b2k", "air")
N_BANDS = len(BANDS)
BAND_TAPS = np.array([TAP_INDEX[f"{b}_ms"] for b in BANDS], dtype=np.int64)
# The partial meter's cues (analysis.partials: "fresh" ... "fresh_db"), after the bands'.
FINE_TAPS = np.arange(TAP_INDEX["fresh"], TAP_INDEX["fresh_db"] + 1, dtype=np.int64)
# What the floor gate averages per band: the band meter's block means (every sample of each
# block, so the blocks of its span cover it without a hole at any rate), and the low band's
# own level, whose window (21 ms) already spans a mains period.
GATE_TAPS = np.array([TAP_INDEX["low_ms" if b == "low" else f"{b}_blk"] for b in BANDS],
                     dtype=np.int64)
UNTRACKED_FLOOR_DB = -100.0  # what a band's floor reads before its first segment closes
# Each band is also measured against the median segment of the same window (its typical
# level: under a song, mostly the music's), beside its floor (the quietest segment).
REF_QUANTILE = 0.5

# --- the likelihood's arrays ---
# consts[]
(C_BO, C_MUSIC, C_ABS, C_WINDOW, C_SEGMENT, C_FIXED, C_RELEASE, C_FLUX_LAG,
 C_GATE_BLOCKS, C_NET_LAG) = range(10)
N_CONSTS = 10
# Spectral flux compares each band with its level FLUX_SPAN_SAMPLES ago (at the engine
# rate): the block the models were fitted with. At that block size it is the previous
# block; with smaller blocks, as many blocks back as make the same span (a 4 ms block's
# change is not a 16 ms block's, and a model fitted on one misreads the other).
FLUX_SPAN_SAMPLES = 256
MAX_FLUX_LAG = 8
# The floor gate reads each band's mean power over the last GATE_SPAN_S or more (as many
# whole blocks as cover it, at most MAX_GATE_BLOCKS): one period of 50 Hz mains, so a hum's
# beating averages out of it and only what stands over the floor for that long counts.
GATE_SPAN_S = 0.02
MAX_GATE_BLOCKS = 32
# state[]: per band (power, blocks, start, floor, head, count, median, and the gate's
# own power and floor: what it reads, summed and floored the same way), then the last
# MAX_FLUX_LAG blocks' band dB (a ring of rows), the ring's head, how many blocks were seen
# (up to MAX_FLUX_LAG), the music voicing average, each band's peak follower (dB), the
# gate's ring of the last blocks' band powers, its head, the highest band mean over its
# floor (dB, what the floor gate reads), the blocks since the network stepped and its last
# logit, then the network's recurrent state and scratch (float32, ``network_slots``).
BAND_FIELDS = _F = 9
RING_FIELDS = 3  # a closed segment's (time, mean dB, the gate's mean dB)
S_PREV = N_BANDS * _F
S_FLUX_HEAD = S_PREV + N_BANDS * MAX_FLUX_LAG
S_SEEN = S_FLUX_HEAD + 1
S_MUSIC = S_SEEN + 1
S_PEAK = S_MUSIC + 1
S_BOX = S_PEAK + N_BANDS
S_BOX_HEAD = S_BOX + N_BANDS * MAX_GATE_BLOCKS
S_TOP = S_BOX_HEAD + 1
S_LEVEL = S_TOP + 1  # the whole band's short level (dBFS)
S_STEP = S_LEVEL + 1  # blocks since the network last stepped
S_Z = S_STEP + 1  # its last logit
S_NET = S_Z + 1

# --- the decisions' arrays ---
# params[] (seconds, likelihoods, dB)
(P_BLOCK, P_LAG, P_ON, P_OFF, P_SMOOTH, P_WORD_MIN, P_CONFIRM, P_GAP_MIN, P_RATE_WINDOW,
 P_FOOT, P_FOOT_MAX, P_FALL, P_MASK_DB, P_RISE_DB_S, P_TAIL_MASK_DB, P_DECAY_DB_S,
 P_PRIOR_GAP, P_PRIOR_WEIGHT, P_GATE_DB, P_GATE_HOLD, P_GATE_SPAN, P_TAIL_HOLD,
 P_TAIL_FLOOR_DB, P_PRIOR_SPREAD) = range(24)
N_PARAMS = 24
# state[]: first what a feature frame carries, in its order (voice ... word_duration)
OUT = ("voice", "gap_s", "word_start", "word_end", "gap_start", "gap_end",
       "gap_start_time", "gap_emit_time", "gap_duration", "gap_depth", "gap_expected",
       "speech_rate", "word_duration")  # the FeatureFrame fields they fill
N_OUT = len(OUT)
(D_SPEAKING, D_GAP_ELAPSED, D_WORD_STARTED, D_WORD_ENDED, D_GAP_STARTED, D_GAP_ENDED,
 D_GAP_START_OUT, D_GAP_EMITTED_OUT, D_GAP_DURATION, D_GAP_DEPTH, D_EXPECTED_GAP,
 D_RATE_WPM, D_WORD_DURATION) = range(N_OUT)
# then the rest of the state
(D_LIKELIHOOD, D_WORD_START, D_WORD_END, D_GAP_START, D_GAP_EMITTED, D_IN_GAP, D_WORDS,
 D_P, D_VOICED, D_RUN_START, D_ONSET, D_FOOT, D_FALL, D_RUN_SNR, D_WORD_SNR,
 D_QUIET_START, D_RG_HEAD, D_RG_COUNT, D_WT_HEAD, D_WT_COUNT, D_GATE_START, D_RUN_PEAK,
 D_WORD_PEAK, D_TAIL, D_TAIL_OPEN, D_PAUSE_MU, D_PAUSE_SIGMA) = range(N_OUT, N_OUT + 27)
assert D_RG_COUNT == D_RG_HEAD + 1 and D_WT_COUNT == D_WT_HEAD + 1  # as _ring_push reads them
D_RECENT = N_OUT + 27  # the last RECENT_GAPS pauses (s), a ring
RECENT_GAPS = 8
D_WORD_TIMES = D_RECENT + RECENT_GAPS  # word start times in the rate window, a ring


def decision_state(word_ring: int) -> np.ndarray:
    """A fresh decision state with room for ``word_ring`` word times."""
    s = np.zeros(D_WORD_TIMES + word_ring)
    for i in (D_WORD_START, D_GAP_START, D_GAP_EMITTED, D_RUN_START, D_ONSET, D_FOOT,
              D_FALL, D_GATE_START, D_TAIL):
        s[i] = math.nan
    s[D_RUN_PEAK] = s[D_WORD_PEAK] = -math.inf
    s[D_GAP_DEPTH] = 1.0
    return s


@njit(cache=True, nogil=True)
def _db(ms: float) -> float:
    return 10.0 * math.log10(ms) if ms > 1e-12 else -120.0


# The network's arithmetic runs in float32 and lets the compiler vectorise it: numba's
# division checks for a zero divisor (error_model="numpy" drops that branch), and strict
# IEEE order forbids reordering a sum. These fast-math flags allow reassociation,
# contraction into fused multiply-adds and approximate reciprocals and functions, but not
# "no NaNs" or "no infinities", so a comparison still means what it says. Together with
# the rational tanh below: the network's step in 1.5 µs instead of 2.8 (3 x 24 units).
_FAST = {"reassoc", "contract", "arcp", "nsz", "afn"}
_TANH_CLAMP = np.float32(7.90531110763549805)  # tanh there is 1 - 3e-7 (float32: 1)
# tanh(v) ~ v p(v^2) / q(v^2) on [-clamp, clamp]: Eigen's float32 approximation (a few
# units in the last place), branch-free, so a loop of them vectorises (math.tanh does not).
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (np.float32(c) for c in (
    -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
    5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
    4.89352455891786e-03))
_Q0, _Q1, _Q2, _Q3 = (np.float32(c) for c in (
    1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
    4.89352518554385e-03))


@njit(cache=True, nogil=True, inline="always", fastmath=_FAST, error_model="numpy")
def _tanh(v):
    """tanh of a float32, vectorisable (see ``_P0``)."""
    v = min(max(v, -_TANH_CLAMP), _TANH_CLAMP)
    v2 = v * v
    p = (((((_P0 * v2 + _P1) * v2 + _P2) * v2 + _P3) * v2 + _P4) * v2 + _P5) * v2 + _P6
    q = ((_Q0 * v2 + _Q1) * v2 + _Q2) * v2 + _Q3
    return v * p / q


def network_slots(members: int, hidden: int) -> int:
    """How many float64 slots of the state the network takes from ``S_NET``: its units'
    state, then scratch for the input and the recurrent projections, all float32."""
    return (members * hidden + 2 * members * 3 * hidden + 1) // 2


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _gates(hs, acc, gh, wo, bo, members, h) -> float:
    """The members' gates over their projections ``acc`` (input) and ``gh`` (recurrent):
    the new state into ``hs``; the members' mean logit."""
    g = 3 * h
    half = np.float32(0.5)
    z = bo
    for e in range(members):
        a = e * g
        for j in range(h):
            # sigmoid(v) = (1 + tanh(v / 2)) / 2
            r = half + half * _tanh(half * (acc[a + j] + gh[a + j]))
            u = half + half * _tanh(half * (acc[a + h + j] + gh[a + h + j]))
            n = _tanh(acc[a + 2 * h + j] + r * gh[a + 2 * h + j])
            v = n + u * (hs[e * h + j] - n)
            hs[e * h + j] = v
            z += v * wo[e * h + j]
    return z


@njit(cache=True, nogil=True, fastmath=_FAST, error_model="numpy")
def _network(net, wx, bx, wh, bh, wo, bo, x) -> float:
    """One step of the voice network over the cues ``x``: the members' mean logit.
    ``net`` is the state from ``S_NET`` (``network_slots``), read as float32."""
    # The network: members of gated recurrent units (GRU: reset r, update u, candidate n)
    # over the cues, their output logits averaged. Each product runs in one pass over
    # contiguous weight rows, the gates in their own function (in one, the compiler gave
    # up vectorising them: 2.2 µs a step instead of 1.5): every loop vectorises.
    members = wh.shape[0]
    h = wh.shape[1]
    g = 3 * h
    m = members * g
    f32 = net.view(np.float32)
    hs = f32[:members * h]
    acc = f32[members * h:members * h + m]
    gh = f32[members * h + m:members * h + 2 * m]
    for k in range(m):
        acc[k] = bx[k]
    for i in range(wx.shape[0]):
        xi = np.float32(x[i])
        for k in range(m):
            acc[k] += xi * wx[i, k]
    for k in range(m):
        gh[k] = bh[k]
    for e in range(members):
        for j in range(h):
            hj = hs[e * h + j]
            for k in range(g):
                gh[e * g + k] += hj * wh[e, j, k]
    return _gates(hs, acc, gh, wo, bo, members, h)


@njit(cache=True, nogil=True, inline="always")
def _power(ms: float) -> float:
    """A tap's mean square, sane: NaN, inf or a negative rounding error from a tap reads 0,
    anything over 1e6 reads 1e6 (an inf kept in the peak follower stays)."""
    if not 0.0 <= ms <= 1e6:
        return 1e6 if ms > 1e6 else 0.0
    return ms


@njit(cache=True, nogil=True, inline="always")
def _floor(tracked: float, band: int, fixed: float) -> float:
    """The floor a band is measured over (dB): the whole band's as the show set it, if it
    did (``fixed`` not NaN); else the tracked one, or UNTRACKED_FLOOR_DB before its first
    segment closes."""
    if band == 0 and fixed == fixed:
        return fixed
    return UNTRACKED_FLOOR_DB if tracked == np.inf else tracked


@njit(cache=True, nogil=True)
def voice_block(state, ring, wx, bx, wh, bh, wo, consts, row, t_sig, voicing, onset_db,
                x) -> float:
    """One block's voice likelihood: fill ``x`` (the base features), advance the state."""
    n_bands = BAND_TAPS.shape[0]
    window = consts[C_WINDOW]
    segment = consts[C_SEGMENT]
    fixed = consts[C_FIXED]
    cap = ring.shape[1]
    flux_lag = int(consts[C_FLUX_LAG])
    flux_head = int(state[S_FLUX_HEAD])
    box_n = int(consts[C_GATE_BLOCKS])
    box_head = int(state[S_BOX_HEAD])
    top = 0.0
    whole = 0.0
    for b in range(n_bands):
        ms = _power(row[BAND_TAPS[b]])
        d = _db(ms)
        o = b * _F
        f = state[o + 3]
        g = _power(row[GATE_TAPS[b]])  # what the floor gate reads (below)
        # the floor: the quietest segment (mean power) of the last `window` s; the gate's
        # floor likewise, of its own measure
        state[o] += ms
        state[o + 7] += g
        state[o + 1] += 1.0
        if t_sig - state[o + 2] >= segment:
            head = int(state[o + 4])
            count = int(state[o + 5])
            if count == cap:  # cannot happen with the ring VoiceModel sizes; stay sane
                head = (head + 1) % cap
                count -= 1
            slot = (head + count) % cap
            ring[b, slot, 0] = t_sig
            ring[b, slot, 1] = _db(state[o] / state[o + 1])
            ring[b, slot, 2] = _db(state[o + 7] / state[o + 1])
            count += 1
            state[o + 2] = t_sig
            state[o] = 0.0
            state[o + 7] = 0.0
            state[o + 1] = 0.0
            while t_sig - ring[b, head, 0] > window:
                head = (head + 1) % cap
                count -= 1
            vals = np.empty(count)
            low = np.inf
            for k in range(count):
                vals[k] = ring[b, (head + k) % cap, 1]
                low = min(low, ring[b, (head + k) % cap, 2])
            vals.sort()
            state[o + 3] = vals[0]
            state[o + 6] = vals[int(REF_QUANTILE * (count - 1) + 0.5)]
            state[o + 8] = low
            state[o + 4] = head
            state[o + 5] = count
        f = _floor(f, b, fixed)
        ref = state[o + 6]
        rel = 0.0 if ref == np.inf else (d - ref) * 0.1
        x[4 * n_bands + 2 + b] = -3.0 if rel < -3.0 else 3.0 if rel > 3.0 else rel
        snr = d - f
        x[b] = (0.0 if snr < 0.0 else 50.0 if snr > 50.0 else snr) * 0.1
        # The floor gate: this band's mean over the last blocks, over the floor of the
        # same measure (the short windows' floor reads low where they sample a buzz's
        # ripple at 16 and 8 kHz: the mean of every sample stood 3 dB over it)
        box = S_BOX + b * MAX_GATE_BLOCKS
        state[box + box_head] = g
        mean = 0.0
        for k in range(box_n):
            mean += state[box + k]
        over = _db(mean / box_n) - _floor(state[o + 8], b, fixed)
        if over > top:
            top = over
        if b == 0:
            whole = d
        else:
            s = (d - whole) * 0.1
            x[n_bands + b - 1] = -4.0 if s < -4.0 else 0.0 if s > 0.0 else s
        started = state[S_SEEN] > 0.0
        back = S_PREV + flux_head * n_bands + b  # this band's level flux_lag blocks ago
        q = state[back] if state[S_SEEN] >= flux_lag else d
        flux = abs(d - q) * 0.1
        x[2 * n_bands - 1 + b] = 2.0 if flux > 2.0 else flux
        state[back] = d
        peak = state[S_PEAK + b] - consts[C_RELEASE] if started else d
        if d > peak:
            peak = d
        state[S_PEAK + b] = peak
        drop = (d - peak) * 0.1
        x[3 * n_bands + 2 + b] = -3.0 if drop < -3.0 else drop
    state[S_FLUX_HEAD] = (flux_head + 1) % flux_lag
    state[S_BOX_HEAD] = (box_head + 1) % box_n
    state[S_TOP] = top
    state[S_LEVEL] = whole
    if state[S_SEEN] < MAX_FLUX_LAG:
        state[S_SEEN] += 1.0
    # A NaN from upstream (pyo has sent one in a tap) must not stay in the averages.
    if voicing != voicing:
        voicing = 0.0
    if onset_db != onset_db:
        onset_db = 0.0
    music = state[S_MUSIC] + consts[C_MUSIC] * (voicing - state[S_MUSIC])
    state[S_MUSIC] = music
    base = 3 * n_bands - 1
    x[base] = voicing
    x[base + 1] = (30.0 if onset_db > 30.0 else onset_db) * 0.1
    x[base + 2] = music - voicing
    # the fine-resolution cues (analysis.partials), as measured (already level-free), for
    # a model that reads them (voicemodel.FAMILY_FEATURES: its features follow the base)
    for i in range(x.shape[0] - (5 * n_bands + 2)):
        v = row[FINE_TAPS[i]]
        x[5 * n_bands + 2 + i] = v if -10.0 <= v <= 10.0 else 0.0
    # The network steps once per the model's step span (voicemodel.net_lag: every block,
    # or every n-th), so its units' memory spans the same time at any block size (it
    # steps per call, not per second); between steps its last logit holds.
    step = state[S_STEP] + 1.0
    if step >= consts[C_NET_LAG]:
        state[S_Z] = _network(state[S_NET:], wx, bx, wh, bh, wo, consts[C_BO], x)
        step = 0.0
    state[S_STEP] = step
    z = state[S_Z]
    if z <= -40.0 or whole < consts[C_ABS]:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


@njit(cache=True, nogil=True)
def voice_many(state, ring, wx, bx, wh, bh, wo, consts, rows, t_sig, voicing, onset_db,
               out_p, out_x):
    keep = out_x.shape[0] == rows.shape[0]
    x = np.empty(out_x.shape[1])
    for i in range(rows.shape[0]):
        out_p[i] = voice_block(state, ring, wx, bx, wh, bh, wo, consts, rows[i], t_sig[i],
                               voicing[i], onset_db[i], x)
        if keep:
            out_x[i] = x


# --- how long a pause lasts ---
# A speaker's pauses are taken as log-normal: ln(pause) ~ N(mu, sigma^2), mu the log-mean
# of the recent pauses and sigma their spread around it, each shrunk toward a prior that
# counts as P_PRIOR_WEIGHT pauses (few pauses say little; many say more).
@njit(cache=True, nogil=True)
def pause_law(prm, s) -> tuple[float, float]:
    """(mu, sigma) of the pause law from the recent pauses."""
    n = int(s[D_RG_COUNT])
    head = int(s[D_RG_HEAD])
    w = prm[P_PRIOR_WEIGHT]
    total = w * math.log(prm[P_PRIOR_GAP])
    for k in range(n):
        total += math.log(s[D_RECENT + (head + k) % RECENT_GAPS])
    mu = total / (w + n)
    spread = w * prm[P_PRIOR_SPREAD] * prm[P_PRIOR_SPREAD]
    for k in range(n):
        d = math.log(s[D_RECENT + (head + k) % RECENT_GAPS]) - mu
        spread += d * d
    return mu, math.sqrt(spread / (w + n))


@njit(cache=True, nogil=True)
def learn_pauses(prm, s) -> None:
    """Refit the pause law to the recent pauses; the next pause is expected to last its
    median."""
    mu, sigma = pause_law(prm, s)
    s[D_PAUSE_MU] = mu
    s[D_PAUSE_SIGMA] = sigma
    s[D_EXPECTED_GAP] = math.exp(mu)


# The standard normal's quantile (Acklam's rational approximation, relative error 1.2e-9,
# then one Halley step on erfc: to about 1e-15), on its lower half.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)
_TAIL_P = 0.02425
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@njit(cache=True, nogil=True)
def norm_ppf_low(p: float) -> float:
    """x with P(N(0, 1) < x) = p, for 0 < p <= 0.5."""
    if p < _TAIL_P:
        q = math.sqrt(-2.0 * math.log(p))
        x = ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    else:
        q = p - 0.5
        r = q * q
        x = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
             / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    e = 0.5 * math.erfc(-x / _SQRT2) - p
    u = e * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@njit(cache=True, nogil=True)
def expected_pause(mu: float, sigma: float, elapsed: float) -> float:
    """How long a pause that has lasted ``elapsed`` s will last in all, under the pause
    law: the length it outlasts with probability one half, given that it outlasted
    ``elapsed`` (the law's median exp(mu) while ``elapsed`` is 0). Always over
    ``elapsed``: the longer a pause has gone on, the longer it is likely to go on."""
    if elapsed <= 0.0:
        return math.exp(mu)
    z = (math.log(elapsed) - mu) / sigma
    if z > 30.0:
        # The normal tail Q(z) ~ phi(z) / z halves over ln 2 / z (and Q underflows soon).
        return math.exp(mu + sigma * (z + math.log(2.0) / z))
    # Q(z_m) = Q(z) / 2: z_m = -ppf(Q(z) / 2)
    return math.exp(mu - sigma * norm_ppf_low(0.25 * math.erfc(z / _SQRT2)))


@njit(cache=True, nogil=True, inline="always")
def _ring_push(s, data: int, cap: int, head_at: int, value: float) -> None:
    """Append ``value`` to the ring of ``cap`` slots at ``s[data:]`` whose head and count
    are ``s[head_at]`` and ``s[head_at + 1]``; when it is full, forget the oldest."""
    head = int(s[head_at])
    n = int(s[head_at + 1])
    if n == cap:
        head = (head + 1) % cap
        n -= 1
    s[data + (head + n) % cap] = value
    s[head_at] = head
    s[head_at + 1] = n + 1


@njit(cache=True, nogil=True)
def _end_gap(prm, s, end: float) -> None:
    s[D_IN_GAP] = 0.0
    s[D_GAP_ENDED] = 1.0
    duration = end - s[D_GAP_START]
    s[D_GAP_DURATION] = duration
    if duration > prm[P_RATE_WINDOW]:
        # Longer than the speaking rate's window (whose rate has fallen to 0): the end of
        # a turn, not a pause in its rhythm (a night's closure, a room left empty). The
        # law starts again from its prior: the next voice may be another visitor's, and
        # one pause of hours would stretch the next eight pauses' expected lengths.
        s[D_RG_HEAD] = 0.0
        s[D_RG_COUNT] = 0.0
    elif duration >= prm[P_GAP_MIN]:
        _ring_push(s, D_RECENT, RECENT_GAPS, D_RG_HEAD, duration)
    learn_pauses(prm, s)


@njit(cache=True, nogil=True)
def decide(prm, s, time: float, p: float, snr_db: float, top_db: float,
           level_db: float) -> None:
    """One block's decisions from its voice likelihood ``p``, whole-band level over its
    floor ``snr_db`` and the highest of the bands' levels over their floors ``top_db``,
    for the block ending at ``time`` (s); ``level_db`` is the whole band's short level
    (dBFS; NaN: unknown, no tail is followed)."""
    t_sig = time - prm[P_LAG]
    # A likelihood that crossed a threshold on this block crossed it somewhere within it:
    # boundaries go to the middle of the block (a whole block early was 5-16 ms early on
    # clean speech at 48 and 16 kHz; bench/cv_gaps.py).
    edge = 0.5 * prm[P_BLOCK]
    if p != p:  # never let a NaN into the smoothed likelihood: it would stay there
        p = 0.0
    # The floor gate: when no band's mean over the last GATE_SPAN_S has stood gate_db over
    # its floor for gate_hold_s, there is nothing but the room, whatever the network hears
    # in its ripple (a hum's beating harmonics read as a changing spectrum). The quiet goes
    # back to where it began: the means' span before they fell.
    if top_db >= prm[P_GATE_DB]:
        s[D_GATE_START] = math.nan
    elif s[D_GATE_START] != s[D_GATE_START]:
        s[D_GATE_START] = t_sig - edge
    if t_sig - s[D_GATE_START] >= prm[P_GATE_HOLD]:  # (False while it is nan)
        p = 0.0
        if s[D_FALL] != s[D_FALL]:
            s[D_FALL] = s[D_GATE_START] - prm[P_GATE_SPAN]
    if snr_db > s[D_RUN_SNR]:
        s[D_RUN_SNR] = snr_db
    if snr_db > s[D_WORD_SNR]:
        s[D_WORD_SNR] = snr_db
    if level_db > s[D_RUN_PEAK]:
        s[D_RUN_PEAK] = level_db
    if level_db > s[D_WORD_PEAK]:
        s[D_WORD_PEAK] = level_db
    # A word's tail lasts while its level stands within tail_mask_db of its peak (as the
    # labels' -40 dB re the sample peak, and ears in a quiet room, hear it) and
    # tail_floor_db over its floor (a floor's short windows ripple that far over its
    # quietest segment), from the voice the network hears until the level first stays
    # under that for tail_hold_s (a shorter dip is the short window's own ripple; what
    # rises after is not the word's): D_TAIL is the end of the last short window over it,
    # give or take half a block.
    if p >= prm[P_FALL]:
        s[D_TAIL_OPEN] = 1.0
    if s[D_TAIL_OPEN] > 0.0:
        if level_db >= s[D_WORD_PEAK] - prm[P_TAIL_MASK_DB] and snr_db >= prm[P_TAIL_FLOOR_DB]:
            s[D_TAIL] = time + edge
        elif p < prm[P_FALL] and time + edge - s[D_TAIL] >= prm[P_TAIL_HOLD]:
            s[D_TAIL_OPEN] = 0.0
    if p < prm[P_FOOT]:
        s[D_FOOT] = math.nan
    elif s[D_FOOT] != s[D_FOOT]:  # nan: the raw likelihood climbs through the foot
        s[D_FOOT] = t_sig - edge
    if p >= prm[P_FALL]:
        s[D_FALL] = math.nan
    elif s[D_FALL] != s[D_FALL]:
        s[D_FALL] = t_sig - edge
    s[D_LIKELIHOOD] = p
    smooth = s[D_P] + prm[P_SMOOTH] * (p - s[D_P])
    s[D_P] = smooth
    s[D_GAP_DEPTH] = 1.0 - smooth
    s[D_WORD_STARTED] = 0.0
    s[D_WORD_ENDED] = 0.0
    s[D_GAP_STARTED] = 0.0
    s[D_GAP_ENDED] = 0.0
    was_voiced = s[D_VOICED] > 0.0
    speaking = s[D_SPEAKING] > 0.0
    voiced = smooth >= (prm[P_OFF] if was_voiced else prm[P_ON])
    if voiced and not was_voiced and not (
            # A dip shorter than the confirmation time does not break a word still being
            # confirmed, just as it does not end one.
            not speaking and s[D_RUN_START] > s[D_WORD_END]
            and t_sig - edge - s[D_QUIET_START] < prm[P_CONFIRM]):
        run_start = t_sig - edge
        s[D_RUN_START] = run_start
        s[D_RUN_SNR] = 0.0
        s[D_RUN_PEAK] = level_db
        foot = s[D_FOOT]
        s[D_ONSET] = foot if run_start - prm[P_FOOT_MAX] <= foot else run_start
    if was_voiced and not voiced:
        quiet = t_sig - edge
        fall = s[D_FALL]
        if quiet - prm[P_FOOT_MAX] <= fall < quiet:
            quiet = fall
        s[D_QUIET_START] = quiet
    s[D_VOICED] = 1.0 if voiced else 0.0
    if voiced:
        if not speaking and t_sig - s[D_RUN_START] >= prm[P_WORD_MIN]:
            start = s[D_ONSET]
            if prm[P_RISE_DB_S] > 0.0 and s[D_RUN_SNR] < prm[P_MASK_DB]:
                start -= (prm[P_MASK_DB] - s[D_RUN_SNR]) / prm[P_RISE_DB_S]
            if s[D_WORDS] > 0.0 and s[D_WORD_END] > start:
                start = s[D_WORD_END]
            if s[D_IN_GAP] > 0.0:
                _end_gap(prm, s, start)
            speaking = True
            s[D_WORD_SNR] = s[D_RUN_SNR]
            s[D_WORD_PEAK] = s[D_RUN_PEAK]
            s[D_WORD_STARTED] = 1.0
            s[D_WORD_START] = start
            s[D_WORDS] += 1.0
            _ring_push(s, D_WORD_TIMES, s.shape[0] - D_WORD_TIMES, D_WT_HEAD, start)
    # A quiet is confirmed on the block whose end lies nearest gap_confirm_s after it
    # began, not on the first block past that: waiting for it cost up to a whole block
    # (8 kHz, 32 ms blocks: emission delays of 85 ms instead of 54). It is the dip test
    # above, measured to the middle of the next block.
    elif speaking and t_sig - s[D_QUIET_START] >= prm[P_CONFIRM] - edge:
        speaking = False
        s[D_WORD_ENDED] = 1.0
        end = s[D_QUIET_START]
        if prm[P_DECAY_DB_S] > 0.0 and s[D_WORD_SNR] < prm[P_TAIL_MASK_DB]:
            end = min(end + (prm[P_TAIL_MASK_DB] - s[D_WORD_SNR]) / prm[P_DECAY_DB_S],
                      t_sig - edge)
        elif end < s[D_TAIL] < time:
            # The tail stood clear of the floor: the word ends where its level fell, if it
            # has (a level still up now is a room's reverberation, not the word).
            end = s[D_TAIL]
        if end < s[D_WORD_START]:
            end = s[D_WORD_START]
        s[D_WORD_END] = end
        s[D_WORD_DURATION] = end - s[D_WORD_START]
        if s[D_WORDS] > 0.0:
            s[D_IN_GAP] = 1.0
            s[D_GAP_STARTED] = 1.0
            s[D_GAP_START] = end
            s[D_GAP_EMITTED] = time
    s[D_SPEAKING] = 1.0 if speaking else 0.0
    s[D_GAP_ELAPSED] = 0.0 if speaking else max(0.0, t_sig - s[D_WORD_END])
    if s[D_IN_GAP] > 0.0:  # how long this pause will last, given how long it has
        s[D_EXPECTED_GAP] = expected_pause(s[D_PAUSE_MU], s[D_PAUSE_SIGMA],
                                           s[D_GAP_ELAPSED])
    cap = s.shape[0] - D_WORD_TIMES
    head = int(s[D_WT_HEAD])
    n = int(s[D_WT_COUNT])
    while n > 0 and t_sig - s[D_WORD_TIMES + head] > prm[P_RATE_WINDOW]:
        head = (head + 1) % cap
        n -= 1
    s[D_WT_HEAD] = head
    s[D_WT_COUNT] = n
    span = min(prm[P_RATE_WINDOW], max(t_sig, 1.0))
    s[D_RATE_WPM] = 60.0 * n / span
    g = s[D_GAP_START]
    s[D_GAP_START_OUT] = g if g == g else 0.0
    e = s[D_GAP_EMITTED]
    s[D_GAP_EMITTED_OUT] = e if e == e else 0.0


# --- the whole detector in two arrays (one call per block costs less with fewer
# arguments: numba checks each one's type on every call) ---
# params[] starts with where each part lies: the likelihood's consts, the decisions'
# params, the network's bx, bh, wo, wx (inputs x members * 3 hidden) and wh (members x
# hidden x 3 hidden), and its shape; state[] holds the likelihood's state, ring and
# features, then the decision state.
(H_CONSTS, H_PRM, H_BX, H_BH, H_WO, H_WX, H_WH, H_INPUTS, H_MEMBERS, H_HIDDEN, H_RING,
 H_RING_CAP, H_X, H_D, H_END) = range(15)
N_HEADER = 15


def _pack(parts, lead: int = 0) -> tuple[np.ndarray, list[np.ndarray], list[int]]:
    """``parts`` copied into one float64 array after ``lead`` free slots: the array, views
    of it shaped like the parts, and where each part starts."""
    out = np.zeros(lead + sum(p.size for p in parts))
    views, starts, at = [], [], lead
    for p in parts:
        view = out[at:at + p.size].reshape(p.shape)
        view[...] = p
        views.append(view)
        starts.append(at)
        at += p.size
    return out, views, starts


def _as_f64(a: np.ndarray) -> np.ndarray:
    """A float32 array's values two to a float64 slot (padded to an even count)."""
    flat = np.zeros(a.size + a.size % 2, dtype=np.float32)
    flat[:a.size] = a.ravel()
    return flat.view(np.float64)


def pack_detector(consts, prm, bx, bh, wo, wx, wh, vm_state, ring, x, decisions):
    """The whole detector's ``params`` and ``state`` arrays (header filled in), and views
    of them in place of each part, in the order given: bind those instead of the
    originals, so the block-by-block and the packed calls share one state. ``wx`` and
    ``wh`` are float32: each is stored two values to a float64 slot (:func:`_unpack`
    reads them back)."""
    params, p_views, p_at = _pack((consts, prm, bx, bh, wo, _as_f64(wx), _as_f64(wh)),
                                  lead=N_HEADER)
    for i, w in ((5, wx), (6, wh)):
        p_views[i] = p_views[i].view(np.float32)[:w.size].reshape(w.shape)
    state, s_views, s_at = _pack((vm_state, ring, x, decisions))
    params[[H_CONSTS, H_PRM, H_BX, H_BH, H_WO, H_WX, H_WH]] = p_at
    params[H_INPUTS] = wx.shape[0]
    params[H_MEMBERS], params[H_HIDDEN] = wh.shape[:2]
    params[H_RING], params[H_X], params[H_D] = s_at[1:]
    params[H_RING_CAP] = ring.shape[1]
    params[H_END] = state.size
    return params, state, p_views, s_views


@njit(cache=True, nogil=True, inline="always")
def _unpack(params, state):
    c = int(params[H_CONSTS])
    consts = params[c:c + N_CONSTS]
    c = int(params[H_PRM])
    prm = params[c:c + N_PARAMS]
    members = int(params[H_MEMBERS])
    h = int(params[H_HIDDEN])
    g = members * 3 * h
    c = int(params[H_BX])
    bx = params[c:c + g]
    c = int(params[H_BH])
    bh = params[c:c + g]
    c = int(params[H_WO])
    wo = params[c:c + members * h]
    rows = int(params[H_INPUTS])
    c = int(params[H_WX])
    wx = params[c:c + (rows * g + 1) // 2].view(np.float32)[:rows * g].reshape((rows, g))
    c = int(params[H_WH])
    n = members * h * 3 * h
    wh = params[c:c + (n + 1) // 2].view(np.float32)[:n].reshape((members, h, 3 * h))
    r = int(params[H_RING])
    xo = int(params[H_X])
    cap = int(params[H_RING_CAP])
    vm = state[:r]
    ring = state[r:r + N_BANDS * cap * RING_FIELDS].reshape((N_BANDS, cap, RING_FIELDS))
    d = int(params[H_D])
    x = state[xo:d]
    s = state[d:int(params[H_END])]
    return consts, prm, bx, bh, wo, wx, wh, vm, ring, x, s


@njit(cache=True, nogil=True)
def detect_one(params, state, row, time, voicing, onset_db) -> None:
    """The whole detector on one block (live): likelihood, then decisions."""
    consts, prm, bx, bh, wo, wx, wh, vm, ring, x, s = _unpack(params, state)
    p = voice_block(vm, ring, wx, bx, wh, bh, wo, consts, row, time - prm[P_LAG], voicing,
                    onset_db, x)
    decide(prm, s, time, p, x[0] * 10.0, vm[S_TOP], vm[S_LEVEL])


@njit(cache=True, nogil=True)
def detect_many(params, state, rows, times, voicing, onset_db, out) -> None:
    """The whole detector on many blocks (offline): ``out[i]`` gets block i's frame
    values (the first ``N_OUT`` of the decision state)."""
    consts, prm, bx, bh, wo, wx, wh, vm, ring, x, s = _unpack(params, state)
    for i in range(rows.shape[0]):
        p = voice_block(vm, ring, wx, bx, wh, bh, wo, consts, rows[i],
                        times[i] - prm[P_LAG], voicing[i], onset_db[i], x)
        decide(prm, s, times[i], p, x[0] * 10.0, vm[S_TOP], vm[S_LEVEL])
        for j in range(N_OUT):
            out[i, j] = s[j]
