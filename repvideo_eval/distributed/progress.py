"""One tqdm bar per stage in the driver: done / failed / remaining counts and tqdm's ETA."""

from __future__ import annotations

import sys

from tqdm import tqdm


class StageProgress:
    """Counts finished items; items already complete before the run start the bar, not the rate."""

    def __init__(self, stage: str, total: int, skipped: int, *, enabled: bool = True) -> None:
        self.total = total
        self.skipped = skipped
        self.done = 0
        self.failed = 0
        self.workers = 0
        self._bar = tqdm(
            total=total,
            initial=skipped,
            desc=stage,
            unit="item",
            disable=not enabled,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.05,
            # In a log file (Slurm, nohup) every redraw is kept: redraw twice a minute there.
            mininterval=0.1 if sys.stderr.isatty() else 30.0,
        )
        self._show()

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.done - self.failed

    def _show(self) -> None:
        self._bar.set_postfix_str(
            f"done={self.done + self.skipped} failed={self.failed} left={self.remaining} "
            f"workers={self.workers}",
            refresh=False,
        )

    def set_workers(self, count: int) -> None:
        if count != self.workers:
            self.workers = count
            self._show()
            self._bar.refresh()

    def item_done(self) -> None:
        self.done += 1
        self._show()
        self._bar.update(1)

    def item_failed(self) -> None:
        self.failed += 1
        self._show()
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
