// Deterministic hashes and smooth noise. Integer hashes (PCG), so every driver gives the
// same values for the same inputs: no sin()-based hashes, no unseeded randomness.

uint pcg_hash(uint v) {
    uint state = v * 747796405u + 2891336453u;
    uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// 3 x 32-bit hash (Jarzynski & Olano 2020, "Hash Functions for GPU Rendering").
uvec3 pcg3d(uvec3 v) {
    v = v * 1664525u + 1013904223u;
    v.x += v.y * v.z; v.y += v.z * v.x; v.z += v.x * v.y;
    v ^= v >> 16u;
    v.x += v.y * v.z; v.y += v.z * v.x; v.z += v.x * v.y;
    return v;
}

// Uniform in [0, 1) from an integer lattice point.
float hash11(int i) { return float(pcg_hash(uint(i))) * (1.0 / 4294967296.0); }
// One PCG round on a linear mix of the coordinates (large odd multipliers): good enough for
// value noise and half the cost of hashing twice (llvmpipe shades every pixel on the CPU).
float hash21(ivec2 i) {
    return float(pcg_hash(uint(i.x) * 1597334677u + uint(i.y) * 3812015801u))
         * (1.0 / 4294967296.0);
}
vec3 hash33(ivec3 i) { return vec3(pcg3d(uvec3(i))) * (1.0 / 4294967296.0); }

// 1D value noise in [0, 1], C1-smooth.
float vnoise(float x) {
    float i = floor(x);
    float f = x - i;
    float u = f * f * (3.0 - 2.0 * f);
    int k = int(i);
    return mix(hash11(k), hash11(k + 1), u);
}

// 2D value noise in [0, 1], C1-smooth.
float vnoise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = p - i;
    vec2 u = f * f * (3.0 - 2.0 * f);
    ivec2 k = ivec2(i);
    float a = hash21(k);
    float b = hash21(k + ivec2(1, 0));
    float c = hash21(k + ivec2(0, 1));
    float d = hash21(k + ivec2(1, 1));
    return mix(mix(a, b, u.x), mix(c, d, u.x), u.y);
}

// Two octaves are enough for haze; rotate between octaves to hide the lattice.
float fbm2(vec2 p) {
    float v = 0.65 * vnoise(p);
    p = mat2(0.8, -0.6, 0.6, 0.8) * p * 2.03 + vec2(17.3, -9.1);
    v += 0.35 * vnoise(p);
    return v;
}
