"""Frame pacing: frame time, dropped frames and the age of the latest feature frame.

Pure python, time injected. The render loop calls :meth:`FramePacing.frame` once per
presented frame with the clock time after ``present()`` (with vsync that is when the frame
went to the display), and :meth:`FramePacing.features` whenever feature frames arrived.
:meth:`FramePacing.report` returns a :class:`PacingReport` every ``interval_s`` seconds,
for the log and OSC ``/status/frame``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PacingReport:
    """Over the last interval: ``fps``; ``frame_ms`` mean and ``worst_ms`` largest time
    between two presented frames; ``feature_age_ms`` how old the latest feature frame was
    at the last frame (-1 before any); ``dropped`` frames that took longer than
    ``drop_factor`` refresh periods (a missed vsync); ``frames`` presented."""

    fps: float
    frame_ms: float
    worst_ms: float
    feature_age_ms: float
    dropped: int
    frames: int

    def line(self) -> str:
        age = "no features yet" if self.feature_age_ms < 0 else \
            f"features {self.feature_age_ms:.0f} ms old"
        return (f"{self.fps:.1f} fps, frame {self.frame_ms:.1f} ms (worst {self.worst_ms:.1f}),"
                f" {self.dropped} dropped, {age}")


class FramePacing:
    """Accumulates frame intervals; ``refresh_hz`` is the display's refresh rate."""

    def __init__(self, *, refresh_hz: float = 60.0, interval_s: float = 1.0,
                 drop_factor: float = 1.5) -> None:
        if not refresh_hz > 0 or not interval_s > 0 or not drop_factor > 1:
            raise ValueError("FramePacing needs refresh_hz > 0, interval_s > 0, drop_factor > 1")
        self.period_s = 1.0 / refresh_hz
        self.interval_s = float(interval_s)
        self.drop_factor = float(drop_factor)
        self._last: float | None = None
        self._since: float | None = None
        self._sum = 0.0
        self._worst = 0.0
        self._n = 0
        self._dropped = 0
        self._feature_at: float | None = None
        self._age = -1.0
        self.total_dropped = 0
        self.total_frames = 0
        self.last_report: PacingReport | None = None

    def features(self, now: float) -> None:
        """Feature frames arrived at ``now`` (s)."""
        self._feature_at = now

    def frame(self, now: float) -> None:
        """A frame was presented at ``now`` (s)."""
        if self._last is not None:
            dt = max(0.0, now - self._last)
            self._sum += dt
            self._worst = max(self._worst, dt)
            self._n += 1
            # a frame that needed k refresh periods hid k - 1 refreshes: those are dropped
            if dt > self.drop_factor * self.period_s:
                missed = int(round(dt / self.period_s)) - 1
                self._dropped += max(1, missed)
        else:
            self._since = now
        self._last = now
        self.total_frames += 1
        self._age = -1.0 if self._feature_at is None else max(0.0, now - self._feature_at)

    def report(self, now: float) -> PacingReport | None:
        """A report when ``interval_s`` has passed since the last one, else None."""
        if self._since is None or now - self._since < self.interval_s or self._n == 0:
            return None
        mean = self._sum / self._n
        rep = PacingReport(fps=self._n / self._sum if self._sum > 0 else 0.0,
                           frame_ms=1000 * mean, worst_ms=1000 * self._worst,
                           feature_age_ms=-1.0 if self._age < 0 else 1000 * self._age,
                           dropped=self._dropped, frames=self._n)
        self.total_dropped += self._dropped
        self._since, self._sum, self._worst, self._n, self._dropped = now, 0.0, 0.0, 0, 0
        self.last_report = rep
        return rep
