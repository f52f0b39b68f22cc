// ISF compatibility: include this in a scene brought from an ISF host (VDMX, Resolume,
// Millumin, the ISF editor) and most of its built-ins work unchanged. Two changes remain
// by hand: an input NAME is the uniform p_NAME here (add `#define NAME p_NAME` after this
// include, or rename), and ISF's audio inputs are the Shadertoy-style u_audio texture
// (spectrum at y = 0.25, waveform at y = 0.75).

#define TIME u_time
#define RENDERSIZE u_resolution
#define FRAMEINDEX int(u_time * 60.0)
#define TIMEDELTA (1.0 / 60.0)
#define DATE vec4(0.0)
#define PASSINDEX 0
#define isf_FragNormCoord (gl_FragCoord.xy / u_resolution)
#define vv_FragNormCoord isf_FragNormCoord
#define gl_FragColor fragColor
#define IMG_SIZE(img) vec2(textureSize(img, 0))
#define IMG_NORM_PIXEL(img, coord) texture(img, coord)
#define IMG_PIXEL(img, coord) texture(img, (coord) / vec2(textureSize(img, 0)))
#define IMG_THIS_NORM_PIXEL(img) texture(img, isf_FragNormCoord)
#define IMG_THIS_PIXEL(img) texture(img, isf_FragNormCoord)
