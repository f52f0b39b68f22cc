/*{
    "DESCRIPTION": "Test pattern for lining up projectors: a 16 x 9 grid over the whole canvas with numbered columns and rows, a centre cross and circle, corner markers, the canvas size in pixels, colour bars and a 16-step grey ramp. Ignores the sound.",
    "CREDIT": "installation",
    "CATEGORIES": ["utility"],
    "INPUTS": [
        {"NAME": "brightness", "TYPE": "float", "DEFAULT": 1.0, "MIN": 0.0, "MAX": 1.0, "LABEL": "Brightness"},
        {"NAME": "label", "TYPE": "long", "DEFAULT": 0, "MIN": 0, "MAX": 99, "LABEL": "Big number in the centre (0: none)"}
    ]
}*/

// Display-referred on purpose: the grey ramp and bars are exact sRGB code values, no grain.

// Seven-segment digit: q in the digit's box (0..1 x, 0..1 y, y up); 1 on a segment.
float seg7(vec2 q, int d, float w) {
    const int CODE[10] = int[10](0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F);
    if (q.x < -w || q.x > 1.0 + w || q.y < -w || q.y > 1.0 + w) return 0.0;
    int c = CODE[clamp(d, 0, 9)];
    float v = 0.0;
    // horizontal a (top), g (middle), d (bottom)
    if (abs(q.x - 0.5) < 0.5) {
        if ((c & 0x01) != 0 && abs(q.y - 1.0) < w) v = 1.0;
        if ((c & 0x40) != 0 && abs(q.y - 0.5) < w) v = 1.0;
        if ((c & 0x08) != 0 && abs(q.y) < w) v = 1.0;
    }
    // vertical f (top left), b (top right), e (bottom left), c (bottom right)
    bool top = q.y > 0.5;
    if (abs(q.x) < w && ((top && (c & 0x20) != 0) || (!top && (c & 0x10) != 0))) v = 1.0;
    if (abs(q.x - 1.0) < w && ((top && (c & 0x02) != 0) || (!top && (c & 0x04) != 0))) v = 1.0;
    return v;
}

// A number of `n` digits with its lower-left corner at `o`, digits `size` high.
float number(vec2 p, vec2 o, float size, int value, int n) {
    vec2 q = (p - o) / size;                   // digit units: each digit 0.6 wide + 0.3 gap
    if (q.y < -0.2 || q.y > 1.2 || q.x < -0.2 || q.x > 0.9 * float(n)) return 0.0;
    int i = int(floor(q.x / 0.9));
    int div = 1;
    for (int k = 0; k < n - 1 - i; k++) div *= 10;
    int digit = (value / div) % 10;
    return seg7(vec2((q.x - 0.9 * float(i)) / 0.6, q.y), digit, 0.09);
}

void main() {
    vec2 res = u_resolution;
    vec2 px = gl_FragCoord.xy;                 // pixels, origin bottom left
    vec2 uv = px / res;
    vec3 col = vec3(0.08);

    // grid: 16 x 9 cells, 1-pixel lines, 3-pixel lines every 4th column and 3rd row
    vec2 cell = res / vec2(16.0, 9.0);
    vec2 g = px / cell;
    vec2 dist = abs(g - floor(g + 0.5)) * cell;          // pixels to the nearest line
    vec2 idx = floor(g + 0.5);
    float thick_x = mod(idx.x, 4.0) == 0.0 ? 1.5 : 0.5;
    float thick_y = mod(idx.y, 3.0) == 0.0 ? 1.5 : 0.5;
    if (dist.x < thick_x || dist.y < thick_y) col = vec3(0.75);

    // the outer edge of the canvas: 2 pixels, bright
    if (px.x < 2.0 || px.y < 2.0 || px.x > res.x - 2.0 || px.y > res.y - 2.0) col = vec3(1.0);

    // centre cross and a circle (it must stay round: checks aspect and keystone)
    vec2 c = px - 0.5 * res;
    float r = 0.42 * res.y;
    if (abs(length(c) - r) < 1.5) col = vec3(1.0);
    if ((abs(c.x) < 1.5 && abs(c.y) < 0.08 * res.y) || (abs(c.y) < 1.5 && abs(c.x) < 0.08 * res.y))
        col = vec3(1.0);

    // corner markers: filled squares of distinct colours (bottom left red, bottom right
    // green, top right blue, top left yellow) so a flipped or rotated output is obvious
    float m = 0.04 * res.y;
    if (px.x < m && px.y < m) col = vec3(1.0, 0.0, 0.0);
    if (px.x > res.x - m && px.y < m) col = vec3(0.0, 1.0, 0.0);
    if (px.x > res.x - m && px.y > res.y - m) col = vec3(0.0, 0.0, 1.0);
    if (px.x < m && px.y > res.y - m) col = vec3(1.0, 1.0, 0.0);

    // column numbers along the top and row numbers down the left
    float ds = 0.28 * min(cell.x, cell.y);
    vec2 ci = floor(g);
    if (ci.y == 8.0 && ci.x > 0.0 && ci.x < 15.0) {
        if (number(px, vec2(ci.x * cell.x + 0.3 * ds, res.y - 1.4 * ds), ds, int(ci.x), 2) > 0.0)
            col = vec3(0.9);
    }
    if (ci.x == 0.0 && ci.y > 0.0 && ci.y < 8.0) {
        if (number(px, vec2(1.4 * m, ci.y * cell.y + 0.3 * ds), ds, int(ci.y), 2) > 0.0)
            col = vec3(0.9);
    }

    // the canvas size in pixels above the centre, and the optional big label below it
    float ts = 0.055 * res.y;
    if (number(px, vec2(0.5 * res.x - 4.5 * 0.9 * ts, 0.5 * res.y + 0.12 * res.y), ts,
               int(res.x), 4) > 0.0) col = vec3(1.0);
    if (number(px, vec2(0.5 * res.x + 0.9 * ts, 0.5 * res.y + 0.12 * res.y), ts,
               int(res.y), 4) > 0.0) col = vec3(1.0);
    if (p_label > 0 && number(px, vec2(0.5 * res.x - 0.9 * 3.0 * ts, 0.5 * res.y - 0.3 * res.y),
                              3.0 * ts, p_label, 2) > 0.0) col = vec3(0.95, 0.55, 0.45);

    // colour bars (75 %) and a 16-step grey ramp in the second row of cells from the bottom
    if (ci.y == 1.0 && uv.x > 2.0 / 16.0 && uv.x < 14.0 / 16.0) {
        float x = (uv.x - 2.0 / 16.0) / (12.0 / 16.0);
        float fy = fract(g.y);
        if (fy > 0.55) {
            int bar = int(floor(x * 7.0));
            vec3 bars[7] = vec3[7](vec3(0.75), vec3(0.75, 0.75, 0.0), vec3(0.0, 0.75, 0.75),
                                   vec3(0.0, 0.75, 0.0), vec3(0.75, 0.0, 0.75),
                                   vec3(0.75, 0.0, 0.0), vec3(0.0, 0.0, 0.75));
            col = bars[clamp(bar, 0, 6)];
        } else if (fy > 0.1 && fy < 0.5) {
            col = vec3(floor(x * 16.0) / 15.0);
        }
    }
    fragColor = vec4(col * p_brightness, 1.0);
}
