"""The renderer: scenes (GLSL files), uniforms from feature frames, GL drawing, export.

Modules, from pure to GL:

- :mod:`.scene`     scene files: ISF JSON header, ``#include``, ``#line``, error mapping
- :mod:`.uniforms`  the uniform convention; feature frames + injected time -> uniforms
- :mod:`.png`       a minimal PNG reader/writer (zlib + struct)
- :mod:`.context`   headless EGL context, glfw window, the ``Surface`` interface
- :mod:`.renderer`  ``SceneRenderer``: scene pass + final pass (master, blackout, crossfade)
- :mod:`.preview`   ``render_preview``: feature frames -> MP4 or PNG sequence
- :mod:`.window`    the real-time loop for a window
- :mod:`.synthetic` scripted feature frames (words, pauses, music) without audio

The GL modules import moderngl; import them explicitly (``from installation.render.renderer
import SceneRenderer``) so pure users (OSC, config) do not load GL.
"""
