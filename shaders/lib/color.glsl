// Colour pipeline: scenes work in linear light, then tone_map -> linear_to_srgb -> grain.
// Needs lib/noise.glsl (for the grain hash).

vec3 srgb_to_linear(vec3 c) {
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c));
}

vec3 linear_to_srgb(vec3 c) {
    c = max(c, 0.0);
    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

// The same curve from three square roots (Taylor's fit; error < 0.3/255 above the linear
// toe): several times cheaper than pow() on software rasterisers (llvmpipe).
vec3 linear_to_srgb_fast(vec3 c) {
    c = max(c, 0.0);
    vec3 s1 = sqrt(c), s2 = sqrt(s1), s3 = sqrt(s2);
    vec3 fit = 0.662002687 * s1 + 0.684122060 * s2 - 0.323583601 * s3 - 0.0225411470 * c;
    return mix(c * 12.92, fit, step(0.0031308, c));
}

// Identity below the knee (0.6), then an exponential shoulder that approaches 1 without
// clipping: soft highlights, C1-continuous, midtones and the palette untouched.
vec3 tone_map(vec3 c, float exposure) {
    const float knee = 0.6;
    c = max(c * exposure, 0.0);
    if (max(c.r, max(c.g, c.b)) <= knee) {
        return c;          // most of a frame: skip the exp()s
    }
    vec3 over = max(c - knee, 0.0);
    vec3 shoulder = knee + (1.0 - knee) * (1.0 - exp(-over / (1.0 - knee)));
    return mix(c, shoulder, step(knee, c));
}

// Film grain in display space: zero-mean, deterministic from the pixel and the time,
// renewed 24 times a second like film. `amount` is the amplitude (0.02 = +-2 %), weaker
// in deep shadows and highlights (like real grain, and it keeps the ground smooth).
vec3 film_grain(vec3 srgb, vec2 frag_coord, float time, float amount) {
    uint frame = uint(int(floor(time * 24.0)));
    ivec2 ip = ivec2(frag_coord);
    // one PCG round per pixel; its two 16-bit halves make a triangular distribution
    uint h = pcg_hash(uint(ip.x) * 1597334677u + uint(ip.y) * 3812015801u + frame * 2654435769u);
    float n = (float(h & 0xFFFFu) + float(h >> 16u)) * (1.0 / 65535.0) - 1.0;   // (-1, 1)
    float y = dot(srgb, vec3(0.2126, 0.7152, 0.0722));
    float w = 0.45 + 2.2 * y * (1.0 - y);
    return srgb + n * amount * w * vec3(1.0, 0.96, 0.92);   // warm-tinted, like film
}

// The usual ending of a scene: tone map, encode to sRGB, add grain, clamp.
vec4 finish(vec3 linear_color, vec2 frag_coord, float time, float grain_amount) {
    vec3 c = linear_to_srgb_fast(tone_map(linear_color, 1.0));
    c = film_grain(c, frag_coord, time, grain_amount);
    return vec4(clamp(c, 0.0, 1.0), 1.0);
}
