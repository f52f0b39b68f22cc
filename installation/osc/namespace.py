"""The OSC namespace, defined once: every address, its types, range, unit and meaning.

Features go out under ``<prefix>/...`` (one bundle per audio block); control comes in under
``<prefix>/...`` on the control port. Dispatch, validation and ``docs/osc.md`` are all
derived from :data:`OUT` and :data:`IN`; nothing else spells an address.
"""

from __future__ import annotations

from dataclasses import dataclass

from installation.features import FEATURE_NAMES, SPEC_BY_NAME


@dataclass(frozen=True, slots=True)
class Address:
    path: str          # relative to the prefix, e.g. "/level/rms"
    types: str         # OSC type tags of the arguments, e.g. "f", "s", "fi"
    unit: str
    lo: float | None
    hi: float | None
    access: str        # "out" (sent by the engine) or "in" (control)
    description: str
    feature: str | None = None  # the feature frame field it carries, if any


# Feature name → address path. Every feature must appear exactly once (checked below).
_FEATURE_PATHS: dict[str, str] = {
    "level_rms_db": "/level/rms",
    "level_peak_db": "/level/peak",
    "band_low_db": "/band/low",
    "band_mid_db": "/band/mid",
    "band_high_db": "/band/high",
    "onset_strength": "/onset/strength",
    "onset": "/onset/trigger",
    "pitch_hz": "/pitch/hz",
    "voicing": "/pitch/confidence",
    "centroid_hz": "/spectrum/centroid",
    "voice": "/voice/active",
    "gap_s": "/gap/elapsed",
}


def _feature_address(name: str) -> Address:
    spec = SPEC_BY_NAME[name]
    types = "i" if spec.kind in ("bool", "trigger") else "f"
    return Address(_FEATURE_PATHS[name], types, spec.unit, spec.lo, spec.hi, "out",
                   spec.description, feature=name)


FRAME = Address("/frame", "di", "s, block", 0.0, None, "out",
                "first message of every bundle: the frame's time (s from stream start, end "
                "of its block) and block index. The bundle's timetag is the wall-clock time "
                "the block was measured")

OUT: tuple[Address, ...] = (FRAME, *(_feature_address(n) for n in FEATURE_NAMES))

SCENE = Address("/scene", "s", "name", None, None, "in",
                "switch to the scene of that name (a file in shaders/ without .frag)")
MASTER = Address("/master", "f", "level", 0.0, 1.0, "in", "master output level, 0 to 1")
BLACKOUT = Address("/blackout", "i", "bool", 0.0, 1.0, "in",
                   "1 fades the output to black, 0 fades it back (ints, floats or T/F accepted)")

IN: tuple[Address, ...] = (SCENE, MASTER, BLACKOUT)
IN_BY_PATH: dict[str, Address] = {a.path: a for a in IN}
FEATURE_BY_PATH: dict[str, Address] = {a.path: a for a in OUT if a.feature}

if sorted(_FEATURE_PATHS) != sorted(FEATURE_NAMES):
    raise RuntimeError("every feature needs exactly one OSC address")


def markdown(prefix: str = "/her") -> str:
    """The namespace as Markdown tables (the body of docs/osc.md)."""

    def rng(a: Address) -> str:
        if a.lo is None and a.hi is None:
            return ""
        return f"{a.lo:g} … {a.hi:g}" if a.hi is not None else f"≥ {a.lo:g}"

    lines = ["### Sent by the engine (one bundle per audio block, in this order)", "",
             "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in OUT]
    lines += ["", "### Received on the control port", "",
              "| address | types | unit | range | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{prefix}{a.path}` | `{a.types}` | {a.unit} | {rng(a)} | {a.description} |"
              for a in IN]
    return "\n".join(lines) + "\n"
