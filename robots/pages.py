"""Page objects: one class per screen of the legacy system (an extension point).

The keying robot speaks only in business verbs (``login``,
``find_applicant``, ``confirm_application``, ``register``,
``read_receipt_no``, ``read_application``); every locator lives here, made
once in a page object's ``__init__``, by role or label first.

A screen the robot only reads and leaves by a link (検索結果一覧, 詳細,
入力内容確認, 登録完了: a :class:`ReadScreen`) is read whole on arrival, in
one round trip (:func:`read_screen`: its title, every table by its caption,
every link by its text), and its verbs answer from that reading. A
server-rendered screen does not change under the robot, and every
Playwright call on a fresh page costs a round trip through three processes
-- the first one also Playwright's selector engine, compiled into the page
anew. Its locators are :class:`Table` and :class:`Link`: a table by its
caption, a link by its text, the accessible names a role locator would use.

**Adding a screen** (a new form, or the real system's screen replacing the
stand-in's): subclass :class:`Screen`, set ``HEADING`` to the screen's title
(its ``<h1>``), make the locators in ``__init__`` and write methods named
after what a clerk does on it. A method that leaves the screen returns the
page object of the screen it lands on, after :meth:`Screen.arrive` checked
that it is that screen -- which is also where a busy page, the maintenance
page, the login page of an expired session, an error page or a dropped
connection is recognised and raised as a :mod:`robots.errors` fault (for a
:class:`ReadScreen`, from the same one reading). To key
a new form, add its entry type and builder to :mod:`robots.entries`, its
screens here, and its flow to :mod:`robots.keyers`.

Screens of the stand-in and their classes::

    LG0010 ログイン                 LoginPage
    MN0010 業務メニュー             MenuPage
    KF0010 / KN0010 申請検索        KyufukinSearchPage / KaigoSearchPage
    KF0020 / KN0020 検索結果一覧    KyufukinResultsPage / KaigoResultsPage
    KF0030 / KN0030 詳細            KyufukinDetailPage / KaigoDetailPage
    KF0040 / KN0040 申請受付入力    KyufukinEntryPage / KaigoEntryPage
    KF0050 / KN0050 入力内容確認    KyufukinConfirmPage / KaigoConfirmPage
    KF0060 / KN0060 登録完了        KyufukinReceiptPage / KaigoReceiptPage
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import urljoin

from playwright.async_api import Dialog, Locator, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from robots.entries import KaigoEntry, KyufukinEntry
from robots.errors import (
    AlreadyRegisteredError,
    ApplicantNotFoundError,
    LegacyBusyError,
    LegacyLoginError,
    LegacyMaintenanceError,
    LegacyRefusedError,
    LegacyUnreachableError,
    SessionExpiredError,
    UnexpectedScreenError,
)
from robots.wareki import WarekiDate

S = TypeVar("S", bound="Screen")
R = TypeVar("R", bound="ReadScreen")
E = TypeVar("E", bound="_EntryScreen")

BUSY = "只今大変混み合っております"
MAINTENANCE = "システムメンテナンス中"
LOGIN = "ログイン"
ERROR = "エラー"

# What a screen shows, in one round trip: its title, every table (by caption) as rows
# of cell texts, every link as [text, href, caption of the table it sits in], the alerts.
_SCREEN_JS = """() => {
    const text = el => (el ? el.innerText.trim() : '');
    const tables = {};
    for (const table of document.querySelectorAll('table')) {
        const name = table.caption ? text(table.caption) : (table.getAttribute('aria-label') || '');
        tables[name] = Array.from(table.rows, row => Array.from(row.cells, text));
    }
    const links = Array.from(document.querySelectorAll('a[href]'), a => {
        const table = a.closest('table');
        return [text(a), a.href, table && table.caption ? text(table.caption) : ''];
    });
    const alerts = Array.from(document.querySelectorAll('[role=alert]'), text);
    return {title: document.title, tables, links, alerts};
}"""


# Click a form's button in the page, as a clerk's click does it: its onclick (a confirm())
# runs, then the form is posted. How many buttons had that name comes back (1, or none clicked).
_CLICK_JS = r"""name => {
    const squash = text => text.replace(/\s+/g, ' ').trim();
    const found = Array.from(document.querySelectorAll('button, input[type=submit]')).filter(
        b => squash(b.getAttribute('aria-label') || b.innerText || b.value || '') === name
            && !b.disabled);
    if (found.length === 1) found[0].click();
    return found.length;
}"""


@dataclass(frozen=True)
class Button:
    """A form's button, by its text (its accessible name, as a role locator would use)."""

    name: str


async def submit(
    page: Page,
    button: Button,
    *,
    choices: Sequence[Choice | None] = (),
    boxes: Sequence[tuple[str, str | None]] = (),
) -> None:
    """Set a screen's ``choices`` and type its ``boxes`` (blank ones skipped), then click
    its button, in one round trip, and wait for the page it leads to.

    The values go in as :func:`choose` and :func:`type_text` put them, in
    that order; a choice or a box that cannot be set raises what they raise,
    and then nothing is clicked. Sent together, a screen costs one message
    through Playwright's driver, the browser and the renderer instead of
    three.

    The button is clicked in the page (``HTMLElement.click()``): its
    ``onclick`` (a ``confirm()``) runs and the form is posted, as by a
    clerk's click, without what Playwright's click adds for a page that may
    move (scrolling, two animation frames to see the button stand still, a
    hit test), which these static screens do not need. Measured against
    pressing Enter on the button (``Locator.press``), the page arrives about
    60 ms sooner and the screen needs no selector engine. A connection the
    system dropped, refused or let time out is raised as
    :class:`LegacyUnreachableError`. A form submission is never repeated
    here: whether it took effect is for the robot to find out.
    """
    wanted = [c for c in choices if c is not None]
    typed = [(label, text) for label, text in boxes if text]
    values = {"choices": wanted, "boxes": [list(b) for b in typed], "button": button.name}
    try:
        async with page.expect_navigation(wait_until="domcontentloaded"):
            try:
                done = await page.evaluate(_SUBMIT_JS, values)
            except PlaywrightError as exc:
                # The next page already replaced this one: the click went through.
                if "context was destroyed" not in exc.message:
                    raise
                done = {"buttons": 1}
            if "missed" in done:
                _raise_for_missed(done["missed"])
            if "typing" in done:
                _raise_for_typing(typed, done["typing"])
            if done["buttons"] != 1:
                raise UnexpectedScreenError(f"ボタン「{button.name}」が{done['buttons']}個あります")
    except PlaywrightTimeoutError as exc:
        raise LegacyUnreachableError(f"timeout: {exc.message.splitlines()[0]}") from exc
    except PlaywrightError as exc:
        raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc


#: A page fetched by URL (GET: no side effect) is fetched again in place when the
#: system was busy or dropped the connection, this many times, this many seconds apart.
GET_ATTEMPTS = 3
GET_BACKOFF = 0.5


async def open_screen(page: Page, url: str, screen: type[S]) -> S:
    """Fetch ``url`` (a GET) and check it shows ``screen``; busy pages and drops are retried."""
    for attempt in range(1, GET_ATTEMPTS + 1):
        try:
            try:
                await page.goto(url, wait_until="domcontentloaded")
            except PlaywrightTimeoutError as exc:
                raise LegacyUnreachableError(f"timeout: {exc.message.splitlines()[0]}") from exc
            except PlaywrightError as exc:
                raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc
            return await screen(page).arrive()
        except (LegacyBusyError, LegacyUnreachableError):
            if attempt == GET_ATTEMPTS:
                raise
            await asyncio.sleep(GET_BACKOFF * attempt)
    raise AssertionError("unreachable")


async def follow(link: Locator, screen: type[S]) -> S:
    """Follow a link (its ``href``, as :func:`open_screen`) to ``screen``."""
    href = await link.get_attribute("href", timeout=5_000)
    if not href:
        raise UnexpectedScreenError("リンクがありません")
    return await open_screen(link.page, urljoin(link.page.url, href), screen)


def evidence_masks(page: Page) -> list[Locator]:
    """What to black out in a failure screenshot: account numbers and 個人番号."""
    return [
        page.get_by_label("口座番号", exact=True),
        page.get_by_label("個人番号", exact=True),
        page.locator("td.sensitive"),
    ]


class Screen:
    """A screen of the legacy system, recognised by its title (``HEADING``)."""

    HEADING: ClassVar[str] = ""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.heading = page.get_by_role("heading", level=1)
        self.alert = page.get_by_role("alert")

    async def arrive(self: S) -> S:
        """Check that the browser shows this screen; raise the fault it shows instead."""
        title = await screen_title(self.page)
        if title != self.HEADING:
            await raise_for_screen(self.page, title, expected=self.HEADING)
        return self


class ReadScreen(Screen):
    """A screen the robot reads and leaves by a link: read whole on arrival (one round trip)."""

    shown: ScreenText

    async def arrive(self: R) -> R:
        """Read the screen; raise the fault it shows when it is not this one."""
        return await self.arrived(await read_screen(self.page))

    async def arrived(self: R, shown: ScreenText) -> R:
        """Take ``shown`` (read already) as this screen; raise the fault it shows if it is not."""
        self.shown = shown
        if shown.title != self.HEADING:
            await raise_for_screen(
                self.page, shown.title, expected=self.HEADING, alerts=shown.alerts
            )
        return self

    async def _follow(self, link: Link, screen: type[S]) -> S:
        """Follow a link of this screen (its ``href``, as :func:`open_screen`) to ``screen``."""
        return await open_screen(self.page, link.href(self.shown), screen)


async def screen_title(page: Page) -> str:
    """The title of the screen shown (``<title>`` is ``<system> - <screen>``), or raise if none."""
    if page.url.startswith("chrome-error://"):
        raise LegacyUnreachableError("接続が切断されました（応答なし）")
    try:
        title = await page.title()
    except PlaywrightError as exc:
        raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc
    return _screen_name(title)


def _screen_name(title: str) -> str:
    if " - " not in title:
        raise UnexpectedScreenError(f"画面タイトルがありません: {title!r}")
    return title.split(" - ", 1)[1].strip()


async def raise_for_screen(
    page: Page, title: str, *, expected: str, alerts: list[str] | None = None
) -> None:
    """Raise the fault a screen other than ``expected`` stands for (``alerts``: as read)."""
    if title == BUSY:
        raise LegacyBusyError(BUSY)
    if title == MAINTENANCE:
        raise LegacyMaintenanceError(MAINTENANCE)
    if title == LOGIN:
        raise SessionExpiredError("ログイン画面に戻されました")
    if title == ERROR:
        if alerts:
            message = alerts[0]
        else:
            message = (await page.get_by_role("alert").first.inner_text()).strip()
        if "既に登録されています" in message or "受付済み" in message:
            raise AlreadyRegisteredError(message)
        raise UnexpectedScreenError(f"エラー画面: {message}")
    raise UnexpectedScreenError(f"「{expected}」のはずが「{title}」が表示されました")


@dataclass(frozen=True)
class ScreenText:
    """What a screen showed when it was read (:func:`read_screen`)."""

    title: str
    tables: dict[str, list[list[str]]]
    links: list[tuple[str, str, str]]
    alerts: list[str]


async def read_screen(page: Page) -> ScreenText:
    """Read the screen shown in one round trip; a page that is not there is a fault."""
    if page.url.startswith("chrome-error://"):
        raise LegacyUnreachableError("接続が切断されました（応答なし）")
    try:
        shown = await page.evaluate(_SCREEN_JS)
    except PlaywrightError as exc:
        raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc
    return ScreenText(
        title=_screen_name(shown["title"]),
        tables=shown["tables"],
        links=[(text, href, table) for text, href, table in shown["links"]],
        alerts=shown["alerts"],
    )


@dataclass(frozen=True)
class Table:
    """A table of a :class:`ReadScreen`, by its caption (its accessible name)."""

    name: str

    def rows(self, shown: ScreenText) -> list[list[str]]:
        """Its rows of cell texts, the header row included; none when it is not shown."""
        return shown.tables.get(self.name, [])

    def pairs(self, shown: ScreenText) -> dict[str, str]:
        """A label → value table (``<th>label</th><td>value</td>`` rows) as a dict."""
        return {row[0]: row[1] for row in self.rows(shown) if len(row) >= 2 and row[0]}


@dataclass(frozen=True)
class Link:
    """A link of a :class:`ReadScreen`, by its text; ``within`` a table's caption."""

    name: str
    within: str | None = None

    def hrefs(self, shown: ScreenText) -> list[str]:
        """Where every such link on the screen leads (absolute URLs)."""
        return [
            href
            for text, href, table in shown.links
            if text == self.name and (self.within is None or table == self.within)
        ]

    def href(self, shown: ScreenText) -> str:
        """Where the one such link leads; a screen without it is not the expected one."""
        hrefs = self.hrefs(shown)
        if not hrefs:
            raise UnexpectedScreenError(f"リンク「{self.name}」がありません")
        return hrefs[0]


# -- login and menu ------------------------------------------------------------------


class LoginPage(Screen):
    """LG0010 ログイン."""

    HEADING = LOGIN

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.user_id = page.get_by_label("利用者ID")
        self.password = page.get_by_label("パスワード")
        self.login_button = Button("ログイン")

    @classmethod
    async def open(cls, page: Page, base_url: str) -> LoginPage:
        return await open_screen(page, f"{base_url}/login", cls)

    async def login(self, user: str, password: str) -> MenuPage:
        """Log in; wrong credentials stop the run (:class:`LegacyLoginError`)."""
        await self.user_id.fill(user)
        await self.password.fill(password)
        await submit(self.page, self.login_button)
        title = await screen_title(self.page)
        if title == LOGIN:
            message = (await self.alert.first.inner_text(timeout=5_000)).strip()
            if "正しくありません" in message:
                raise LegacyLoginError(f"基幹システムがログインを拒否しました: {message}")
            raise UnexpectedScreenError(f"ログインできません: {message}")
        return await MenuPage(self.page).arrive()


class MenuPage(Screen):
    """MN0010 業務メニュー."""

    HEADING = "業務メニュー"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.kyufukin = page.get_by_role("link", name="特別定額給付金 申請受付")
        self.kaigo = page.get_by_role("link", name="介護保険 要介護認定申請 受付")
        self.logout_button = Button("ログアウト")

    @classmethod
    async def open(cls, page: Page, base_url: str) -> MenuPage:
        return await open_screen(page, f"{base_url}/menu", cls)

    async def open_kyufukin(self) -> KyufukinSearchPage:
        return await follow(self.kyufukin, KyufukinSearchPage)

    async def open_kaigo(self) -> KaigoSearchPage:
        return await follow(self.kaigo, KaigoSearchPage)

    async def logout(self) -> LoginPage:
        await submit(self.page, self.logout_button)
        return await LoginPage(self.page).arrive()


# -- shared pieces of the two forms' screens -------------------------------------------


# Set an entry screen's choices in one round trip: a select by its option's text, a radio
# button or a checkbox by its label (clicked, as a clerk clicks it, unless already on).
# The labels that could not be set come back.
_CHOOSE_JS = r"""choices => {
    const squash = text => text.replace(/\s+/g, ' ').trim();
    const name = el => squash(el.getAttribute('aria-label')
        || Array.from(el.labels || [], label => label.innerText).join(' '));
    const missed = [];
    for (const [kind, label, option, attribute] of choices) {
        const found = Array.from(
            document.querySelectorAll(kind === 'select' ? 'select' : `input[type=${kind}]`)
        ).filter(el => name(el) === label && !el.disabled);
        if (found.length !== 1) { missed.push([label, '', attribute]); continue; }
        const el = found[0];
        if (kind === 'select') {
            const match = Array.from(el.options).find(o => squash(o.text) === option);
            if (!match) { missed.push([label, option, attribute]); continue; }
            el.value = match.value;
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
        } else if (!el.checked) {
            el.click();
            if (!el.checked) missed.push([label, '', attribute]);
        }
    }
    return missed;
}"""

#: A choice on an entry screen: ("select", label, option text, entry attribute) or
#: ("radio" | "checkbox", label, "", "").
Choice = tuple[str, str, str, str]


def select(label: str, option: str | None, attribute: str = "") -> Choice | None:
    """The option (by its text) of the select box labelled ``label``; none when blank.

    ``attribute``: the entry's attribute the option comes from, named when
    the system has no such option (:class:`LegacyRefusedError`).
    """
    return ("select", label, option, attribute) if option else None


def radio(option: str | None) -> Choice | None:
    """The radio button labelled ``option``; none when blank."""
    return ("radio", option, "", "") if option else None


def checkbox(label: str) -> Choice:
    """The checkbox labelled ``label``, ticked."""
    return ("checkbox", label, "", "")


def era(label: str, value: WarekiDate | None) -> Choice | None:
    """The 元号 of the date field ``label``."""
    return select(f"{label} 元号", value.era) if value is not None else None


async def choose(page: Page, *choices: Choice | None) -> None:
    """Set a screen's choices (blank ones skipped) in one round trip (:data:`_CHOOSE_JS`)."""
    wanted = [c for c in choices if c is not None]
    try:
        missed = await page.evaluate(_CHOOSE_JS, wanted)
    except PlaywrightError as exc:
        raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc
    if missed:
        _raise_for_missed(missed)


def _raise_for_missed(missed: list[list[str]]) -> None:
    """The choices :data:`_CHOOSE_JS` could not set, as the fault they are."""
    refused = {
        attribute or label: f"「{option}」は{label}の選択肢にありません"
        for label, option, attribute in missed
        if option
    }
    if refused:
        # the screen is the right one; the value is not one the system can hold
        raise LegacyRefusedError(refused)
    labels = "、".join(label for label, _, _ in missed)
    raise UnexpectedScreenError(f"画面に選択肢がありません: {labels}")


# Type into text boxes found by their labels (a <label> for the box, or its aria-label: the
# accessible name get_by_label(exact=True) uses), one after the other. Each box is focused
# with its text selected, as Locator.fill() does before it types, and the text goes in
# through the page's editing ("insertText"): the browser applies maxlength and fires the
# input events of typing. Where a box cannot be typed into, [its index, how many boxes had
# that label (-1: found, but it would not take the caret or the text)] comes back.
_TYPE_JS = r"""pairs => {
    const squash = text => text.replace(/\s+/g, ' ').trim();
    const name = el => squash(el.getAttribute('aria-label')
        || Array.from(el.labels || [], l => l.textContent).join(' '));
    const notText = ['hidden', 'radio', 'checkbox', 'submit', 'button', 'reset', 'file', 'image'];
    const boxes = Array.from(document.querySelectorAll('input, textarea'))
        .filter(el => !notText.includes(el.type)).map(el => [name(el), el]);
    for (let i = 0; i < pairs.length; i++) {
        const [label, value] = pairs[i];
        const found = boxes.filter(([n, el]) => n === label && !el.disabled && !el.readOnly);
        if (found.length !== 1) return [i, found.length];
        const box = found[0][1];
        box.focus();
        if (document.activeElement !== box) return [i, -1];
        box.select();
        const typed = value ? document.execCommand('insertText', false, value)
            : box.value === '' || document.execCommand('delete');
        if (!typed) return [i, -1];
    }
    return null;
}"""


async def type_text(page: Page, *boxes: tuple[str, str]) -> None:
    """Type each ``(label, text)`` into the text box with that label, in order, in one
    round trip (empty text: clear the box).

    The boxes are found with the page's own DOM, not Playwright's selector
    engine, which is compiled into every new page at its first locator (and
    a screen is typed on once); and a whole screen's text goes in one call
    instead of two round trips a box. Measured on the search screen, a page
    load and its first ``fill()`` took 57-79 ms (75-95 ms of CPU in the
    browser, its driver and the robot), a page load and one box typed this
    way 29-39 ms (40-50 ms of CPU).

    A label on no box or on two, a read-only or disabled box, or one that
    does not take the caret is an :class:`UnexpectedScreenError`; the boxes
    before it have been typed.
    """
    if not boxes:
        return
    try:
        problem = await page.evaluate(_TYPE_JS, [[label, text] for label, text in boxes])
    except PlaywrightError as exc:
        raise LegacyUnreachableError(exc.message.splitlines()[0]) from exc
    if problem is not None:
        _raise_for_typing(boxes, problem)


def _raise_for_typing(boxes: Sequence[tuple[str, str]], problem: list[int]) -> None:
    """The box :data:`_TYPE_JS` stopped at (``[its index, how many had its label]``)."""
    index, found = problem
    label = boxes[index][0]
    if found == -1:
        raise UnexpectedScreenError(f"入力欄「{label}」に入力できません")
    raise UnexpectedScreenError(f"入力欄「{label}」が{found}個あります")


# A screen's choices, then its text, then its button (as submit() sends them together): the
# first of them that cannot be done comes back, and then nothing is clicked.
_SUBMIT_JS = f"""({{choices, boxes, button}}) => {{
    const missed = ({_CHOOSE_JS})(choices);
    if (missed.length) return {{missed}};
    const typing = ({_TYPE_JS})(boxes);
    if (typing) return {{typing}};
    return {{buttons: ({_CLICK_JS})(button)}};
}}"""


@dataclass(frozen=True)
class TextBox:
    """A text box, by its label (its accessible name, as ``get_by_label(exact=True)`` finds it)."""

    label: str

    async def fill(self, page: Page, value: str) -> None:
        """Replace the box's text with ``value`` (empty: clear it), as :func:`type_text`."""
        await type_text(page, (self.label, value))


def date_boxes(label: str, value: WarekiDate | None) -> list[tuple[str, str]]:
    """The 年, 月, 日 boxes of the date field ``label`` (its 元号 is a choice: :func:`era`)."""
    if value is None:
        return []
    return [
        (f"{label} 年", str(value.year)),
        (f"{label} 月", str(value.month)),
        (f"{label} 日", str(value.day)),
    ]


class _EntryScreen(Screen):
    """An entry screen: fields in rows labelled by their ``<th>``, errors in red beside them.

    The whole screen goes in one round trip with the press of 確認
    (:meth:`_submit`, :func:`submit`): first the choices -- select boxes,
    radio buttons, checkboxes -- then the text boxes (typed as a clerk
    types, so the browser applies ``maxlength``). A select is set the way
    Playwright's ``select_option`` sets it (its value, then ``input`` and
    ``change``), a radio button or a checkbox is clicked in the page, which
    fires the same events a clerk's click does. The 確認 screen shows what
    the system received, and the robot compares all of it.
    """

    #: entry attribute → row label on the screen
    LABELS: ClassVar[dict[str, str]] = {}

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.confirm_button = Button("確認")
        self.error_rows = page.get_by_role("row").filter(has=page.get_by_role("alert"))

    @classmethod
    async def open_for(cls: type[E], page: Page, url: str) -> E:
        """Open an applicant's entry screen by its address.

        The result list already says whether the applicant is registered
        (受付状況), so for one who is not the robot goes there from the list,
        without the 詳細 screen in between, whose link leads to the same
        address: one page load fewer a record (two contexts, alternate runs:
        58.5 and 61.5 → 68.9 and 68.4 records a minute per context). The
        stand-in's entry screen needs nothing from the 詳細 screen; for a
        system whose entry screen does, ``open`` is where to go through it.
        """
        return await open_screen(page, url, cls)

    async def _submit(
        self,
        confirm: type[R],
        choices: Sequence[Choice | None],
        boxes: Sequence[tuple[str, str | None]],
    ) -> R:
        """Set ``choices``, type ``boxes`` (blank ones skipped) and press 確認; raise
        :class:`LegacyRefusedError` when a choice is not offered or the screen comes
        back with red messages.
        """
        await submit(self.page, self.confirm_button, choices=choices, boxes=boxes)
        shown = await read_screen(self.page)
        if shown.title == self.HEADING:
            rows = await self.error_rows.evaluate_all(
                """rows => rows.map(r => [r.querySelector('th').innerText.trim(),
                    r.querySelector('[role=alert]').innerText.trim()])"""
            )
            by_label = {label: attr for attr, label in self.LABELS.items()}
            refused = {by_label.get(label, label): message for label, message in rows}
            raise LegacyRefusedError(refused or {"?": "入力内容に誤りがあります"})
        return await confirm(self.page).arrived(shown)


class _RegistrationView(ReadScreen):
    """A screen that prints a registration (申請内容 table): 確認 and 詳細."""

    LABELS: ClassVar[dict[str, str]] = {}

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.application = Table("申請内容")

    def _application(self) -> dict[str, str | None]:
        table = self.application.pairs(self.shown)
        return {attr: table.get(label) or None for attr, label in self.LABELS.items()}


class _ConfirmScreen(_RegistrationView):
    RECEIPT: ClassVar[type[_ReceiptScreen]]

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.register_button = Button("登録")

    async def _register(self) -> Any:
        """Press 登録 and accept the 「よろしいですか？」 dialog."""

        async def accept(dialog: Dialog) -> None:
            await dialog.accept()

        self.page.once("dialog", accept)
        await submit(self.page, self.register_button)
        try:
            return await self.RECEIPT(self.page).arrive()
        except (LegacyBusyError, LegacyUnreachableError):
            # Redirected to the 登録完了 page (a GET): the registration is done,
            # only its page failed, and fetching it again is safe. Anything
            # else is for the robot to sort out by searching.
            if "/receipt/" not in self.page.url:
                raise
            return await open_screen(self.page, self.page.url, self.RECEIPT)


class _ReceiptScreen(ReadScreen):
    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.result = Table("登録結果")
        self.record_link = Link("登録内容を表示")

    def read_receipt_no(self) -> str:
        """The receipt number (受付番号) the system issued."""
        receipt = self.result.pairs(self.shown).get("受付番号", "")
        if not receipt:
            raise UnexpectedScreenError("受付番号が表示されていません")
        return receipt


class _DetailScreen(_RegistrationView):
    """A record's detail: its identity table, its receipt number, its registration."""

    IDENTITY: ClassVar[str] = ""

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.identity = Table(self.IDENTITY)

    def read_receipt_no(self) -> str | None:
        """The receipt number when the applicant is registered, else ``None``."""
        return self.identity.pairs(self.shown).get("受付番号") or None


# -- 特別定額給付金 ----------------------------------------------------------------------

KYUFUKIN_LABELS = {
    "application_date": "申請日",
    "phone": "電話番号",
    "payment": "受取方法",
    "bank_code": "金融機関コード",
    "branch_code": "店舗コード",
    "account_type": "預金種目",
    "account_number": "口座番号",
    "account_holder": "口座名義（ｶﾅ）",
    "id_documents": "本人確認書類",
    "id_document_other": "その他の書類名",
}


class KyufukinSearchPage(Screen):
    """KF0010 特別定額給付金 申請検索."""

    HEADING = "特別定額給付金 申請検索"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.applicant_no = TextBox("申請者番号")
        self.search = Button("検索")

    @classmethod
    async def open(cls, page: Page, base_url: str) -> KyufukinSearchPage:
        return await open_screen(page, f"{base_url}/kf/search", cls)

    async def find_applicant(self, applicant_no: str) -> KyufukinResultsPage:
        await submit(self.page, self.search, boxes=[(self.applicant_no.label, applicant_no)])
        return await KyufukinResultsPage(self.page).arrive()


class _ResultsScreen(ReadScreen):
    """A search's result list: one row per applicant found, with its 受付状況."""

    DETAIL: ClassVar[type[_DetailScreen]]
    #: what was searched for, in messages
    WHAT: ClassVar[str] = ""

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.results = Table("検索結果")
        self.detail_links = Link("詳細", within="検索結果")

    def _only_row(self) -> dict[str, str]:
        """The one applicant found, column heading → cell; none or several is a fault."""
        header, *found = self.results.rows(self.shown) or [[]]
        if not found:
            raise ApplicantNotFoundError(f"基幹システムに{self.WHAT}が見つかりません")
        if len(found) > 1:
            raise UnexpectedScreenError(f"{self.WHAT}の検索結果が{len(found)}件あります")
        return dict(zip(header, found[0], strict=False))

    def read_receipt_no(self) -> str | None:
        """The receipt number when the one applicant found is registered (受付済（…）),
        ``None`` when not (未受付).
        """
        status = self._only_row().get("受付状況", "")
        if status == "未受付":
            return None
        registered = re.fullmatch(r"受付済（(.+)）", status)
        if registered is None:
            raise UnexpectedScreenError(f"受付状況が読めません: 「{status}」")
        return registered.group(1)

    async def open_detail(self) -> Any:
        """The one applicant's 詳細 (its registration, to compare)."""
        self._only_row()
        return await open_screen(self.page, self.detail_links.href(self.shown), self.DETAIL)


class KyufukinResultsPage(_ResultsScreen):
    """KF0020 特別定額給付金 検索結果一覧."""

    HEADING = "特別定額給付金 検索結果一覧"
    WHAT = "申請者番号の世帯"

    async def open_detail(self) -> KyufukinDetailPage:
        page: KyufukinDetailPage = await super().open_detail()
        return page


class KyufukinDetailPage(_DetailScreen):
    """KF0030 特別定額給付金 世帯詳細."""

    HEADING = "特別定額給付金 世帯詳細"
    IDENTITY = "世帯情報"
    LABELS = KYUFUKIN_LABELS

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.members = Table("給付対象者")

    def read_application(self) -> KyufukinEntry:
        """The registration as the system holds it."""
        applicant_no = self.identity.pairs(self.shown).get("申請者番号", "")
        return _read_kyufukin(self, self.members, applicant_no)


def _read_kyufukin(view: _RegistrationView, members: Table, applicant_no: str) -> KyufukinEntry:
    shown = view._application()
    member_rows = members.rows(view.shown)[1:]
    ids = shown["id_documents"]
    return KyufukinEntry(
        applicant_no=applicant_no,
        application_date=WarekiDate.parse(shown["application_date"] or ""),
        phone=shown["phone"],
        payment=shown["payment"],
        bank_code=shown["bank_code"],
        branch_code=shown["branch_code"],
        account_type=shown["account_type"],
        account_number=shown["account_number"],
        account_holder=shown["account_holder"],
        refusing_members=tuple(int(r[0]) for r in member_rows if len(r) > 4 and r[4] == "○"),
        id_documents=() if ids in (None, "なし") else tuple(ids.split("、")),
        id_document_other=shown["id_document_other"],
    )


class KyufukinEntryPage(_EntryScreen):
    """KF0040 特別定額給付金 申請受付入力."""

    HEADING = "特別定額給付金 申請受付入力"
    LABELS = KYUFUKIN_LABELS

    @classmethod
    async def open(cls, page: Page, base_url: str, applicant_no: str) -> KyufukinEntryPage:
        """The entry screen of the household ``applicant_no`` (by its address: see
        :meth:`_EntryScreen.open_for`).
        """
        return await cls.open_for(page, f"{base_url}/kf/entry/{applicant_no}")

    async def confirm_application(self, entry: KyufukinEntry) -> KyufukinConfirmPage:
        """Enter the application (the account holder already in half-width kana) and press
        確認: the 入力内容確認 screen, or :class:`LegacyRefusedError`.
        """
        choices = (
            era("申請日", entry.application_date),
            radio(entry.payment),
            select("預金種目", entry.account_type, "account_type"),
            *(checkbox(f"給付対象者{row} 受給辞退") for row in entry.refusing_members),
            *(checkbox(label) for label in entry.id_documents),
        )
        boxes = (
            *date_boxes("申請日", entry.application_date),
            ("電話番号", entry.phone),
            ("金融機関コード", entry.bank_code),
            ("店舗コード", entry.branch_code),
            ("口座番号", entry.account_number),
            ("口座名義（ｶﾅ）", entry.account_holder),
            ("その他の書類名", entry.id_document_other),
        )
        return await self._submit(KyufukinConfirmPage, choices, boxes)


class KyufukinConfirmPage(_ConfirmScreen):
    """KF0050 特別定額給付金 入力内容確認."""

    HEADING = "特別定額給付金 入力内容確認"
    LABELS = KYUFUKIN_LABELS

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.members = Table("給付対象者")

    def read_application(self, applicant_no: str) -> KyufukinEntry:
        """What the system is about to register."""
        return _read_kyufukin(self, self.members, applicant_no)

    async def register(self) -> KyufukinReceiptPage:
        page: KyufukinReceiptPage = await self._register()
        return page


class KyufukinReceiptPage(_ReceiptScreen):
    """KF0060 特別定額給付金 登録完了."""

    HEADING = "特別定額給付金 登録完了"

    async def open_record(self) -> KyufukinDetailPage:
        return await self._follow(self.record_link, KyufukinDetailPage)


KyufukinConfirmPage.RECEIPT = KyufukinReceiptPage
KyufukinResultsPage.DETAIL = KyufukinDetailPage


# -- 要介護認定 ------------------------------------------------------------------------------

KAIGO_LABELS = {
    "application_date": "申請日",
    "application_type": "申請区分",
    "applicant_name": "申請者氏名",
    "applicant_relation": "本人との関係",
    "applicant_relation_detail": "続柄",
    "agent_type": "提出代行者",
    "agent_name": "提出代行者名称",
    "name": "被保険者氏名",
    "name_kana": "フリガナ",
    "birth_date": "生年月日",
    "sex": "性別",
    "postal_code": "郵便番号",
    "address": "住所",
    "phone": "電話番号",
    "previous_level": "前回の要介護度",
    "previous_valid_from": "有効期間（開始）",
    "previous_valid_to": "有効期間（終了）",
    "doctor_clinic": "医療機関名",
    "doctor_name": "医師氏名",
    "doctor_address": "医療機関所在地",
    "doctor_phone": "医療機関電話番号",
    "insurer_name": "医療保険者名",
    "insurance_symbol_number": "記号番号",
    "specified_disease": "特定疾病",
    "consent": "主治医意見書の提供",
}
_KAIGO_DATES = ("application_date", "birth_date", "previous_valid_from", "previous_valid_to")


class KaigoSearchPage(Screen):
    """KN0010 要介護認定申請 検索.

    A 第2号 applicant (40–64) has no 被保険者番号 before the first
    certification, so the system finds the resident by 個人番号 -- the way
    a municipal 介護保険 system looks a resident up through the 団体内統合宛名
    番号 -- in a password-type box that never shows the number.
    """

    HEADING = "要介護認定申請 検索"

    def __init__(self, page: Page) -> None:
        super().__init__(page)
        self.by_insured = radio("被保険者番号で検索")
        self.by_my_number = radio("個人番号で検索（第2号被保険者）")
        self.insured_number = TextBox("被保険者番号")
        self.my_number = TextBox("個人番号")
        self.search = Button("検索")

    @classmethod
    async def open(cls, page: Page, base_url: str) -> KaigoSearchPage:
        return await open_screen(page, f"{base_url}/kn/search", cls)

    async def find_applicant(self, entry: KaigoEntry) -> KaigoResultsPage:
        """Search by 被保険者番号, or by 個人番号 when the applicant has none."""
        # The radio button is clicked in the page, as on the entry screens (a
        # Playwright check() waits for animation frames: see robots.browser).
        by, box = (
            (self.by_insured, self.insured_number)
            if entry.insured_number
            else (self.by_my_number, self.my_number)
        )
        number = entry.insured_number or entry.my_number
        await submit(self.page, self.search, choices=[by], boxes=[(box.label, number)])
        return await KaigoResultsPage(self.page).arrive()


class KaigoResultsPage(_ResultsScreen):
    """KN0020 要介護認定申請 検索結果一覧."""

    HEADING = "要介護認定申請 検索結果一覧"
    WHAT = "被保険者"

    async def open_detail(self) -> KaigoDetailPage:
        page: KaigoDetailPage = await super().open_detail()
        return page

    def read_member_no(self) -> str:
        """The 宛名番号 of the one resident found (the system's key for the entry screen)."""
        member_no = self._only_row().get("宛名番号", "")
        if not member_no:
            raise UnexpectedScreenError("検索結果に宛名番号が表示されていません")
        return member_no


class KaigoDetailPage(_DetailScreen):
    """KN0030 要介護認定申請 被保険者詳細."""

    HEADING = "要介護認定申請 被保険者詳細"
    IDENTITY = "被保険者情報"
    LABELS = KAIGO_LABELS

    def read_application(self) -> KaigoEntry:
        """The registration as the system holds it."""
        return _kaigo_from(self._application())


def _kaigo_from(shown: dict[str, str | None]) -> KaigoEntry:
    values: dict[str, Any] = dict(shown)
    for name in _KAIGO_DATES:
        values[name] = WarekiDate.parse(shown[name] or "")
    values["postal_code"] = (shown["postal_code"] or "").replace("-", "") or None
    values["consent"] = shown["consent"] == "同意する"
    return KaigoEntry(insured_number=None, my_number=None, **values)


class KaigoEntryPage(_EntryScreen):
    """KN0040 要介護認定申請 申請受付入力."""

    HEADING = "要介護認定申請 申請受付入力"
    LABELS = KAIGO_LABELS

    @classmethod
    async def open(cls, page: Page, base_url: str, member_no: str) -> KaigoEntryPage:
        """The entry screen of the resident ``member_no`` (宛名番号; by its address: see
        :meth:`_EntryScreen.open_for`).
        """
        return await cls.open_for(page, f"{base_url}/kn/entry/{member_no}")

    async def confirm_application(self, entry: KaigoEntry) -> KaigoConfirmPage:
        """Enter the application, as written on the form, and press 確認: the 入力内容確認
        screen, or :class:`LegacyRefusedError`.
        """
        choices = (
            era("申請日", entry.application_date),
            radio(entry.application_type),
            radio(entry.applicant_relation),
            select("提出代行者", entry.agent_type, "agent_type"),
            era("生年月日", entry.birth_date),
            radio(entry.sex),
            select("前回の要介護度", entry.previous_level, "previous_level"),
            era("有効期間（開始）", entry.previous_valid_from),
            era("有効期間（終了）", entry.previous_valid_to),
            select("特定疾病", entry.specified_disease, "specified_disease"),
            checkbox("主治医意見書の提供に同意する") if entry.consent else None,
        )
        postal = entry.postal_code or ""
        boxes = (
            *date_boxes("申請日", entry.application_date),
            ("申請者氏名", entry.applicant_name),
            ("続柄", entry.applicant_relation_detail),
            ("提出代行者名称", entry.agent_name),
            ("被保険者氏名", entry.name),
            ("フリガナ", entry.name_kana),
            *date_boxes("生年月日", entry.birth_date),
            ("郵便番号（前3桁）", postal[:3]),
            ("郵便番号（後4桁）", postal[3:]),
            ("住所", entry.address),
            ("電話番号", entry.phone),
            *date_boxes("有効期間（開始）", entry.previous_valid_from),
            *date_boxes("有効期間（終了）", entry.previous_valid_to),
            ("医療機関名", entry.doctor_clinic),
            ("医師氏名", entry.doctor_name),
            ("医療機関所在地", entry.doctor_address),
            ("医療機関電話番号", entry.doctor_phone),
            ("医療保険者名", entry.insurer_name),
            ("記号番号", entry.insurance_symbol_number),
        )
        return await self._submit(KaigoConfirmPage, choices, boxes)


class KaigoConfirmPage(_ConfirmScreen):
    """KN0050 要介護認定申請 入力内容確認."""

    HEADING = "要介護認定申請 入力内容確認"
    LABELS = KAIGO_LABELS

    def read_application(self) -> KaigoEntry:
        """What the system is about to register."""
        return _kaigo_from(self._application())

    async def register(self) -> KaigoReceiptPage:
        page: KaigoReceiptPage = await self._register()
        return page


class KaigoReceiptPage(_ReceiptScreen):
    """KN0060 要介護認定申請 登録完了."""

    HEADING = "要介護認定申請 登録完了"

    async def open_record(self) -> KaigoDetailPage:
        return await self._follow(self.record_link, KaigoDetailPage)


KaigoConfirmPage.RECEIPT = KaigoReceiptPage
KaigoResultsPage.DETAIL = KaigoDetailPage
