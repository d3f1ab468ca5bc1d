"""``python -m legacy serve ...`` (the same as ``shinsei legacy serve``)."""

from legacy.cli import app

app()
