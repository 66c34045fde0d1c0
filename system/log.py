"""Logging set-up shared by the API and the workers: one line per event, with the process."""

from __future__ import annotations

import logging
import sys


def configure(level: str = "INFO", name: str = "") -> None:
    prefix = f"{name} " if name else ""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s",
        force=True,
    )
