"""The one exception hierarchy of shinsei.

Every error says what it means for the document it concerns:

* :class:`BusinessError` -- the application itself is deficient or cannot be
  handled as sent (unreadable file, unknown form, a value the legacy system
  refuses). It becomes a finding or a per-document error; it is never
  retried, because trying again gives the same answer.
* :class:`SystemError_` -- something around the document failed (the legacy
  system timed out, the database was locked). It is retried, then the
  document is ``failed`` with the reason.
* :class:`ConfigError` -- the installation is wrong (a broken form.yaml, an
  engine that is not installed). It stops the run with a message that says
  what to fix.

Exceptions become outcomes at one boundary per stage (the stage's batch
function), never in every function.
"""

from __future__ import annotations


class ShinseiError(Exception):
    """Base of every error shinsei raises on purpose."""


class ConfigError(ShinseiError):
    """The installation or a definition file is wrong; nothing is retried."""


class BusinessError(ShinseiError):
    """The document cannot be processed as sent; never retried."""


class SystemError_(ShinseiError):  # noqa: N801 - the builtin name is taken
    """A transient fault outside the document; retried, then ``failed``."""


class BadInputError(BusinessError):
    """A scan file that cannot be read: the message names the file and the problem."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class IllegalTransitionError(ShinseiError):
    """A state change DESIGN.md does not allow (a programming error, not retried)."""


class EngineNotInstalledError(ConfigError):
    """An OCR engine was chosen whose package or model is not installed."""
