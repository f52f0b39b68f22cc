// The palette of ART.md in *linear* light (sRGB hex -> linear with the exact sRGB curve).

const vec3 PAL_CORAL      = vec3(0.7454, 0.0865, 0.0497); // #E0533F coral red, the OS1 screen
const vec3 PAL_DEEP_RED   = vec3(0.4452, 0.0331, 0.0242); // #B2332B deep warm red
const vec3 PAL_PEACH      = vec3(0.9047, 0.3763, 0.2232); // #F4A582 peach
const vec3 PAL_APRICOT    = vec3(0.9301, 0.4452, 0.1356); // #F7B267 apricot / soft orange
const vec3 PAL_CREAM      = vec3(0.9647, 0.8070, 0.6514); // #FBE8D3 cream
const vec3 PAL_SHADOW     = vec3(0.0232, 0.0086, 0.0070); // #2A1714 warm shadow, never black
const vec3 PAL_HAZE_LIGHT = vec3(0.8879, 0.5647, 0.4564); // #F2C6B4 haze, dawn
const vec3 PAL_HAZE_DUSK  = vec3(0.8148, 0.3968, 0.3231); // #E9A99A haze, dusk sky
