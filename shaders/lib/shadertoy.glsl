// Shadertoy compatibility: paste a Shadertoy shader below the include of this file
// and it runs as a scene. Its sound input (iChannel0) is the audio texture u_audio: row 0
// spectrum, row 1 waveform, 512 x 2 like Shadertoy's. Only what scenes can honour is
// mapped: iTime, iResolution, iFrame (at 60 fps), iTimeDelta (1/60), iMouse (zero),
// iDate (zero), iChannel0, iChannelResolution[0].

#define iTime u_time
#define iGlobalTime u_time
#define iResolution vec3(u_resolution, 1.0)
#define iFrame int(u_time * 60.0)
#define iTimeDelta (1.0 / 60.0)
#define iMouse vec4(0.0)
#define iDate vec4(0.0)
#define iChannel0 u_audio
#define iChannelResolution (vec3[4](vec3(512.0, 2.0, 1.0), vec3(0.0), vec3(0.0), vec3(0.0)))

void mainImage(out vec4 fragColor, in vec2 fragCoord);

void main() {
    vec4 c = vec4(0.0, 0.0, 0.0, 1.0);
    mainImage(c, gl_FragCoord.xy);
    fragColor = vec4(clamp(c.rgb, 0.0, 1.0), 1.0);
}
