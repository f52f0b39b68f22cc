/*{
    "DESCRIPTION": "8,316: a field of exactly 8,316 small lights, the people she talks to; 641 of them, the ones she loves, burn warmer. With the music they slowly gather and turn around a soft centre; her voice brightens the 641; a pause lets the field breathe out and drift apart.",
    "CREDIT": "installation (after Samantha's confession in Her, 2013)",
    "CATEGORIES": ["music", "voice", "particles"],
    "INPUTS": [
        {"NAME": "gather", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "How far the music gathers them"},
        {"NAME": "swirl", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Turn around the centre"},
        {"NAME": "size", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Size of the lights"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.35, "MIN": 0.0, "MAX": 1.0, "LABEL": "Film grain"}
    ]
}*/

#include "lib/noise.glsl"
#include "lib/palette.glsl"
#include "lib/color.glsl"

// The field: NX x NY = 99 x 84 = 8316 cells, one light each. Light k is warm when
// perm(cell) < 641, where perm is a bijection of the grid onto 0..8315: exactly 641 warm
// lights, scattered with no pattern.
// tests/test_render_scenes.py checks the count with the same function in Python.
const int NX = 99;
const int NY = 84;
const vec2 HALF = vec2(0.98, 0.56);          // the field's half size (screen heights)


vec2 C;            // gathering centre
float GAM;         // radial exponent: > 0 gathers, < 0 spreads
float SW;          // swirl (radians at the centre)

// A permutation of the 99 x 84 grid: three Feistel-like rounds, each adding a mix of
// one coordinate to the other modulo its size (bijective whatever the mix; a cheap
// multiply-shift is enough, llvmpipe pays for every integer op on every pixel).
uint mix16(uint v) { return ((v * 2654435761u) ^ (v * 40503u << 7)) >> 15; }
int perm8316(ivec2 c) {
    uint a = uint(c.x), b = uint(c.y);
    a = (a + mix16(b + 911u) % 99u) % 99u;
    b = (b + mix16(a + 3643u) % 84u) % 84u;
    a = (a + mix16(b + 7817u) % 99u) % 99u;
    return int(b * 99u + a);
}

// three uniform numbers in [0, 1) from one PCG round (10 + 11 + 11 bits)
vec3 hash3_1(ivec2 c) {
    uint v = pcg_hash(uint(c.x) * 1597334677u + uint(c.y) * 3812015801u + 8316u);
    return vec3(float(v & 1023u) / 1024.0, float((v >> 10u) & 2047u) / 2048.0,
                float(v >> 21u) / 2048.0);
}

vec2 rot(vec2 v, float a) { float c = cos(a), s = sin(a); return vec2(c * v.x - s * v.y, s * v.x + c * v.y); }

// home position -> where it is drawn
vec2 fwd(vec2 P) {
    vec2 v = P - C;
    float r = max(length(v), 1e-5);
    float r2 = r * pow(r, GAM);
    return C + rot(v, SW * exp(-2.2 * r)) * (r2 / r);
}

// drawn position -> home position (exact inverse of fwd)
vec2 inv(vec2 q) {
    vec2 v = q - C;
    float r2 = max(length(v), 1e-5);
    float r = pow(r2, 1.0 / (1.0 + GAM));
    return C + rot(v, -SW * exp(-2.2 * r)) * (r / r2);
}

void main() {
    vec2 fc = gl_FragCoord.xy;
    vec2 p = (fc - 0.5 * u_resolution) / u_resolution.y;
    float t = u_time;

    float M = smoothstep(0.05, 0.75, u_music);             // the music, slow
    float V = u_voice;
    float speech = V * smoothstep(0.3, 0.85, u_level);
    C = 0.05 * vec2(vnoise(0.013 * t + 3.0) - 0.5, vnoise(0.011 * t + 8.0) - 0.5);
    GAM = (0.25 + 1.1 * p_gather) * (0.15 + M) - 0.22 * u_gap * (1.0 - M);
    SW = (0.3 + 2.2 * p_swirl) * M * (0.6 + 0.4 * sin(0.05 * t)) + 0.4 * sin(0.017 * t);

    // the pixel's place in the home field, and the local stretch of the map
    vec2 P = inv(p);
    const float E = 0.004;
    vec2 D0 = p;                        // = fwd(P): inv is exact
    mat2 J = mat2((fwd(P + vec2(E, 0.0)) - D0) / E, (fwd(P + vec2(0.0, E)) - D0) / E);
    vec2 cell = vec2(float(NX), float(NY)) / (2.0 * HALF);
    vec2 f = (P + HALF) * cell;
    ivec2 c0 = ivec2(floor(f - 0.5));   // the 2x2 cells whose lights can reach here

    float rsz = 0.0016 + 0.0016 * p_size;
    float min_r = 0.8 / u_resolution.y;
    vec3 lights = vec3(0.0);
    for (int j = 0; j <= 1; j++) {
        for (int i = 0; i <= 1; i++) {
            ivec2 c = c0 + ivec2(i, j);
            if (c.x < 0 || c.y < 0 || c.x >= NX || c.y >= NY) continue;
            vec3 h = hash3_1(c);
            vec2 home = (vec2(c) + 0.15 + 0.7 * h.xy) / cell - HALF;
            // a slow individual drift, well inside the cell
            vec2 d = D0 + J * (home - P) - p;      // first order: the map is smooth
            bool warm = perm8316(c) < 641;
            // the field's edge is soft: lights near it fade (seen when they gather)
            vec2 e = abs(home) / HALF;
            float edge = smoothstep(1.0, 0.8, max(e.x, e.y));
            float tw = 0.65 + 0.35 * sin(t * (0.35 + 0.6 * h.z) + 6.2831853 * h.y);
            float r = warm ? rsz * (1.25 + 0.4 * speech + 0.3 * u_word_pulse) : rsz * (0.6 + 0.5 * h.z);
            float ra = max(r, min_r);
            float dd = dot(d, d);
            float core = exp(-dd / (ra * ra)) * (r / ra);
            float halo = warm ? (r * r * 3.0) / (dd + r * r * 3.0) : 0.0;
            vec3 c_col = warm ? mix(PAL_CORAL, PAL_APRICOT, 0.35 + 0.3 * h.x)
                              : mix(PAL_PEACH, PAL_CREAM, 0.4 + 0.6 * h.x);
            float b = warm ? (0.9 + 1.2 * speech + 0.5 * M) : (0.35 + 0.35 * M) * (0.5 + h.y);
            lights += c_col * tw * b * edge * (core + 0.12 * halo * halo);
        }
    }

    // ground: warm shadow; a haze grows where the gathered lights crowd together
    float hn = vnoise(p * 1.6 + vec2(0.012 * t, -0.009 * t));
    vec3 col = PAL_SHADOW * (0.8 + 0.4 * hn);
    vec2 pc = p - C;
    float crowd = exp(-dot(pc, pc) / (0.03 + 0.12 * (1.0 - M)));
    col += mix(PAL_DEEP_RED, PAL_APRICOT, 0.3 + 0.4 * M) * (0.012 + 0.06 * M + 0.03 * speech)
         * crowd * (0.6 + 0.6 * hn);
    // a pluck sends a soft ring through the field (it brightens lights, not the frame)
    float ring = 1.0;
    if (u_onset_pulse > 0.01) {
        float rr = (length(pc) - (1.0 - u_onset_pulse) * 0.8) / 0.05;
        ring += 1.2 * u_onset_pulse * exp(-rr * rr);
    }
    col += lights * ring;

    float vig = smoothstep(1.35, 0.3, length(p * vec2(0.85, 1.2)));
    col = mix(PAL_SHADOW * 0.8, col, 0.45 + 0.55 * vig);
    fragColor = finish(col, fc, u_time, 0.03 * p_grain);
}
