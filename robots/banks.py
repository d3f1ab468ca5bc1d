"""Bank and branch codes (統一金融機関コード・店舗コード) from the names written on the form.

The form carries a bank name plus a ticked type (銀行, 信用金庫 …) and a
branch name plus its type (本店, 支店, 出張所); the legacy screen wants the
4-digit bank code and the 3-digit branch code. The ``zengin-code`` package
holds the 全銀協 master, where a 信用金庫 is spelt ``神戸信金`` and a 出張所
carries its type in its name.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from zengin_code import Bank

from robots.errors import UnknownBankError

#: How the master spells a bank of each type (suffixes tried after the bare name).
_BANK_SUFFIXES = {
    "bank": ("", "銀行"),
    "shinkin": ("信金", "信用金庫"),
    "shinkumi": ("信組", "信用組合"),
    "nokyo": ("農協", ""),
    "rokin": ("労金", ""),
}
#: Words residents write that the master leaves out.
_BANK_TYPE_WORDS = ("銀行", "信用金庫", "信用組合", "農業協同組合", "労働金庫")
_BRANCH_TYPE_WORDS = ("支店", "本店", "出張所")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "")


@cache
def _banks() -> dict[str, str]:
    return {_norm(bank.name): code for code, bank in Bank.all.items()}


@cache
def _branches(bank_code: str) -> dict[str, str]:
    return {_norm(b.name): code for code, b in Bank.all[bank_code].branches.items()}


def _strip(name: str, words: tuple[str, ...]) -> str:
    for word in words:
        if name.endswith(word) and len(name) > len(word):
            return name[: -len(word)]
    return name


def bank_code(bank_name: str, bank_type: str | None) -> str:
    """The 4-digit code of ``bank_name`` (written without its type) of ``bank_type``."""
    base = _strip(_norm(bank_name), _BANK_TYPE_WORDS)
    suffixes = _BANK_SUFFIXES.get(bank_type or "bank", ("",))
    banks = _banks()
    for suffix in suffixes:
        code = banks.get(base + suffix)
        if code is not None:
            return code
    raise UnknownBankError(
        "bank_name", f"金融機関「{bank_name}」が全銀協の金融機関コードに見つかりません"
    )


def branch_code(bank: str, branch_name: str, branch_type: str | None) -> str:
    """The 3-digit code of the branch of bank ``bank`` (a bank code)."""
    name = _norm(branch_name)
    base = _strip(name, _BRANCH_TYPE_WORDS)
    if branch_type == "honten":
        candidates = [name, base + "本店" if base != "本店" else "本店", "本店", "本店営業部"]
    elif branch_type == "shutchojo":
        candidates = [base + "出張所", name]
    else:
        candidates = [base, base + "支店", name]
    branches = _branches(bank)
    for candidate in candidates:
        code = branches.get(candidate)
        if code is not None:
            return code
    raise UnknownBankError("branch_name", f"支店「{branch_name}」が店舗コードに見つかりません")


def bank_and_branch_codes(
    bank_name: str, bank_type: str | None, branch_name: str, branch_type: str | None
) -> tuple[str, str]:
    """``("三井住友", "bank", "神戸駅前", "shiten")`` → ``("0009", "313")``.

    Raises :class:`robots.errors.UnknownBankError` (a business finding: a
    reviewer reads the passbook copy) when a name is not in the master.
    """
    code = bank_code(bank_name, bank_type)
    return code, branch_code(code, branch_name, branch_type)
