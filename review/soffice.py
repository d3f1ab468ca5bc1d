"""LibreOffice headless: what a reviewer's office suite makes of the workbook.

Used by the tests (render to PDF, save again as .xlsx as a LibreOffice user
would) and by ``python -m review.demo --screenshot`` for the picture in
``docs/``. Needs Debian's ``libreoffice-calc`` and ``poppler-utils``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from shinsei.errors import ConfigError


def soffice() -> str:
    """The ``soffice`` executable; :class:`ConfigError` when LibreOffice is not installed."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise ConfigError("LibreOffice is not installed (Debian package libreoffice-calc)")
    return exe


def convert(src: Path, to: str, outdir: Path, profile: Path, *, timeout: float = 180) -> Path:
    """Convert ``src`` with LibreOffice (``to``: ``pdf``, ``xlsx`` …); return the new file.

    ``profile`` is a private user profile directory, so runs never share (or
    lock) the user's own LibreOffice settings.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    out = outdir / f"{src.stem}.{to.split(':')[0]}"
    if not out.is_file():
        raise RuntimeError(f"LibreOffice did not write {out}")
    return out


def first_page_png(pdf: Path, out: Path, *, dpi: int = 110) -> Path:
    """Page 1 of ``pdf`` as a PNG at ``out`` (pdftoppm)."""
    prefix = out.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-png",
            str(pdf),
            str(prefix),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return prefix.with_suffix(".png")
