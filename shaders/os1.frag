/*{
    "DESCRIPTION": "OS1: a warm, breathing line of light. It gathers and swells while she speaks, ripples with plucks, and opens into soft widening strands and haze in the pauses between the words.",
    "CREDIT": "installation (after the OS1 loop in Her, 2013)",
    "CATEGORIES": ["voice", "line"],
    "INPUTS": [
        {"NAME": "line_width", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Line width"},
        {"NAME": "glow", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Glow"},
        {"NAME": "warmth", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Warmth (coral to apricot)"},
        {"NAME": "drift", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Drift speed"},
        {"NAME": "spread", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "How far the pause opens"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.0, "LABEL": "Film grain"}
    ]
}*/

#include "lib/noise.glsl"
#include "lib/palette.glsl"
#include "lib/color.glsl"

const float TAU = 6.2831853;

// Complex multiply: rotating a phasor (cos a, sin a) by (cos b, sin b) adds the angles.
// The five strands differ only by phase offsets, so each wave term costs one cos/sin per
// pixel and one rotation per strand (llvmpipe shades every pixel; trig is what costs).
vec2 cmul(vec2 a, vec2 b) { return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
vec2 phasor(float a) { return vec2(cos(a), sin(a)); }
vec2 conj2(vec2 a) { vec2 b = cmul(a, a); return vec2(b.x, -b.y); }   // conj(a^2)

void main() {
    vec2 fc = gl_FragCoord.xy;
    vec2 p = (fc - 0.5 * u_resolution) / u_resolution.y;
    float x = p.x;

    float L = u_level;
    float V = u_voice;
    float G = u_gap * (0.35 + 1.3 * p_spread);     // how far the pause has opened
    // speech sits around -35..-10 dBFS (u_level 0.4..0.85): stretch that range so
    // loudness shows clearly
    float Ls = 0.2 * L + 0.8 * smoothstep(0.35, 0.9, L);   // (still rising below -40 dB)
    float speech = V * (0.2 + 0.8 * Ls);            // how strongly she is speaking
    float music = (1.0 - V) * smoothstep(0.2, 0.85, L);   // sound without voice: the room
    float t = u_time * mix(0.35, 1.65, p_drift);

    // Ambient breath: two incommensurate slow cycles (4.7 s, 6.1 s), the first bent by a
    // 53 s one, so it never quite repeats.
    float breath = 0.5 + 0.5 * sin(TAU * u_time / 4.7 + 2.0 * sin(TAU * u_time / 53.0));
    breath = mix(breath, 0.5 + 0.5 * sin(TAU * u_time / 6.1 + 1.0), 0.35);

    // --- the shape of the line for this frame ---
    float half_len = 0.40 + 0.035 * breath + 0.06 * speech + 0.36 * G;
    float amp = 0.012 + 0.008 * breath + 0.075 * speech + 0.02 * G + 0.02 * music;
    float k = mix(4.0, 12.0, u_pitch);              // higher voice, finer undulation
    float G15 = G * sqrt(G);                        // opens slowly at first, then wide
    float sep = 0.0015 + 0.0035 * (1.0 - V) + 0.2 * G15;
    float dephase = 2.4 * G15 + 0.25 * (1.0 - V);   // strands move apart as they open

    // envelope along x: e = 1 - u^2, env = e^2 (zero slope at the ends)
    float u = x / half_len;
    float e = max(1.0 - u * u, 0.0);
    float de = (abs(u) < 1.0) ? -2.0 * u / half_len : 0.0;
    float env = e * e;
    float denv = 2.0 * e * de;
    // the opening has a broader envelope than the line, so strands fade out at the ends
    // while still apart (threads drifting apart, not a pointed lens)
    float uo = u * 0.8;
    float eo = max(1.0 - uo * uo, 0.0);
    float env_open = sqrt(eo);
    float denv_open = (abs(uo) < 1.0) ? -0.8 * uo / (half_len * max(env_open, 1e-3)) : 0.0;

    // onset ripple: a wave packet running out from the centre along |x|
    float ripple = 0.0, dripple = 0.0, bead = 0.0;
    if (u_onset_pulse > 0.002) {
        float front = (1.0 - u_onset_pulse) * half_len * 1.05;
        float sx = sqrt(x * x + 0.0009);            // a rounded |x|: no kink at the centre
        float ax = sx - front;
        float g = u_onset_pulse * exp(-ax * ax * 60.0);
        ripple = 0.024 * g * sin(ax * 30.0);
        dripple = 0.024 * g * (30.0 * cos(ax * 30.0) - 120.0 * ax * sin(ax * 30.0)) * (x / sx);
        bead = 1.6 * u_onset_pulse * exp(-ax * ax * 50.0);
    }

    // three wave terms; strand j's phase is s * (offset of the term)
    float k2 = 1.93 * k;
    // the travelling waves drift with slowly wandering phases, so the motion never
    // settles into a visible period
    float wander1 = 4.0 * vnoise(0.017 * t + 11.0), wander2 = 3.0 * vnoise(0.023 * t + 5.0);
    vec2 z1 = phasor(k * x - 1.10 * t + wander1);
    vec2 z2 = phasor(k2 * x + 0.77 * t + 1.3 - wander2);
    vec2 z3 = phasor(2.3 * x + 0.13 * t + 2.0 * vnoise(0.031 * t));   // slow wander
    vec2 z4 = phasor(0.05 * t);                                        // opening wobble
    vec2 r1 = phasor(0.5 * dephase), r2 = phasor(0.85 * dephase);
    vec2 r3 = phasor(2.55), r4 = phasor(3.65);
    vec2 c1 = cmul(z1, conj2(r1)), c2 = cmul(z2, conj2(r2));
    vec2 c3 = cmul(z3, conj2(r3)), c4 = cmul(z4, conj2(r4));

    // --- ground: warm shadow, lifted by a soft haze that spreads in the pauses ---
    float haze_n = fbm2(p * vec2(1.5, 2.4) + vec2(0.021 * t, -0.013 * t));
    vec2 hq = p / vec2(0.50 + 0.80 * G, 0.13 + 0.36 * G);
    float haze_shape = exp(-dot(hq, hq)) * (0.35 + 1.4 * haze_n * haze_n);
    float haze_amount = 0.008 + 0.006 * breath + 0.009 * G + 0.16 * speech + 0.05 * music;
    // dusk haze; kept saturated, since a pale pink over the dark ground reads as grey
    vec3 haze_col = mix(mix(PAL_HAZE_DUSK, PAL_CORAL, 0.45), PAL_HAZE_LIGHT, 0.35 * G);
    haze_col = mix(haze_col, PAL_CORAL, 0.35 * speech);
    haze_col = mix(haze_col, PAL_APRICOT, 0.45 * music * (0.5 + u_low));   // the room's music
    vec3 col = PAL_SHADOW * (0.8 + 0.4 * haze_n);
    col += haze_col * haze_amount * haze_shape;
    // her voice warms the whole room a little (voice-gated and smoothed: no flashing)
    vec2 wq = p / vec2(1.0, 0.5);
    col += mix(PAL_CORAL, PAL_PEACH, 0.4) * 0.045 * speech * exp(-dot(wq, wq));
    if (u_gap_pulse > 0.002) {       // the exhale: a faint ring leaves as a pause begins
        float ring_r = (1.0 - u_gap_pulse) * 0.7;
        float rd = (length(p * vec2(0.55, 1.4)) - ring_r) / 0.09;
        col += haze_col * 0.02 * u_gap_pulse * exp(-rd * rd);
    }

    // --- the line: five strands; one bright line while she speaks ---
    float width = (0.0018 + 0.0042 * p_line_width) * (1.0 + 0.25 * breath + 2.2 * speech)
                * (1.0 - 0.45 * u_gap);
    float min_w = 0.8 / u_resolution.y;             // about one pixel, in screen heights
    float glow_r = width * (3.0 + 6.0 * p_glow) + 0.012 * speech + 0.016 * G;
    float glow_k = 0.2 + 0.6 * p_glow;
    float glow_fade = exp(-2.2 * u * u);            // glow tapers past the ends, no edge
    float gain = 0.34 + 0.14 * breath + 1.8 * speech + 0.6 * music + 0.3 * u_word_pulse * V;
    vec3 glow_col = mix(PAL_CORAL, PAL_APRICOT, 0.1 + 0.5 * p_warmth);
    vec3 core_col = mix(PAL_PEACH, PAL_CREAM, 0.25 + 0.45 * speech);
    float wander_amp = 0.05 * (0.4 + G);
    vec3 line = vec3(0.0);
    for (int i = 0; i < 5; i++) {
        float s = float(i) * 0.5 - 1.0;             // -1, -0.5, 0, 0.5, 1
        float wave = 0.62 * c1.y + 0.38 * c2.y;
        float dwave = 0.62 * k * c1.x + 0.38 * k2 * c2.x;
        float open = sep * s * (1.0 + 0.25 * c4.y);
        float y = env * (amp * wave + wander_amp * c3.y + ripple) + env_open * open;
        float slope = denv * (amp * wave + wander_amp * c3.y + ripple)
                    + env * (amp * dwave + wander_amp * 2.3 * c3.x + dripple)
                    + denv_open * open;
        // distance to the curve, first order; the slope correction is only valid near
        // the curve, so it is capped (else steep ripples cast vertical streaks of glow)
        float dy = abs(p.y - y);
        float d = dy * inversesqrt(1.0 + min(slope * slope, 4.0));
        float dg = dy * inversesqrt(1.0 + min(slope * slope, 0.5));
        float w = width * (1.0 - 0.35 * abs(s) * u_gap);
        // never thinner than ~a pixel: a sub-pixel line would shimmer and alias, so widen
        // it and dim it by the same factor (same light, spread over a pixel)
        float w_aa = max(w, min_w);
        float core = exp(-(d * d) / (w_aa * w_aa)) * (w / w_aa) * e;  // e = sqrt(env)
        float glow = glow_r * glow_r / (dg * dg + glow_r * glow_r);
        glow *= sqrt(glow) * glow_fade;             // falls as d^-3: a halo, not a flare
        // the onset bead: brighter core and a small halo riding the ripple front
        float halo = (bead > 0.0) ? bead * exp(-d * d * 2500.0) : 0.0;
        vec3 strand_glow = mix(glow_col, PAL_DEEP_RED, 0.5 * abs(s) * u_gap);
        line += (1.0 - 0.45 * abs(s)) * (core * (1.0 + bead) * core_col
                                        + (glow_k * glow + 0.35 * halo) * strand_glow);
        c1 = cmul(c1, r1); c2 = cmul(c2, r2); c3 = cmul(c3, r3); c4 = cmul(c4, r4);
    }
    col += line * gain * (1.0 / 3.1);

    // vignette toward the warm shadow (never to black)
    float vig = smoothstep(1.25, 0.35, length(p * vec2(0.9, 1.2)));
    col = mix(PAL_SHADOW * 0.8, col, 0.35 + 0.65 * vig);

    fragColor = finish(col, fc, u_time, 0.035 * p_grain);
}
