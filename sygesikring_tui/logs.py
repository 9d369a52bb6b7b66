"""Logging to a file in the user data dir, with every CPR number masked."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from .paths import user_data_dir

# DDMMYY-SSSS or 10 digits in a row, not inside a longer number.
_CPR_RE = re.compile(r"(?<!\d)(\d{6})-?(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    return _CPR_RE.sub(lambda m: f"{m.group(1)}-XXXX", text)


class MaskCprFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask_text(msg)
        if masked != msg or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def log_path() -> Path:
    folder = user_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "sygesikring-tui.log"


def setup(level: int = logging.INFO, path: Path | None = None) -> Path:
    """Send the app's logs to a private file (0600), CPR numbers masked."""
    path = path or log_path()
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(MaskCprFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return path
