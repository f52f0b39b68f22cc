"""The pyo engine: server, sources, analysis graph, block tap and publisher (pyo only).

pyo is imported here, once, before any module of the engine uses it: without a display or a
sound card it must not look for wxPython nor start a JACK server, and when neither wxPython
nor Tkinter is installed (a bare Debian) its import prints a banner on standard output,
where ``installation gaps --json`` and ``features --jsonl`` write their data. The banner is
kept from stdout and logged at debug level instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os

os.environ.setdefault("PYO_GUI_WX", "0")
os.environ.setdefault("JACK_NO_START_SERVER", "1")

_banner = io.StringIO()
with contextlib.redirect_stdout(_banner):
    import pyo  # noqa: E402,F401
if _banner.getvalue().strip():
    logging.getLogger(__name__).debug("pyo said on import: %s",
                                      " ".join(_banner.getvalue().split()))
del _banner
