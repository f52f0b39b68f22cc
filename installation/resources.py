"""Where the bundled data lives: shaders, audio and the default show.

In a source checkout they sit at the top of the repository, beside the package. In an
installed wheel they are shipped inside the package as ``installation/_data/`` (see
``pyproject.toml``). ``HER_DATA`` overrides both, for tests and odd layouts.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding ``shaders/``, ``audio/`` and ``show.toml``."""
    env = os.environ.get("HER_DATA")
    if env:
        return Path(env)
    bundled = _PACKAGE / "_data"
    if (bundled / "shaders").is_dir():
        return bundled
    return _PACKAGE.parent


def data_path(*parts: str) -> Path:
    """A path under :func:`data_root`; raises FileNotFoundError naming where it looked."""
    path = data_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled file {'/'.join(parts)} not found under {data_root()}")
    return path
