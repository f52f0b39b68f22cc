/*{
    "DESCRIPTION": "Letters: soft handwriting in light writes itself across a page while she speaks; the pen stops in the pauses and its glow widens; the music warms the page. When the page is full it fades and a new letter begins.",
    "CREDIT": "installation (after Theodore's handwritten letters in Her, 2013)",
    "CATEGORIES": ["voice", "text"],
    "INPUTS": [
        {"NAME": "speed", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Writing speed"},
        {"NAME": "ink", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Ink brightness"},
        {"NAME": "loops", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Loopiness of the hand"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.0, "LABEL": "Film grain"}
    ]
}*/

#include "lib/noise.glsl"
#include "lib/palette.glsl"
#include "lib/color.glsl"

const float H = 0.036;          // x-height of the hand (screen heights)
const int LINES = 6;
const float X0 = -0.70;         // left margin
const float LEN = 1.40;         // line length (screen heights)
const float TAU = 6.2831853;

float LOOP;                     // loopiness, from p_loops

float seg_dist(vec2 p, vec2 a, vec2 b) {
    vec2 pa = p - a, ba = b - a;
    float h = clamp(dot(pa, ba) / max(dot(ba, ba), 1e-9), 0.0, 1.0);
    return length(pa - ba * h);
}

// The pen's path along a line, in x-height units: a trochoid (loops where the hand is
// loopy), its height and loops varied by slow noise so it reads as handwriting.
vec2 pen(float u, float seed) {
    float n1 = vnoise(2.1 * u + seed), n2 = vnoise(0.8 * u + 7.0 * seed);
    float a = LOOP * (0.02 + 0.36 * n1 * n1);                        // loop size
    float tall = 0.75 + 1.2 * smoothstep(0.55, 0.85, n1 * n2 * 2.0);   // ascenders
    float ph = TAU * u / (0.5 + 0.25 * n2) + 2.5 * n2;
    return vec2(u + a * cos(ph), 0.5 * tall * sin(ph) + 0.15 * sin(0.4 * u + seed));
}

// 1 inside a word, 0 in the space between words (the pen lifts)
float inked(float u, float seed) {
    return smoothstep(0.18, 0.26, vnoise(0.55 * u + 13.0 * seed));
}

// Distance (x-heights) from q to the written part (u < upto) of line `seed`; also the
// pen parameter of the nearest point in `un`.
float line_dist(vec2 q, float seed, float upto, out float un) {
    float d = 1e3;
    un = 0.0;
    const float STEP = 0.1;
    float u0 = max(floor((q.x - 0.45) / STEP) * STEP, 0.0);
    vec2 a = pen(u0, seed);
    for (int i = 1; i <= 9; i++) {
        float u = u0 + STEP * float(i);
        if (u - STEP >= upto) break;
        vec2 b = pen(u, seed);
        vec2 bb = u > upto ? mix(a, b, (upto - (u - STEP)) / STEP) : b;
        float di = seg_dist(q, a, bb);
        if (di < d) { d = di; un = u; }
        a = b;
    }
    return d + 3.0 * (1.0 - inked(un, seed));   // the pen lifts between words
}

void main() {
    vec2 fc = gl_FragCoord.xy;
    vec2 p = (fc - 0.5 * u_resolution) / u_resolution.y;
    float t = u_time;
    LOOP = 0.4 + 1.2 * p_loops;

    float V = u_voice;
    float speech = V * smoothstep(0.3, 0.85, u_level);
    // how far the pen has gone: it only moves while she speaks
    float rate = (0.08 + 0.14 * p_speed) / H;             // x-heights per second of voice
    float line_u = LEN / H;                               // x-heights per line
    float total = u_voice_time * rate;
    float page_len = line_u * float(LINES);
    float page = floor(total / page_len);
    float on_page = total - page * page_len;
    float cur_line = floor(on_page / line_u);
    float cur_u = on_page - cur_line * line_u;            // pen position on its line
    // a full page fades out over its last 4 % (~3 s of voice), then a new letter begins
    float page_fade = smoothstep(1.0, 0.96, on_page / page_len);

    float pitch = 2.9 * H * (1.0 + 0.3 * u_gap);          // lines breathe apart in a pause
    float y_top = 0.5 * pitch * float(LINES - 1);
    float li = clamp(floor((y_top - p.y) / pitch + 0.5), 0.0, float(LINES - 1));
    float base = y_top - li * pitch;
    vec2 q = vec2((p.x - X0) / H, (p.y - base) / H);
    q.x -= 0.25 * q.y;                                    // the hand leans right

    // ground: warm shadow, a faint page of warm light, warmer with music
    float hn = fbm2(p * vec2(1.4, 2.2) + vec2(0.01 * t, 0.007 * t));
    vec3 col = PAL_SHADOW * (0.85 + 0.3 * hn);
    vec2 pg = p / vec2(0.85, 0.5);
    float sheet = exp(-pow(dot(pg, pg), 2.0));
    col += mix(PAL_CORAL, PAL_APRICOT, 0.2 + 0.5 * u_music) * sheet
         * (0.008 + 0.03 * u_music + 0.008 * speech) * (0.5 + 0.8 * hn * hn);

    // the ruled lines of the page wake with the music, waves running along them
    float rule = exp(-pow((q.y + 0.75) * 3.0, 2.0)) * smoothstep(-2.0, 2.0, q.x)
               * smoothstep(line_u + 2.0, line_u - 2.0, q.x);
    float run = 0.5 + 0.5 * sin(0.35 * q.x - 1.1 * t + 2.0 * li);
    col += mix(PAL_CORAL, PAL_APRICOT, 0.5) * rule * u_music * (0.03 + 0.1 * run * run);

    float ink = 0.0, fresh = 0.0;
    if (q.x > -1.0 && q.x < line_u + 1.0) {
        float un;
        // this page: lines above the pen are written, the pen's line up to the pen
        float upto = li < cur_line ? line_u : (li == cur_line ? cur_u : -1.0);
        float seed = li * 3.7 + page * 17.3;
        float d = line_dist(q, seed, upto, un) * H;
        float w = (0.0016 + 0.0006 * speech) ;
        float wa = max(w, 0.75 / u_resolution.y);
        float stroke = exp(-d * d / (wa * wa)) * (w / wa) + 0.10 * exp(-d * 220.0);
        // wet ink glows near the pen and dries over ~3 s of writing
        float age = li == cur_line ? (cur_u - un) : 1e3;
        fresh = exp(-max(age, 0.0) / (2.5 * rate));
        ink = stroke * (0.45 + 1.2 * fresh * (0.3 + speech) + 0.25 * u_music) * page_fade;
    }
    vec3 ink_col = mix(mix(PAL_CORAL, PAL_PEACH, 0.55), PAL_CREAM, 0.5 * fresh);
    col += ink * (0.5 + 0.9 * p_ink) * ink_col;

    // the pen: a small warm light that moves with her voice and widens when she pauses
    vec2 tip = pen(cur_u, cur_line * 3.7 + page * 17.3);
    vec2 tip_p = vec2(X0 + (tip.x + 0.25 * tip.y) * H, y_top - cur_line * pitch + tip.y * H);
    vec2 dp = p - tip_p;
    float r = 0.01 + 0.05 * u_gap;
    float glow = r * r / (dot(dp, dp) + r * r);
    col += mix(PAL_APRICOT, PAL_PEACH, 0.4) * glow * (0.05 + 0.5 * speech + 0.25 * u_word_pulse
                                                       + 0.06 * u_gap);
    // a pluck: a soft ripple leaves the pen (local, never a flash)
    if (u_onset_pulse > 0.01) {
        float rr = (length(dp) - (1.0 - u_onset_pulse) * 0.35) / 0.03;
        col += PAL_CORAL * 0.05 * u_onset_pulse * exp(-rr * rr);
    }

    float vig = smoothstep(1.3, 0.3, length(p * vec2(0.85, 1.25)));
    col = mix(PAL_SHADOW * 0.8, col, 0.4 + 0.6 * vig);
    fragColor = finish(col, fc, u_time, 0.035 * p_grain);
}
