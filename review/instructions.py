"""The 記入方法 sheet: how to correct the workbook and hand it back, in Japanese."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from review import layout as L

_TITLE = Font(name="IPAexGothic", size=14, bold=True)
_HEAD = Font(name="IPAexGothic", size=11, bold=True)
_BODY = Font(name="IPAexGothic", size=10)
_WRAP = Alignment(wrap_text=True, vertical="top")

SECTIONS: list[tuple[str, list[str]]] = [
    (
        "色の意味",
        [
            "黄色のセル：読取りに自信がない項目です。左の画像と見比べてください。",
            "橙色のセル：確認規則に合わない項目です。セルのコメント（赤い三角）に理由があります。",
            "灰色のセル：shinsei が書いた欄です（No.・番号・理由・文書ID・照合）。"
            "変更しないでください。",
        ],
    ),
    (
        "どのセルを直すか",
        [
            "色の付いたセルを画像と見比べ、違っていれば正しい値を上書きします。合っていれば触りません。",
            "数字の欄（口座番号・マイナンバーなど）は文字列として入力できます。先頭の0もそのまま入力してください（0123456）。",
            "日付は 2020-05-21、2020/5/21、令和2年5月21日 のいずれでも入力できます。",
            "チェック欄は「あり／なし」、選択肢の欄は一覧（▼）から選びます。"
            "複数に記入があるときは「、」で区切ります。",
            "マイナンバーと口座番号は下4桁だけ表示しています。画像と違うときは全桁を入力してください。"
            "一部の数字だけを書き換えることはできません。",
            "数式（=で始まる式）は使わず、値を入力してください。全角の数字も受け付けます。",
        ],
    ),
    (
        "確認済・返戻",
        [
            "行の色の付いたセルをすべて確かめたら、「確認済」列で「確認済」を選びます。"
            "値を直しただけで確認済を選ばない行は、直した項目だけが確認されたものとして扱います。",
            "申請者に書類を返す（返戻）ときは「返戻理由」列で理由を選びます。返戻通知にその理由が載ります。",
            "判断できない行はそのままにしてください。次回の確認表に再び載ります。",
        ],
    ),
    (
        "してもよいこと",
        [
            "並べ替え・絞り込み（フィルター）、列幅の変更、列やシートの追加、"
            "行の削除（削除した行の申請は確認待ちのまま残ります）。",
            "並べ替えでロックされたセルが動かせないときは、［校閲］→［シート保護の解除］"
            "（パスワードなし）をしてから並べ替えてください。",
        ],
    ),
    (
        "保存の仕方",
        [
            "Excel：［上書き保存］で .xlsx のまま保存します。",
            "LibreOffice：［保存］で「Excel 2007-365 形式のままにする」を選びます。",
            ".xls・.csv・.ods で保存したファイルは取り込めません（.xlsx で保存し直してください）。",
            "保存したファイルを担当者に返します。取込みは "
            "shinsei review import ファイル名.xlsx --reviewer 氏名 で行います。",
        ],
    ),
]


def write_instructions(ws: Worksheet, manifest: L.Manifest, counts: dict[str, int]) -> None:
    """Fill ``ws`` with the instructions and the export's particulars."""
    ws.column_dimensions["A"].width = 4
    ws.column_dimensions["B"].width = 110
    ws.sheet_view.showGridLines = False
    ws["B1"] = "確認表の使い方"
    ws["B1"].font = _TITLE
    facts = [
        f"出力ID：{manifest.export_id}",
        f"バッチ：{manifest.batch_id}　出力日時（UTC）：{manifest.created_at}",
        "件数：" + "、".join(f"{title} {n}件" for title, n in counts.items()),
    ]
    row = 2
    for fact in facts:
        ws.cell(row=row, column=2, value=fact).font = _BODY
        row += 1
    legend = [
        (L.LOW_CONFIDENCE_FILL, "黄色：読取りを確認"),
        (L.RULE_FILL, "橙色：規則に合わない（コメント参照）"),
        (L.LOCKED_FILL, "灰色：変更しない"),
    ]
    for rgb, text in legend:
        row += 1
        ws.cell(row=row, column=1).fill = PatternFill("solid", start_color=rgb, end_color=rgb)
        ws.cell(row=row, column=2, value=text).font = _BODY
    for head, lines in SECTIONS:
        row += 2
        ws.cell(row=row, column=2, value=head).font = _HEAD
        for i, line in enumerate(lines, start=1):
            row += 1
            cell = ws.cell(row=row, column=2, value=f"{i}. {line}")
            cell.font = _BODY
            cell.alignment = _WRAP
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
