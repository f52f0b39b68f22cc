/*{
    "DESCRIPTION": "A ported example: a shader written for Shadertoy (mainImage, iTime, iResolution, iChannel0 as a sound input), running here below the header and one include, with one constant turned into a parameter. A warm ring whose radius follows the spectrum, the waveform drawn across it.",
    "CREDIT": "installation (written in Shadertoy's dialect to show the port)",
    "CATEGORIES": ["example", "shadertoy"],
    "INPUTS": [
        {"NAME": "ring", "TYPE": "float", "DEFAULT": 0.22, "MIN": 0.05, "MAX": 0.45, "LABEL": "Ring radius"}
    ]
}*/

#include "lib/shadertoy.glsl"

// ---- the Shadertoy shader, as pasted from the site; the one change: its 0.22 radius
// became the parameter p_ring (declared in the header above) ----
void mainImage( out vec4 fragColor, in vec2 fragCoord )
{
    vec2 uv = (fragCoord - 0.5 * iResolution.xy) / iResolution.y;
    float r = length(uv);
    float a = atan(uv.y, uv.x) / 6.2831853 + 0.5;
    float x = abs(a * 2.0 - 1.0);                        // mirrored: the ring closes
    float fft = texture(iChannel0, vec2(0.02 + 0.4 * x, 0.25)).x;
    float ring = p_ring + 0.16 * fft + 0.01 * sin(iTime * 0.7);
    float d = abs(r - ring);
    vec3 warm = vec3(0.95, 0.42, 0.30);
    vec3 col = warm * (0.004 / (d + 0.004)) * (0.35 + fft);
    float wave = texture(iChannel0, vec2(fragCoord.x / iResolution.x, 0.75)).x;
    float line = smoothstep(0.010, 0.0, abs(uv.y - (wave - 0.5) * 0.3));
    col += vec3(1.0, 0.85, 0.7) * line * smoothstep(ring, ring - 0.05, r);
    col += vec3(0.16, 0.07, 0.06) * max(1.0 - r, 0.0);
    fragColor = vec4(col, 1.0);
}
