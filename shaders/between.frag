/*{
    "DESCRIPTION": "The space between the words: three lines of handwritten-looking marks. While she speaks they sit close, warm and legible; when she pauses the words part from the centre outwards and a soft light grows in the space between them, wider the longer the pause lasts, toward the infinite. The next word gathers them back.",
    "CREDIT": "installation (after Samantha's last words in Her, 2013)",
    "CATEGORIES": ["voice", "pause", "text"],
    "INPUTS": [
        {"NAME": "ink", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Ink brightness"},
        {"NAME": "spread", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "How fast the space opens"},
        {"NAME": "light", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Light in the space"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.0, "LABEL": "Film grain"}
    ]
}*/

#include "lib/noise.glsl"
#include "lib/palette.glsl"
#include "lib/color.glsl"

const float GW = 0.034;          // glyph advance (screen heights)
const float GH = 0.052;          // glyph height
const float SLOT = 7.0 * GW;     // room for the longest word (6 glyphs)
const float LINE = 0.135;        // line pitch

float seg_dist(vec2 p, vec2 a, vec2 b) {
    vec2 pa = p - a, ba = b - a;
    float h = clamp(dot(pa, ba) / dot(ba, ba), 0.0, 1.0);
    return length(pa - ba * h);
}

// Distance to glyph `seed`'s strokes; q in glyph box units (0..1 x, 0..1 y).
// Three strokes: hooks, arcs and slanted bars, like quick handwriting.
float glyph(vec2 q, int seed) {
    float d = 1e3;
    for (int s = 0; s < 3; s++) {
        vec3 h = hash33(ivec3(seed, s, 71));
        vec3 g = hash33(ivec3(seed, s, 19));
        if (h.z < 0.42) {                       // an arc (part of a loop)
            vec2 c = vec2(0.3 + 0.4 * h.x, 0.3 + 0.4 * h.y);
            float r = 0.16 + 0.2 * g.x;
            vec2 v = q - c;
            float a = atan(v.y, v.x);
            float a0 = 6.2831853 * g.y, span = 2.2 + 3.0 * g.z;
            float da = mod(a - a0, 6.2831853);
            float ang = da < span ? abs(length(v) - r)
                                  : min(length(v - c * 0.0 - r * vec2(cos(a0), sin(a0))),
                                        length(v - r * vec2(cos(a0 + span), sin(a0 + span))));
            d = min(d, ang);
        } else {                                // a stroke, mostly upright
            vec2 a = vec2(0.15 + 0.7 * h.x, 0.05 + 0.3 * h.y);
            vec2 b = vec2(0.15 + 0.7 * g.x, 0.6 + 0.38 * g.y);
            if (g.z < 0.35) { a.y = 0.15 + 0.7 * h.y; b.y = a.y + 0.2 * (g.y - 0.5); }
            d = min(d, seg_dist(q, a, b));
        }
    }
    return d;
}

void main() {
    vec2 fc = gl_FragCoord.xy;
    vec2 p = (fc - 0.5 * u_resolution) / u_resolution.y;
    float t = u_time;

    float V = u_voice;
    float speech = V * smoothstep(0.3, 0.85, u_level);
    float g = u_gap * (0.6 + 0.8 * p_spread);
    // The space between the words: x1 at the start of a pause, growing without bound as it
    // lasts (1/(1-u_gap) = exp(gap_s / 3 s)); the next word gathers it back smoothly.
    float S = pow(1.0 / max(1.0 - 0.992 * min(g, 1.0), 0.008), 1.25);
    float breath = 0.5 + 0.5 * sin(6.2831853 * t / 5.3 + 1.7 * sin(6.2831853 * t / 61.0));

    // --- ground: warm shadow and a low haze ---
    float hn = fbm2(p * vec2(1.2, 2.0) + vec2(0.015 * t, -0.01 * t));
    vec3 col = PAL_SHADOW * (0.85 + 0.35 * hn);
    vec3 haze = mix(PAL_CORAL, PAL_APRICOT, 0.5 * u_music);
    col += haze * (0.012 + 0.03 * u_music + 0.02 * speech) * exp(-p.y * p.y * 6.0) * (0.5 + hn);

    // --- the light in the space: a soft column where the words parted ---
    float open_w = 0.5 * 0.055 * (S - 1.0);            // half the extra space at the centre
    // the light spreads as the space widens: same warmth, softer (not a wash of grey)
    float col_w = min(0.02 + open_w, 0.9);
    float lx = p.x / col_w;
    float light = exp(-lx * lx * 1.4) * exp(-p.y * p.y / (0.04 + 0.12 * g)) / (1.0 + 6.0 * col_w);
    // narrow, the light is cream at its heart; spread wide it stays coral (dim cream is grey)
    vec3 space_col = mix(mix(PAL_CORAL, PAL_PEACH, 0.6), PAL_CREAM,
                         (0.15 + 0.45 * exp(-lx * lx * 4.0)) * (1.0 - smoothstep(0.2, 0.8, col_w)));
    col += space_col * light * u_gap * (0.16 + 0.40 * p_light) * (0.75 + 0.25 * breath);
    // only music: long soft bands of apricot haze drift through the room
    float band = sin(7.0 * p.y + 2.5 * vnoise(vec2(0.6 * p.x - 0.05 * t, 0.1 * t)) + 0.35 * t);
    band = pow(0.5 + 0.5 * band, 4.0);
    col += mix(PAL_APRICOT, PAL_CORAL, 0.45) * u_music * (1.0 - V)
         * 0.3 * band * exp(-p.y * p.y * 3.0);
    col += PAL_CORAL * 0.02 * u_gap_pulse * exp(-abs(p.x) * 3.0) * exp(-p.y * p.y * 12.0);

    // --- three lines of words ---
    float line_pitch = LINE * (1.0 + 0.35 * g);
    float li = clamp(floor(p.y / line_pitch + 0.5), -1.0, 1.0);
    int line = int(li);
    float wave = 0.006 * u_music * sin(4.0 * p.x + 1.3 * t + li);
    float ly = p.y - li * line_pitch - wave;
    float pitch_x = SLOT + 0.055 * S;                  // word slot + the space after it
    // each line's words sit around a space at the centre
    float k = floor(p.x / pitch_x);
    float xc = (k + 0.5) * pitch_x;                    // this word's centre
    int wk = int(k) * 7 + line * 131;
    vec3 wh = hash33(ivec3(wk, 3, 5));
    // words drift a little off the line as the pause opens (each its own way)
    ly -= (wh.x - 0.5) * 0.16 * g * g + 0.004 * sin(t * 0.4 + 6.0 * wh.y);
    // glyphs change as she speaks: each word renews its letters every ~14 s of voice,
    // fading out and back in (one glyph evaluation: llvmpipe runs both sides of an if)
    float renew = u_voice_time / 14.0 + wh.z;
    float epoch = floor(renew);
    float fr = fract(renew);
    float fade_in = smoothstep(0.0, 0.06, fr) * smoothstep(1.0, 0.94, fr);
    int n = 2 + int(wh.y * 5.0);                       // 2..6 glyphs
    float wx = p.x - xc + 0.5 * float(n) * GW;         // 0 at the word's first glyph
    float j = floor(wx / GW);
    float d = 1e3;
    if (j >= 0.0 && j < float(n) && abs(ly) < GH) {
        vec2 q = vec2(wx / GW - j, ly / GH + 0.5);
        q.x -= 0.28 * (q.y - 0.5);                     // slant
        // a slow tremor of the hand, so the marks are alive but never jitter
        q += 0.04 * vec2(vnoise(0.3 * t + j + 9.0 * wh.x), vnoise(0.27 * t + j)) - 0.02;
        int gseed = wk * 8 + int(j) + int(epoch) * 977;
        d = glyph(q, gseed) * GW;
    }
    // ink: warm, brighter while she speaks; words far from the centre recede in the pause
    float dist = abs(xc) - 0.5 * pitch_x;              // 0 for the two words by the space
    float recede = exp(-max(dist, 0.0) * (0.2 + 3.5 * g));
    float near = exp(-abs(xc) * 1.6);
    float width = (0.0022 + 0.0012 * speech) * (1.0 + 0.6 * g);
    float min_w = 0.7 / u_resolution.y;
    float w = max(width, min_w);
    float core = exp(-d * d / (w * w)) * (width / w);
    float glow = 0.0016 / (d * d * 600.0 + 0.002);
    float lines_fade = li == 0.0 ? 1.0 : 0.62;
    float ink = fade_in * (0.45 + 0.8 * p_ink) * (0.35 + 0.25 * breath + 1.4 * speech * (0.4 + near)
                + 0.5 * u_word_pulse * near + 0.4 * u_music) * recede * lines_fade
              * (1.0 - 0.35 * g);
    // an onset ripples through the ink from the centre: local, never a frame flash
    if (u_onset_pulse > 0.01) {
        float rr = length(p * vec2(0.8, 1.6)) - (1.0 - u_onset_pulse) * 0.9;
        ink *= 1.0 + 0.9 * u_onset_pulse * exp(-rr * rr * 60.0);
    }
    vec3 ink_core = mix(PAL_PEACH, PAL_CREAM, 0.3 + 0.4 * speech);
    vec3 ink_glow = mix(PAL_CORAL, PAL_APRICOT, 0.3 + 0.4 * u_music);
    col += ink * (core * ink_core + 0.035 * glow * ink_glow);

    float vig = smoothstep(1.3, 0.3, length(p * vec2(0.85, 1.25)));
    col = mix(PAL_SHADOW * 0.8, col, 0.4 + 0.6 * vig);
    fragColor = finish(col, fc, u_time, 0.035 * p_grain);
}
