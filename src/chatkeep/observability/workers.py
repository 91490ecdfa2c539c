"""The shared metrics directory that lets several worker processes report as one (`serve --workers N`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from chatkeep.observability.metrics import MULTIPROC_ENV


@contextlib.contextmanager
def metrics_directory(workers: int) -> Iterator[Path | None]:
    """Give the worker processes a clean PROMETHEUS_MULTIPROC_DIR for the duration of the block.

    One worker needs none (its own registry is the whole truth). With several, a directory the operator
    set in the environment is used and emptied first (stale files would add a past run's counts); else a
    fresh temporary one is made and removed afterwards. Workers are new processes, which read the
    variable when they import prometheus-client: this process's own import has happened already.
    """
    if workers <= 1:
        yield None
        return
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="chatkeep-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
