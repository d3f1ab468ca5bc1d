"""How one application is keyed, per form: search first, then enter, confirm, register, read back.

Each flow is written in the page objects' business verbs only. Everything
before 登録 changes nothing in the legacy system and is repeated in place
after a busy page or a dropped connection; 登録 itself is never repeated:
after a fault there the robot starts over with the search. It returns
the receipt number and whether this run registered the applicant or found
them registered; everything else leaves as an exception of
:mod:`robots.errors` for the robot to turn into an outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from playwright.async_api import Page

from robots.entries import Entry, KaigoEntry, KyufukinEntry, differences
from robots.errors import (
    KeyingMismatchError,
    LegacyBusyError,
    LegacyRefusedError,
    LegacyUnreachableError,
    UnexpectedScreenError,
)
from robots.pages import (
    KaigoConfirmPage,
    KaigoDetailPage,
    KaigoEntryPage,
    KaigoSearchPage,
    KyufukinConfirmPage,
    KyufukinDetailPage,
    KyufukinEntryPage,
    KyufukinSearchPage,
)


@dataclass(frozen=True)
class Keyed:
    """A registration the legacy system holds for the document."""

    receipt_no: str
    outcome: Literal["registered", "existing"]


def _check_confirm(typed: Entry, shown: Entry) -> None:
    """On the 確認 screen, before 登録: a value that does not show as typed did not fit."""
    changed = differences(typed, shown)
    if changed:
        raise LegacyRefusedError(
            {
                name: "確認画面の表示が入力した値と異なります（桁数・文字数の上限を超えています）"
                for name in changed
            }
        )


def _check_registered(typed: Entry, shown: Entry, *, existing: bool) -> None:
    changed = differences(typed, shown)
    if changed:
        raise KeyingMismatchError(changed, existing=existing)


def _existing(detail: KyufukinDetailPage | KaigoDetailPage, entry: Entry) -> Keyed:
    """An applicant the result list shows registered: their registration, compared."""
    receipt_no = detail.read_receipt_no()
    if receipt_no is None:
        raise UnexpectedScreenError("検索結果は受付済ですが、詳細画面に受付番号がありません")
    _check_registered(entry, detail.read_application(), existing=True)
    return Keyed(receipt_no, "existing")


#: A step without side effects (searching, opening, entering up to 確認) is repeated
#: in place this many times, this many seconds apart, when the system was busy or
#: dropped the connection; 登録 never is.
SAFE_ATTEMPTS = 3
SAFE_BACKOFF = 0.5

T = TypeVar("T")


async def repeat_safe(step: Callable[[], Awaitable[T]]) -> T:
    """Run a step that changes nothing in the legacy system, again after a busy page or a drop."""
    for attempt in range(1, SAFE_ATTEMPTS + 1):
        try:
            return await step()
        except (LegacyBusyError, LegacyUnreachableError):
            if attempt == SAFE_ATTEMPTS:
                raise
            await asyncio.sleep(SAFE_BACKOFF * attempt)
    raise AssertionError("unreachable")


async def key_kyufukin(page: Page, base_url: str, entry: KyufukinEntry) -> Keyed:
    """Key one 特別定額給付金 application (search by 申請者番号 first)."""

    async def up_to_confirm() -> Keyed | KyufukinConfirmPage:
        search = await KyufukinSearchPage.open(page, base_url)
        results = await search.find_applicant(entry.applicant_no)
        if results.read_receipt_no() is not None:
            return _existing(await results.open_detail(), entry)
        form = await KyufukinEntryPage.open(page, base_url, entry.applicant_no)
        confirm = await form.confirm_application(entry)
        _check_confirm(entry, confirm.read_application(entry.applicant_no))
        return confirm

    step = await repeat_safe(up_to_confirm)
    if isinstance(step, Keyed):
        return step
    done = await step.register()
    receipt_no = done.read_receipt_no()
    record = await repeat_safe(done.open_record)
    if record.read_receipt_no() != receipt_no:
        raise UnexpectedScreenError("登録内容の受付番号が登録完了画面と異なります")
    _check_registered(entry, record.read_application(), existing=False)
    return Keyed(receipt_no, "registered")


async def key_kaigo(page: Page, base_url: str, entry: KaigoEntry) -> Keyed:
    """Key one 要介護認定 application (search by 被保険者番号, or 個人番号 for 第2号)."""

    async def up_to_confirm() -> Keyed | KaigoConfirmPage:
        search = await KaigoSearchPage.open(page, base_url)
        results = await search.find_applicant(entry)
        if results.read_receipt_no() is not None:
            return _existing(await results.open_detail(), entry)
        form = await KaigoEntryPage.open(page, base_url, results.read_member_no())
        confirm = await form.confirm_application(entry)
        _check_confirm(entry, confirm.read_application())
        return confirm

    step = await repeat_safe(up_to_confirm)
    if isinstance(step, Keyed):
        return step
    done = await step.register()
    receipt_no = done.read_receipt_no()
    record = await repeat_safe(done.open_record)
    if record.read_receipt_no() != receipt_no:
        raise UnexpectedScreenError("登録内容の受付番号が登録完了画面と異なります")
    _check_registered(entry, record.read_application(), existing=False)
    return Keyed(receipt_no, "registered")


#: form_id → its keying flow.
KEYERS: dict[str, Callable[[Page, str, Any], Awaitable[Keyed]]] = {
    "kyufukin": key_kyufukin,
    "kaigo_nintei": key_kaigo,
}
