"""Page-object machinery in real Chromium on pages of its own: reading and choosing at once."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psutil
import pytest
from playwright.async_api import Page

from robots import pages
from robots.browser import chromium_executable, frames_drawn, frames_on_demand
from robots.errors import (
    AlreadyRegisteredError,
    ApplicantNotFoundError,
    LegacyBusyError,
    LegacyRefusedError,
    UnexpectedScreenError,
)
from tests.robots.conftest import BrowserRunner

pytestmark = pytest.mark.browser

T = TypeVar("T")

SYSTEM = "神戸市 住民サービス統合システム"

DETAIL = f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 特別定額給付金 世帯詳細</title></head><body>
<h1>特別定額給付金 世帯詳細</h1>
<table id="household"><caption>世帯情報</caption>
  <tr><th scope="row">申請者番号</th><td>0100000001</td></tr>
  <tr><th scope="row">住所</th><td>〒650-0001
    神戸市中央区加納町6丁目5-1</td></tr>
  <tr><th scope="row">受付番号</th><td></td></tr>
</table>
<table id="members"><caption>給付対象者</caption>
  <tr><th>番号</th><th>氏名</th></tr>
  <tr><td>1</td><td>山田　太郎</td><td><a href="http://legacy.test/kf/a/1">詳細</a></td></tr>
  <tr><td>2</td><td>山田　花子</td><td><a href="http://legacy.test/kf/a/2">詳細</a></td></tr>
</table>
<p><a href="http://legacy.test/kf/entry/0100000001">申請受付入力</a>
<a href="http://legacy.test/kf/a/9">詳細</a></p>
</body></html>"""

ENTRY = f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 入力</title></head><body><form>
<select name="d_era" aria-label="申請日 元号"><option value=""></option>
  <option value="平成">平成</option><option value="令和">令和</option></select>
<label for="kind">預金種目</label>
<select id="kind" name="kind"><option value=""></option><option value="1">普通</option>
  <option value="2">当座</option></select>
<label><input type="radio" name="pay" value="t"> 口座振込</label>
<label><input type="radio" name="pay" value="c" checked> 口座の写し添付</label>
<input type="checkbox" name="r2" aria-label="給付対象者2 受給辞退">
<label><input type="checkbox" name="id_dl" checked> 運転免許証</label>
<label><input type="checkbox" name="id_pp" disabled> パスポート</label>
</form></body></html>"""

TYPING = f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 入力</title></head><body><form>
<label for="acct">口座番号</label><input id="acct" name="acct" maxlength="7">
<input type="text" name="d_year" aria-label="申請日 年" maxlength="2" value="1">
<label for="holder">口座名義（ｶﾅ）</label><textarea id="holder" name="holder"></textarea>
<label for="mn">個人番号</label><input type="password" id="mn" name="mn" value="999">
<label for="ro">受付番号</label><input id="ro" name="ro" readonly value="KF2020-000001">
<label for="t1">電話番号</label><input id="t1" name="t1">
<label for="t2">電話番号</label><input id="t2" name="t2">
<label><input type="checkbox" name="c" value="x"> 同意</label>
<label for="memo">メモ</label><input id="memo" name="memo">
<input name="hid" aria-label="備考" style="display:none">
<label for="after">連絡事項</label><input id="after" name="after">
</form><script>
window.typed = [];
document.addEventListener('input', e => window.typed.push(e.target.name));
</script></body></html>"""


def _on_page(runner: BrowserRunner, html: str, use: Callable[[Page], Awaitable[T]]) -> T:
    async def scenario() -> T:
        context = await runner.browser.new_context()
        try:
            page = await context.new_page()
            await page.set_content(html)
            return await use(page)
        finally:
            await context.close()

    return runner.run(scenario)


def test_a_read_screen_is_read_whole_on_arrival(browser_runner: BrowserRunner) -> None:
    async def use(page: Page) -> pages.KyufukinDetailPage:
        return await pages.KyufukinDetailPage(page).arrive()

    detail = _on_page(browser_runner, DETAIL, use)

    assert detail.shown.title == "特別定額給付金 世帯詳細"
    identity = pages.Table("世帯情報").pairs(detail.shown)
    assert identity["申請者番号"] == "0100000001"
    assert identity["住所"].startswith("〒650-0001")
    assert detail.read_receipt_no() is None  # an empty cell: not registered
    assert pages.Table("給付対象者").rows(detail.shown)[2][:2] == ["2", "山田　花子"]
    assert pages.Table("ない表").rows(detail.shown) == []
    assert pages.Link("詳細", within="給付対象者").hrefs(detail.shown) == [
        "http://legacy.test/kf/a/1",
        "http://legacy.test/kf/a/2",
    ]
    assert len(pages.Link("詳細").hrefs(detail.shown)) == 3
    assert pages.Link("申請受付入力").href(detail.shown) == "http://legacy.test/kf/entry/0100000001"
    with pytest.raises(UnexpectedScreenError):
        pages.Link("登録内容を表示").href(detail.shown)


@pytest.mark.parametrize(
    ("title", "body", "error"),
    [
        ("只今大変混み合っております", "", LegacyBusyError),
        (
            "エラー",
            '<p role="alert">既に登録されています（受付番号：KF2020-000001）。</p>',
            AlreadyRegisteredError,
        ),
        ("業務メニュー", "", UnexpectedScreenError),
    ],
    ids=["busy", "already-registered", "another-screen"],
)
def test_a_read_screen_that_is_not_there_raises_what_it_shows(
    browser_runner: BrowserRunner, title: str, body: str, error: type[Exception]
) -> None:
    html = f'<html><head><meta charset="utf-8"><title>{SYSTEM} - {title}</title></head>'
    html += f"<body>{body}</body></html>"

    async def use(page: Page) -> str:
        try:
            await pages.KyufukinReceiptPage(page).arrive()
        except error as exc:
            return str(exc)
        return ""

    message = _on_page(browser_runner, html, use)

    assert message
    if error is AlreadyRegisteredError:
        assert "KF2020-000001" in message


def _results(*rows: tuple[str, str]) -> str:
    cells = "".join(
        f"<tr><td>{number}</td><td>山田　花子</td><td>{status}</td>"
        f'<td><a href="http://legacy.test/kn/residents/{number}">詳細</a></td></tr>'
        for number, status in rows
    )
    return f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 要介護認定申請 検索結果一覧</title></head><body>
<table><caption>検索結果</caption><tr><th>宛名番号</th><th>氏名</th><th>受付状況</th>
<th>操作</th></tr>{cells}</table></body></html>"""


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("000123", "未受付")], (None, "000123")),
        ([("000123", "受付済（KN2020-000042）")], ("KN2020-000042", "000123")),
        ([], ApplicantNotFoundError),
        ([("000123", "未受付"), ("000124", "未受付")], UnexpectedScreenError),
        ([("000123", "保留")], UnexpectedScreenError),
    ],
    ids=["not-registered", "registered", "none-found", "two-found", "unknown-status"],
)
def test_the_result_list_tells_whether_the_one_applicant_found_is_registered(
    browser_runner: BrowserRunner, rows: list[tuple[str, str]], expected: Any
) -> None:
    async def use(page: Page) -> Any:
        results = await pages.KaigoResultsPage(page).arrive()
        try:
            return results.read_receipt_no(), results.read_member_no()
        except (ApplicantNotFoundError, UnexpectedScreenError) as exc:
            return exc

    seen = _on_page(browser_runner, _results(*rows), use)

    if isinstance(expected, tuple):
        assert seen == expected
    else:
        assert type(seen) is expected, seen


def test_choices_are_set_in_one_round_trip(browser_runner: BrowserRunner) -> None:
    async def use(page: Page) -> dict[str, Any]:
        await pages.choose(
            page,
            pages.select("申請日 元号", "令和"),
            pages.select("預金種目", "普通"),
            pages.radio("口座振込"),
            pages.radio(None),  # blank: skipped
            pages.checkbox("給付対象者2 受給辞退"),
            pages.checkbox("運転免許証"),  # already ticked: stays ticked
        )
        state: dict[str, Any] = await page.evaluate(
            """() => Object.fromEntries(Array.from(document.forms[0].elements,
                el => [el.name + (el.type === 'radio' ? ':' + el.value : ''),
                       el.type === 'radio' || el.type === 'checkbox' ? el.checked : el.value]))"""
        )
        failures = []
        try:  # the screen is right, the value is not one it can hold: for a reviewer
            await pages.choose(page, pages.select("預金種目", "定期", "account_type"))
        except LegacyRefusedError as exc:
            failures.append(exc.fields)
        for wrong in (
            pages.radio("受給辞退（世帯全員）"),
            pages.checkbox("パスポート"),  # disabled: cannot be ticked
        ):
            try:
                await pages.choose(page, wrong)
            except UnexpectedScreenError as exc:
                failures.append(str(exc))
        state["failures"] = failures
        return state

    state = _on_page(browser_runner, ENTRY, use)

    assert state["d_era"] == "令和" and state["kind"] == "1"
    assert state["pay:t"] is True and state["pay:c"] is False
    assert state["r2"] is True and state["id_dl"] is True and state["id_pp"] is False
    assert len(state["failures"]) == 3
    assert state["failures"][0] == {"account_type": "「定期」は預金種目の選択肢にありません"}
    assert "受給辞退（世帯全員）" in state["failures"][1]


def test_the_headless_browser_draws_only_when_asked(browser_runner: BrowserRunner) -> None:
    # A frame is due 300 ms after asking at the latest, when the browser draws on its own.
    frame_or_not = """() => new Promise(done => {
        requestAnimationFrame(() => done('drawn'));
        setTimeout(() => done('not drawn'), 300);
    })"""

    async def use(page: Page) -> dict[str, Any]:
        seen: dict[str, Any] = {"unasked": await page.evaluate(frame_or_not)}
        async with frames_drawn(page):
            seen["asked"] = await page.evaluate(frame_or_not)
            seen["shot"] = await page.screenshot(
                full_page=True, mask=[page.get_by_label("口座番号", exact=True)], timeout=10_000
            )
        return seen

    seen = _on_page(browser_runner, ENTRY, use)

    if frames_on_demand(chromium_executable(), headless=True):
        assert seen["unasked"] == "not drawn"
    assert seen["asked"] == "drawn"
    assert seen["shot"].startswith(b"\x89PNG") and len(seen["shot"]) > 1000


def test_our_disabled_features_keep_playwrights(browser_runner: BrowserRunner) -> None:
    # Chromium keeps the last --disable-features: ours must still hold every one of
    # Playwright's (a newer Playwright with a longer list fails here, not in production).
    lists = []
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            command = process.cmdline()
            if (
                command
                and "chrom" in command[0]
                and not any(a.startswith("--type=") for a in command)
            ):
                lists += [
                    a.split("=", 1)[1].split(",")
                    for a in command
                    if a.startswith("--disable-features=")
                ]
    assert len(lists) >= 2, lists  # Playwright's, then ours
    assert set(lists[-1]) >= set().union(*lists[:-1])
    assert "RenderDocument" in lists[-1]


def test_text_is_typed_into_a_box_found_by_its_label(browser_runner: BrowserRunner) -> None:
    async def use(page: Page) -> dict[str, Any]:
        await pages.TextBox("口座番号").fill(page, "123456789")
        await pages.TextBox("申請日 年").fill(page, "7")  # over the 1 it held
        await pages.TextBox("口座名義（ｶﾅ）").fill(page, "ﾔﾏﾀﾞ ﾀﾛｳ")
        await pages.TextBox("個人番号").fill(page, "")  # cleared
        failures = []
        for label in ("受付番号", "電話番号", "同意", "ない欄"):
            try:
                await pages.TextBox(label).fill(page, "1")
            except UnexpectedScreenError as exc:
                failures.append(str(exc))
        # a screen's boxes in one call, in order, up to one that will not take the caret
        try:
            await pages.type_text(page, ("メモ", "先に入力"), ("備考", "x"), ("連絡事項", "y"))
        except UnexpectedScreenError as exc:
            failures.append(str(exc))
        state: dict[str, Any] = await page.evaluate(
            """() => Object.fromEntries(Array.from(document.forms[0].elements,
                el => [el.name, el.type === 'checkbox' ? el.checked : el.value]))"""
        )
        state["typed"] = await page.evaluate("window.typed")
        state["failures"] = failures
        return state

    state = _on_page(browser_runner, TYPING, use)

    # insertText, where the browser applies maxlength as it does to a clerk's typing
    assert state["acct"] == "1234567"
    assert state["d_year"] == "7" and state["holder"] == "ﾔﾏﾀﾞ ﾀﾛｳ" and state["mn"] == ""
    assert {"acct", "d_year", "holder", "mn"} <= set(state["typed"])  # input events, as typing
    # read-only, two boxes of one label, not a text box, no such box: nothing typed
    assert state["ro"] == "KF2020-000001" and state["t1"] == state["t2"] == ""
    assert state["c"] is False
    assert [f.split("」")[0] for f in state["failures"]] == [
        "入力欄「受付番号",
        "入力欄「電話番号",
        "入力欄「同意",
        "入力欄「ない欄",
        "入力欄「備考",
    ]
    assert "2個" in state["failures"][1]
    assert state["failures"][4] == "入力欄「備考」に入力できません"
    assert state["memo"] == "先に入力" and state["hid"] == state["after"] == ""


FORM = f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 入力内容確認</title></head><body>
<form method="post" action="/register"><input type="hidden" name="k" value="v">
<button type="button" onclick="history.back();">戻る</button>
<button type="submit" onclick="return confirm('よろしいですか？');">登録</button>
</form><form method="post" action="/x"><button>二重</button></form>
<form method="post" action="/y"><button>二重</button></form></body></html>"""


def test_a_button_is_clicked_in_the_page_and_its_form_posted(
    browser_runner: BrowserRunner,
) -> None:
    async def scenario() -> dict[str, Any]:
        context = await browser_runner.browser.new_context()
        seen: dict[str, Any] = {"posted": [], "dialogs": []}

        async def serve(route: Any) -> None:
            request = route.request
            if request.method == "POST":
                seen["posted"].append((request.url, request.post_data))
            await route.fulfill(body=FORM, content_type="text/html; charset=utf-8")

        async def answer(dialog: Any) -> None:
            seen["dialogs"].append(dialog.message)
            await dialog.accept()

        try:
            await context.route("http://legacy.test/**", serve)
            page = await context.new_page()
            page.on("dialog", answer)
            await page.goto("http://legacy.test/confirm")
            await pages.submit(page, pages.Button("登録"))
            seen["url"] = page.url
            try:
                await pages.submit(page, pages.Button("二重"))
            except UnexpectedScreenError as exc:
                seen["ambiguous"] = str(exc)
        finally:
            await context.close()
        return seen

    seen = browser_runner.run(scenario)

    assert seen["dialogs"] == ["よろしいですか？"]  # the button's onclick ran
    assert seen["posted"] == [("http://legacy.test/register", "k=v")]
    assert seen["url"] == "http://legacy.test/register"
    assert "二重" in seen["ambiguous"]  # two buttons of that name: none clicked


ENTRY_FORM = f"""<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">
<title>{SYSTEM} - 申請受付入力</title></head><body>
<form method="post" action="/confirm">
<label for="kind">預金種目</label>
<select id="kind" name="kind"><option value=""></option><option value="1">普通</option></select>
<label><input type="checkbox" name="dl" value="1"> 運転免許証</label>
<label for="acct">口座番号</label><input id="acct" name="acct" maxlength="7">
<label for="phone">電話番号</label><input id="phone" name="phone">
<button type="submit">確認</button></form></body></html>"""


def test_a_screen_s_values_go_in_with_the_press_of_its_button(
    browser_runner: BrowserRunner,
) -> None:
    async def scenario() -> dict[str, Any]:
        context = await browser_runner.browser.new_context()
        seen: dict[str, Any] = {"posted": [], "failures": []}

        async def serve(route: Any) -> None:
            if route.request.method == "POST":
                seen["posted"].append(route.request.post_data)
            await route.fulfill(body=ENTRY_FORM, content_type="text/html; charset=utf-8")

        try:
            await context.route("http://legacy.test/**", serve)
            page = await context.new_page()
            for choices, boxes in (
                ([pages.select("預金種目", "当座", "account_type")], [("口座番号", "1")]),
                ([pages.checkbox("運転免許証")], [("口座番号", "1"), ("ない欄", "2")]),
            ):  # an option the screen lacks; a box it lacks: nothing is posted
                await page.goto("http://legacy.test/entry")
                try:
                    await pages.submit(page, pages.Button("確認"), choices=choices, boxes=boxes)
                except (LegacyRefusedError, UnexpectedScreenError) as exc:
                    seen["failures"].append(exc)
            await page.goto("http://legacy.test/entry")
            await pages.submit(
                page,
                pages.Button("確認"),
                choices=[pages.select("預金種目", "普通"), None, pages.checkbox("運転免許証")],
                boxes=[("口座番号", "123456789"), ("電話番号", None)],  # blank: skipped
            )
            seen["url"] = page.url
        finally:
            await context.close()
        return seen

    seen = browser_runner.run(scenario)

    refused, missing = seen["failures"]
    assert isinstance(refused, LegacyRefusedError)
    assert refused.fields == {"account_type": "「当座」は預金種目の選択肢にありません"}
    assert isinstance(missing, UnexpectedScreenError) and "ない欄" in str(missing)
    # one post, of the last screen: choices set, text typed (maxlength applied), then sent
    assert seen["posted"] == ["kind=1&dl=1&acct=1234567&phone="]
    assert seen["url"] == "http://legacy.test/confirm"
