"""What can go wrong while keying, each class saying what it means for the document.

System faults (:class:`shinsei.errors.SystemError_`) are retried with backoff
and end as ``failed``; business findings (:class:`shinsei.errors.BusinessError`)
send the document to a reviewer and are never retried; a wrong installation
(:class:`shinsei.errors.ConfigError`) stops the run.
"""

from __future__ import annotations

from shinsei.errors import BusinessError, ConfigError, SystemError_


class LegacyFaultError(SystemError_):
    """The legacy system did not answer as it should; retried."""

    reason_ja = "基幹システムの応答異常"


class LegacyBusyError(LegacyFaultError):
    """「只今大変混み合っております」."""

    reason_ja = "基幹システムが混雑（只今大変混み合っております）"


class LegacyMaintenanceError(LegacyFaultError):
    """The system is in its maintenance window."""

    reason_ja = "基幹システムがメンテナンス中"


class LegacyUnreachableError(LegacyFaultError):
    """No answer: connection dropped, refused or timed out."""

    reason_ja = "基幹システムに接続できない（切断・タイムアウト）"


class SessionExpiredError(LegacyFaultError):
    """The login screen came back: the session expired; log in again."""

    reason_ja = "セッション切れ"


class UnexpectedScreenError(LegacyFaultError):
    """A screen other than the expected one (an error page, an invalid transition)."""

    reason_ja = "想定外の画面"


class AlreadyRegisteredError(LegacyFaultError):
    """登録 answered that the applicant is already registered: start over with the search."""

    reason_ja = "登録時に登録済みと判明"


class LegacyLoginError(ConfigError):
    """The legacy system refused the robot's credentials: stop the run."""


class LegacyRefusedError(BusinessError):
    """The legacy system refused values (red messages next to fields): a reviewer must look.

    ``fields`` maps the entry's attribute (``account_number`` …) to the
    system's message.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class ApplicantNotFoundError(BusinessError):
    """The search found nobody with the document's key."""


class UnknownBankError(BusinessError):
    """No bank / branch code matches the names written on the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class KeyingMismatchError(BusinessError):
    """What the legacy system holds differs from what the document says.

    ``fields`` are the entry attributes that differ (values are not kept:
    they may be personal numbers).
    """

    def __init__(self, fields: list[str], *, existing: bool) -> None:
        where = "登録済みの内容" if existing else "登録後に読み直した内容"
        super().__init__(f"{where}が申請書と一致しません: {', '.join(fields)}")
        self.fields = fields
        self.existing = existing
