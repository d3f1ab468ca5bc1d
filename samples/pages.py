"""Pages that travel with a form, and documents that are not forms at all.

* :func:`id_copy` — a photocopy of an ID card (運転免許証, マイナンバーカード
  front side only, 健康保険証, パスポート) with the holder's registry data;
* :func:`passbook_copy` — a copy of the first page of a passbook (通帳) with
  the bank, branch, account number and holder of the application's account;
* :func:`blank_back` — the empty back of a sheet, with the front showing
  faintly through the paper;
* :func:`cover_letter`, :func:`flyer` — envelopes with no form in them;
* :func:`damage_qr` — a stain or scribble that leaves a QR code unreadable.

All pages are A4 at 300 dpi, RGB, like the filled forms.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import cv2
import jaconv
import numpy as np

from samples import _ink
from samples._ink import Box, Image, Pen
from samples.application import wareki_text
from samples.content._common import Branch
from shinsei.residents import Member

A4 = (2480, 3508)
PAPER = (252, 252, 250)


_WHITE = np.full((A4[1], A4[0], 3), PAPER, np.uint8)
_WHITE.setflags(write=False)


def white_page() -> Image:
    return _WHITE.copy()


def _pen(face: str = "gothic", color: tuple[int, int, int] = (25, 25, 25)) -> Pen:
    return Pen(face=face, color=color, handwritten=False)


def _text(
    page: Image,
    text: str,
    x: int,
    y: int,
    size: int,
    pen: Pen,
    rng: random.Random,
    width: int = 2000,
) -> int:
    """One typed line with its top-left at ``(x, y)``; returns the y below it."""
    _ink.write_line(page, text, (x, y, width, int(size * 1.5)), pen, rng, size=size)
    return y + int(size * 1.6)


def _card(page: Image, box: Box, tone: int, radius: int = 40) -> None:
    """A card's outline and its photocopied grey ground."""
    x, y, w, h = box
    mask = np.zeros((h, w), np.uint8)
    r, b = radius + 3, 3  # inset, so the outline is inside the mask
    cv2.rectangle(mask, (r, b), (w - r, h - b), 255, -1)
    cv2.rectangle(mask, (b, r), (w - b, h - r), 255, -1)
    for cx, cy in ((r, r), (w - r, r), (r, h - r), (w - r, h - r)):
        cv2.circle(mask, (cx, cy), radius, 255, -1)
    _ink.stamp(page, mask, x, y, (255 - tone, 255 - tone, 253 - tone), 1.0)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8))
    _ink.stamp(page, edge, x, y, (60, 60, 60), 0.9)


def _photo(page: Image, box: Box) -> None:
    """The ID photo: a dark head-and-shoulders silhouette on a lighter ground."""
    x, y, w, h = box
    page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], 190)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, int(h * 0.38)), (int(w * 0.24), int(h * 0.22)), 0, 0, 360, 255, -1)
    cv2.ellipse(mask, (w // 2, h), (int(w * 0.46), int(h * 0.36)), 0, 180, 360, 255, -1)
    _ink.stamp(page, mask, x, y, (70, 70, 70), 1.0)


def id_copy(
    holder: Member, address: str, kind: str, rng: random.Random, insurer: str | None = None
) -> Image:
    """A photocopy of one ID card, enlarged a little, near the top of an A4 sheet."""
    page = white_page()
    scale = rng.uniform(1.2, 1.5)
    w, h = int(1011 * scale), int(638 * scale)
    x = rng.randint(150, A4[0] - w - 150)
    y = rng.randint(200, 700)
    _card(page, (x, y, w, h), tone=rng.randint(18, 40))
    pen = _pen(rng.choice(["gothic", "mincho"]))
    u = h / 20  # one text line
    birth = date.fromisoformat(holder.birth_date)
    name = holder.name.replace("\u3000", " ")
    if kind == "drivers_license":
        _text(page, "運転免許証", x + int(w * 0.35), y + int(u * 0.6), int(u * 1.2), pen, rng)
        yy = y + int(u * 2.6)
        yy = _text(
            page, f"氏名  {name}      {wareki_text(birth)}生", x + int(u), yy, int(u), pen, rng
        )
        yy = _text(
            page,
            f"住所  兵庫県{address}",
            x + int(u),
            yy,
            int(u * 0.9),
            pen,
            rng,
            width=w - int(2 * u),
        )
        yy = _text(page, "交付  令和01年08月20日  12345", x + int(u), yy, int(u * 0.8), pen, rng)
        yy = _text(
            page,
            f"令和{rng.randint(3, 6):02d}年{birth.month:02d}月{birth.day:02d}日まで有効",
            x + int(u),
            yy,
            int(u * 1.1),
            pen,
            rng,
        )
        _text(
            page,
            f"第 {rng.randint(10**11, 10**12 - 1)} 号",
            x + int(u),
            y + int(u * 14),
            int(u),
            pen,
            rng,
        )
        _text(page, "兵庫県公安委員会", x + int(w * 0.4), y + int(u * 17.5), int(u * 0.9), pen, rng)
        _photo(page, (x + int(w * 0.68), y + int(u * 8), int(w * 0.27), int(u * 9)))
    elif kind == "my_number_card":
        _text(page, "個人番号カード", x + int(u), y + int(u * 0.8), int(u * 1.1), pen, rng)
        yy = y + int(u * 3)
        yy = _text(page, f"氏名  {name}", x + int(u), yy, int(u * 1.2), pen, rng)
        yy = _text(
            page,
            f"住所  兵庫県{address}",
            x + int(u),
            yy,
            int(u * 0.85),
            pen,
            rng,
            width=int(w * 0.62),
        )
        yy = _text(
            page,
            f"{wareki_text(birth)}生  性別 {holder.sex}",
            x + int(u),
            yy + int(u),
            int(u),
            pen,
            rng,
        )
        _text(
            page,
            f"{rng.randint(2025, 2030)}年{birth.month}月{birth.day}日まで有効",
            x + int(u),
            yy + int(u * 2),
            int(u * 0.9),
            pen,
            rng,
        )
        _text(page, "神戸市長", x + int(u), y + int(u * 17), int(u * 0.9), pen, rng)
        _photo(page, (x + int(w * 0.7), y + int(u * 4), int(w * 0.25), int(u * 9)))
    elif kind == "passport":
        _text(
            page, "日本国  JAPAN   旅券  PASSPORT", x + int(u), y + int(u * 0.8), int(u), pen, rng
        )
        roman = jaconv.kata2alphabet(holder.name_kana).upper().split("\u3000")
        yy = y + int(u * 3.5)
        yy = _text(page, f"Surname  {roman[0]}", x + int(w * 0.36), yy, int(u), pen, rng)
        yy = _text(page, f"Given name  {roman[-1]}", x + int(w * 0.36), yy, int(u), pen, rng)
        yy = _text(
            page,
            f"Date of birth  {birth.strftime('%d %b %Y').upper()}",
            x + int(w * 0.36),
            yy,
            int(u),
            pen,
            rng,
        )
        _text(
            page,
            f"Sex  {'M' if holder.sex == '男' else 'F'}    Nationality  JAPAN",
            x + int(w * 0.36),
            yy,
            int(u),
            pen,
            rng,
        )
        mrz = f"P<JPN{roman[0]}<<{roman[-1]}".ljust(44, "<")[:44]
        _text(
            page,
            mrz,
            x + int(u),
            y + int(u * 16),
            int(u * 0.9),
            _pen("noto_sans"),
            rng,
            width=w - int(2 * u),
        )
        _photo(page, (x + int(u), y + int(u * 3), int(w * 0.28), int(u * 10)))
    else:  # health insurance card
        title = (
            "国民健康保険被保険者証"
            if (insurer or "").endswith("国民健康保険") or rng.random() < 0.5
            else "健康保険被保険者証"
        )
        _text(page, title, x + int(w * 0.2), y + int(u * 0.8), int(u * 1.2), pen, rng)
        yy = y + int(u * 3.2)
        yy = _text(
            page,
            f"記号  {rng.randint(100, 9999)}   番号  {rng.randint(1, 999)}",
            x + int(u),
            yy,
            int(u),
            pen,
            rng,
        )
        yy = _text(page, f"氏名  {name}", x + int(u), yy, int(u * 1.2), pen, rng)
        yy = _text(
            page,
            f"生年月日  {wareki_text(birth)}   性別  {holder.sex}",
            x + int(u),
            yy,
            int(u),
            pen,
            rng,
        )
        yy = _text(
            page, f"住所  {address}", x + int(u), yy, int(u * 0.85), pen, rng, width=w - int(2 * u)
        )
        yy = _text(page, "交付年月日  令和2年4月1日", x + int(u), yy, int(u * 0.9), pen, rng)
        _text(
            page,
            f"保険者名称  {insurer or '神戸市'}",
            x + int(u),
            y + int(u * 16.5),
            int(u),
            pen,
            rng,
        )
    if rng.random() < 0.35:
        # the back of the card copied below the front
        y2 = y + h + rng.randint(120, 300)
        if y2 + h < A4[1] - 150:
            _card(page, (x, y2, w, h), tone=rng.randint(18, 40))
            _text(page, "備考", x + int(u), y2 + int(u), int(u), pen, rng)
            for i in range(4):
                yl = y2 + int(u * (4 + 3 * i))
                cv2.line(page, (x + int(u), yl), (x + w - int(u), yl), (120, 120, 120), 2)
    return page


def passbook_copy(
    branch: Branch, number: str, holder_kana: str, account_type: str, rng: random.Random
) -> Image:
    """A copy of a passbook opened at its first page (表紙の裏): bank, branch, number, holder."""
    page = white_page()
    w, h = rng.randint(1900, 2150), rng.randint(1250, 1400)
    x, y = (A4[0] - w) // 2 + rng.randint(-60, 60), rng.randint(250, 600)
    _card(page, (x, y, w, h), tone=rng.randint(10, 25), radius=20)
    cv2.line(page, (x + w // 2, y + 10), (x + w // 2, y + h - 10), (150, 150, 150), 3)
    bank, branch_full = branch.display()
    pen = _pen(rng.choice(["gothic", "mincho"]))
    u = h // 18
    _text(
        page, bank, x + int(u), y + int(u), int(u * 1.6), replace(pen, face="noto_sans_bold"), rng
    )
    kind = "普通預金" if account_type == "futsu" else "当座預金"
    yy = y + int(u * 4)
    yy = _text(page, f"{kind}通帳", x + int(u), yy, int(u * 1.2), pen, rng)
    yy = _text(
        page, f"店番 {branch.branch_code}  {branch_full}", x + int(u), yy + int(u), int(u), pen, rng
    )
    yy = _text(page, f"口座番号  {number}", x + int(u), yy, int(u * 1.1), pen, rng)
    _text(page, f"{holder_kana}  様", x + int(u), yy + int(u), int(u * 1.2), pen, rng)
    # the facing page: column heads and a few printed rows
    rx = x + w // 2 + int(u)
    _text(
        page,
        "年月日      お支払金額      お預り金額      差引残高",
        rx,
        y + int(u),
        int(u * 0.6),
        pen,
        rng,
        width=w // 2 - 2 * int(u),
    )
    for i in range(rng.randint(2, 6)):
        yl = y + int(u * (2.5 + 1.2 * i))
        amount = rng.randint(1, 300) * 1000
        _text(
            page,
            f"2-0{rng.randint(1, 5)}-{rng.randint(10, 28)}   *{amount:,}          *{amount * 3:,}",
            rx,
            yl,
            int(u * 0.6),
            pen,
            rng,
            width=w // 2 - 2 * int(u),
        )
    return page


def blank_back(front: Image | None, rng: random.Random) -> Image:
    """The back of a sheet: empty, with the front faintly showing through."""
    if front is None:
        return white_page()
    through = cv2.cvtColor(cv2.flip(front, 1), cv2.COLOR_RGB2GRAY)
    strength = rng.uniform(0.02, 0.045)
    # paper − (255 − front) × strength, in one saturating pass
    gray = cv2.convertScaleAbs(through, alpha=strength, beta=PAPER[0] - 255 * strength)
    return cv2.merge([gray, gray, gray])


_LETTERS = [
    (
        "特別定額給付金の申請について（お願い）",
        [
            "拝啓　時下ますますご清栄のこととお慶び申し上げます。",
            "先日、特別定額給付金の申請書が届きましたが、世帯主が入院中のため、",
            "申請の手続きをどのように進めればよいか分からず困っております。",
            "代理で申請する場合に必要な書類を教えていただけますでしょうか。",
            "お忙しいところ恐縮ですが、ご連絡をお待ちしております。",
            "敬具",
        ],
    ),
    (
        "申請書の再発行のお願い",
        [
            "いつもお世話になっております。",
            "特別定額給付金の申請書を誤って汚してしまいました。",
            "お手数ですが、申請書を再度送付していただけますようお願いいたします。",
            "連絡先は下記のとおりです。どうぞよろしくお願いいたします。",
        ],
    ),
    (
        "住所変更のお知らせ",
        [
            "拝啓　新緑の候、皆様にはご健勝のこととお喜び申し上げます。",
            "このたび、下記の住所に転居いたしましたのでお知らせいたします。",
            "今後の郵便物は新しい住所あてにお送りくださいますようお願い申し上げます。",
            "敬具",
        ],
    ),
    (
        "介護保険の手続きについての問い合わせ",
        [
            "神戸市役所　介護保険課　御中",
            "母の介護認定の更新について、必要な書類と提出期限を教えてください。",
            "主治医の先生が変わったのですが、申請書の記入方法が分かりません。",
            "お手数をおかけしますが、よろしくお願いいたします。",
        ],
    ),
]


def cover_letter(sender: Member, address: str, written: date, rng: random.Random) -> Image:
    """A typed letter to the city: date, addressee, title, body, sender. No QR, no form."""
    page = white_page()
    pen = _pen(rng.choice(["mincho", "mincho", "gothic"]))
    size = rng.randint(44, 52)
    _ink.write_line(
        page, wareki_text(written), (1400, 260, 800, 80), pen, rng, size=size, align="right"
    )
    y = _text(page, "神戸市長　様", 250, 420, size + 6, pen, rng)
    title, body = _LETTERS[rng.randrange(len(_LETTERS))]
    _ink.write_line(
        page, title, (250, y + 120, 1980, 100), pen, rng, size=size + 12, align="center"
    )
    y += 300
    for line in body:
        align = "right" if line == "敬具" else "left"
        _ink.write_line(
            page, line, (300, y, 1900, int(size * 1.6)), pen, rng, size=size, align=align
        )
        y += int(size * 2.0)
    y += 200
    _ink.write_line(page, "記", (250, y, 1980, 80), pen, rng, size=size, align="center")
    y += 160
    y = _text(page, f"住所　{address}", 500, y, size, pen, rng, width=1800)
    y = _text(page, f"氏名　{sender.name}", 500, y + 20, size, pen, rng)
    _text(
        page,
        f"電話　078-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        500,
        y + 20,
        size,
        pen,
        rng,
    )
    return page


_FLYERS = [
    (
        "地域清掃活動のお知らせ",
        [
            "日時　6月7日（日）午前9時から",
            "集合　○○公園　入口",
            "軍手・ごみ袋はこちらで用意します",
            "雨天の場合は中止します",
        ],
    ),
    (
        "初夏の大感謝セール",
        ["全品10%OFF", "卵1パック 98円", "国産豚こま切れ 100g 128円", "お一人様1点限り"],
    ),
    (
        "健康教室　参加者募集",
        [
            "ストレッチと軽い体操で元気に",
            "毎週水曜日 10:00～11:30",
            "参加費無料・予約不要",
            "地域福祉センター 2階ホール",
        ],
    ),
    (
        "不用品回収いたします",
        ["家具・家電・自転車など", "お見積り無料", "お気軽にお電話ください", "年中無休 8時～20時"],
    ),
]


def flyer(rng: random.Random) -> Image:
    """A colourful printed flyer (a local event, a shop's sale)."""
    page = white_page()
    colors = [(220, 40, 40), (30, 110, 200), (20, 150, 80), (240, 140, 20), (150, 50, 160)]
    main = rng.choice(colors)
    for _ in range(rng.randint(3, 7)):
        c = rng.choice(colors)
        cx, cy = rng.randint(0, A4[0]), rng.randint(0, A4[1])
        r = rng.randint(120, 420)
        overlay = page.copy()
        cv2.circle(overlay, (cx, cy), r, c, -1)
        page = cv2.addWeighted(overlay, 0.25, page, 0.75, 0)
    title, lines = _FLYERS[rng.randrange(len(_FLYERS))]
    cv2.rectangle(page, (150, 250), (A4[0] - 150, 650), main, -1)
    # white title on the band: ink only darkens, so draw it on white and use it as a mask
    band = page[250:650, 150 : A4[0] - 150]
    tmp = np.full((400, A4[0] - 300, 3), 255, np.uint8)
    _ink.write_line(
        tmp,
        title,
        (30, 30, A4[0] - 360, 340),
        Pen("noto_sans_bold", (0, 0, 0), False),
        rng,
        size=200,
        align="center",
    )
    title_mask = 255 - cv2.cvtColor(tmp, cv2.COLOR_RGB2GRAY)
    band[title_mask > 128] = (255, 255, 255)
    y = 900
    for line in lines:
        pen = Pen(rng.choice(["noto_sans_bold", "gothic"]), rng.choice([(20, 20, 20), main]), False)
        _ink.write_line(
            page,
            line,
            (200, y, A4[0] - 400, 220),
            pen,
            rng,
            size=rng.randint(110, 150),
            align="center",
        )
        y += rng.randint(320, 420)
    _ink.write_line(
        page,
        "お問い合わせ　078-" + f"{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        (200, A4[1] - 500, A4[0] - 400, 120),
        _pen("gothic"),
        rng,
        size=80,
        align="center",
    )
    return page


def damage_qr(page: Image, box: Box, rng: random.Random) -> str:
    """Make the QR code in ``box`` unreadable (a coffee stain or a pen scribble); return which."""
    import zxingcpp

    x, y, w, h = box
    how = rng.choice(["stain", "scribble"])
    for attempt in range(8):
        if how == "stain":
            mask = np.zeros((h, w), np.uint8)
            cv2.ellipse(
                mask,
                (w // 2 + rng.randint(-30, 30), h // 2 + rng.randint(-30, 30)),
                (int(w * (0.3 + 0.06 * attempt)), int(h * (0.25 + 0.06 * attempt))),
                rng.uniform(0, 180),
                0,
                360,
                255,
                -1,
            )
            _ink.stamp(page, cv2.GaussianBlur(mask, (0, 0), 6), x, y, (120, 80, 40), 0.85)
        else:
            pts = [
                (x + rng.uniform(0.1, 0.9) * w, y + rng.uniform(0.1, 0.9) * h)
                for _ in range(14 + 6 * attempt)
            ]
            _ink._draw_strokes(page, [pts], _ink.Pen("gothic", (25, 30, 90), True, stroke_px=12))
        crop = page[max(0, y - 20) : y + h + 20, max(0, x - 20) : x + w + 20]
        if not zxingcpp.read_barcodes(crop):
            return how
    return how
