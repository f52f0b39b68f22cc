/*{
    "DESCRIPTION": "Dawn: for the ending. A slow sunrise over a city skyline seen from a rooftop; the windows go out one by one as the light comes. Her voice warms the sun's halo, a pause lets the haze spread over the city, the music shimmers in the last lit windows.",
    "CREDIT": "installation (after the rooftop at the end of Her, 2013)",
    "CATEGORIES": ["ending", "voice", "music"],
    "INPUTS": [
        {"NAME": "duration", "TYPE": "float", "DEFAULT": 240.0, "MIN": 20.0, "MAX": 3600.0, "LABEL": "Length of the sunrise (s)"},
        {"NAME": "start", "TYPE": "float", "DEFAULT": 0.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Where the sunrise starts (0 night, 1 day)"},
        {"NAME": "haze", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0.0, "MAX": 1.0, "LABEL": "Haze over the city"},
        {"NAME": "sun_x", "TYPE": "float", "DEFAULT": 0.3, "MIN": -0.8, "MAX": 0.8, "LABEL": "Where the sun rises"},
        {"NAME": "grain", "TYPE": "float", "DEFAULT": 0.4, "MIN": 0.0, "MAX": 1.0, "LABEL": "Film grain"}
    ]
}*/

#include "lib/noise.glsl"
#include "lib/palette.glsl"
#include "lib/color.glsl"

// One row of buildings: returns the roof height at x (screen heights) and, through
// `cell`, the building's id and its x range.
float skyline(float x, float width, float lo, float hi, float seed, out vec3 cell) {
    float k = floor(x / width);
    vec3 h = hash33(ivec3(int(k), int(seed), 41));
    float w0 = k * width, w1 = w0 + width;
    float inset = width * 0.18 * h.z;              // gaps between buildings
    float top = lo + (hi - lo) * h.x * h.x;
    if (h.y > 0.85) top += (hi - lo) * 0.35;       // an occasional tower
    if (x < w0 + inset) top = lo + (top - lo) * 0.35;
    // a thin mast on some towers
    if (h.y > 0.93 && abs(x - (w0 + w1) * 0.5) < width * 0.03) top += 0.06;
    cell = vec3(k, w0 + inset, w1);
    return top;
}

void main() {
    vec2 fc = gl_FragCoord.xy;
    vec2 p = (fc - 0.5 * u_resolution) / u_resolution.y;
    float t = u_time;

    float V = u_voice;
    float speech = V * smoothstep(0.3, 0.85, u_level);
    // the sunrise: 0 night .. 1 day, eased, over p_duration seconds of this scene
    float prog = clamp(p_start + u_scene_time / p_duration, 0.0, 1.0);
    float dawn = prog * prog * (3.0 - 2.0 * prog);
    float horizon = -0.2;
    vec2 sun = vec2(p_sun_x, horizon - 0.12 + 0.55 * dawn);

    // --- sky: warm shadow at night, coral at the horizon, then peach and cream haze ---
    float hgt = clamp((p.y - horizon) / 0.7, 0.0, 1.0);
    vec3 night = mix(PAL_DEEP_RED * 0.12, PAL_SHADOW, hgt);
    vec3 day = mix(mix(PAL_APRICOT, PAL_HAZE_LIGHT, 0.4), mix(PAL_HAZE_DUSK, PAL_HAZE_LIGHT, 0.6),
                   smoothstep(0.0, 0.8, hgt));
    vec3 mid = mix(PAL_CORAL * 0.7, PAL_DEEP_RED * 0.25, smoothstep(0.0, 0.7, hgt));
    vec3 sky = dawn < 0.5 ? mix(night, mid, dawn * 2.0) : mix(mid, day * 0.85, dawn * 2.0 - 1.0);
    vec2 ds = p - sun;
    float sd = length(ds * vec2(1.0, 1.15));
    float halo = exp(-sd * (3.2 - 1.0 * speech)) * (0.15 + 0.6 * dawn);
    halo *= 1.0 + 0.5 * speech + 0.2 * u_word_pulse;          // her voice warms the sun
    sky += mix(PAL_CORAL, PAL_APRICOT, dawn) * halo;
    float disc = smoothstep(0.05, 0.043, length(ds));             // soft-edged, round
    sky += mix(PAL_APRICOT, mix(PAL_CREAM, PAL_APRICOT, 0.25), dawn) * disc * (0.5 + 0.9 * dawn);
    // high haze streaks drifting very slowly
    float streak = fbm2(vec2(p.x * 1.1 + 0.004 * t, p.y * 7.0 - 0.002 * t));
    sky += mix(PAL_CORAL, PAL_HAZE_LIGHT, dawn) * 0.08 * smoothstep(0.45, 0.9, streak)
         * smoothstep(-0.1, 0.25, p.y - horizon) * (0.3 + dawn);
    vec3 col = sky;

    // --- the city: three rows of buildings, nearer ones darker and taller ---
    float haze_amt = (0.25 + 0.5 * p_haze) * (0.6 + 0.8 * u_gap);   // the pause spreads the haze
    for (int row = 2; row >= 0; row--) {
        float r = float(row);
        vec3 cell;
        float width = 0.055 + 0.03 * r;
        float lo = horizon - 0.02 - 0.07 * (2.0 - r);
        float hi = lo + 0.12 + 0.1 * (2.0 - r);
        float xo = p.x + 0.37 * r + 0.0015 * t * (0.2 + 0.3 * (2.0 - r)) / (1.0 + r);
        float top = skyline(xo, width, lo, hi, r, cell);
        if (p.y < top) {
            float depth = (r + 1.0) / 3.0;                // 1 far .. 1/3 near
            vec3 wall = mix(PAL_SHADOW * 0.9, PAL_DEEP_RED * 0.18, 0.3 * dawn);
            // atmospheric perspective: far rows take the sky's colour
            vec3 air = mix(sky, mix(PAL_HAZE_DUSK, PAL_CORAL, 0.4) * (0.1 + 0.7 * dawn), 0.5);
            vec3 b = mix(wall, air, clamp(haze_amt * depth * 0.9, 0.0, 0.85));
            // windows: a grid on the facade, lit ones go out as the day comes
            vec2 wq = vec2((xo - cell.y) / 0.009, (top - p.y) / 0.012);
            vec2 wi = floor(wq), wf = fract(wq);
            vec3 wh = hash33(ivec3(int(cell.x) * 64 + int(wi.x), int(wi.y), row));
            bool inside = wq.x > 0.5 && xo < cell.z - 0.006 && wq.y > 1.0;
            float lit = step(0.55 + 0.45 * dawn + 0.12 * smoothstep(0.8, 1.0, wh.z), wh.x);
            float pane = smoothstep(0.5, 0.35, abs(wf.x - 0.5)) * smoothstep(0.5, 0.3, abs(wf.y - 0.5));
            // the music shimmers in the lit windows (slow, per window, never in step)
            float shimmer = 1.0 + 0.5 * u_music * sin(t * (0.7 + wh.y) + 6.2831853 * wh.z);
            if (inside) {
                vec3 wc = mix(PAL_APRICOT, PAL_CREAM, 0.4 * wh.y);
                b += wc * lit * pane * (0.22 + 0.2 * wh.y) * shimmer * (1.0 - 0.7 * haze_amt * depth)
                     * (1.0 - 0.8 * dawn);
            }
            // the sun's edge light on the nearest roofs
            b += PAL_CORAL * 0.08 * dawn * smoothstep(0.015, 0.0, top - p.y) * (1.0 - depth + 0.3);
            col = b;
        }
    }
    // ground haze over the city, rising in the pauses
    float fog = exp(-max(p.y - horizon + 0.05, 0.0) * (9.0 - 5.0 * u_gap)) * haze_amt
              * (0.6 + 0.4 * fbm2(vec2(p.x * 2.0 - 0.01 * t, p.y * 5.0)));
    col = mix(col, mix(PAL_HAZE_DUSK * 0.3, PAL_HAZE_LIGHT * 0.8, dawn), clamp(fog * 0.55, 0.0, 0.8));
    // a pluck: the haze ripples from the sun, softly
    if (u_onset_pulse > 0.01) {
        float rr = (sd - (1.0 - u_onset_pulse) * 0.6) / 0.04;
        col += PAL_APRICOT * 0.03 * u_onset_pulse * exp(-rr * rr) * (0.3 + dawn);
    }

    float vig = smoothstep(1.4, 0.35, length(p * vec2(0.8, 1.1)));
    col = mix(PAL_SHADOW * 0.8, col, 0.55 + 0.45 * vig);
    fragColor = finish(col, fc, u_time, 0.035 * p_grain);
}
