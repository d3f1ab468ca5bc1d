"""The stand-in web application (Flask, server-rendered, its own SQLite).

Screens (画面ID in the footer of every page)::

    LG0010 ログイン → MN0010 業務メニュー
    KF0010 給付金 申請検索 → KF0020 検索結果一覧 → KF0030 世帯詳細
        → KF0040 申請受付入力 → KF0050 入力内容確認 → (confirm()) → KF0060 登録完了
    KN0010 要介護認定 申請検索 → KN0020 検索結果一覧 → KN0030 被保険者詳細
        → KN0040 申請受付入力 → KN0050 入力内容確認 → (confirm()) → KN0060 登録完了
    ER0010 エラー, ER0503 只今大変混み合っております, ER0900 システムメンテナンス中

Sessions live server-side (cookie ``LEGACYSID``); every form carries the
session's CSRF token; a session expires after its idle or lifetime limit and
the next page is the login screen with a notice.
"""

from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, g, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash

from legacy import db
from legacy.config import LegacyConfig
from legacy.entries import (
    AGENT_TYPES,
    CARE_LEVELS,
    ID_DOCUMENTS,
    MAXLEN,
    SPECIFIED_DISEASES,
    display_kaigo,
    display_kyufukin,
    parse_kaigo,
    parse_kyufukin,
)
from legacy.faults import FaultDice, drop_connection
from legacy.text import ERA_NAMES, wareki_text
from shinsei.privacy import mask

COOKIE = "LEGACYSID"
SYSTEM_NAME = "神戸市 住民サービス統合システム"

View = Callable[..., Any]


def create_app(config: LegacyConfig) -> Flask:
    """The stand-in as a WSGI application; creates and seeds its database if needed."""
    db.initialise(config.db_path, config.users)
    app = Flask(__name__)
    app.config["LEGACY"] = config
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600  # the style sheet, cached like IE6 did
    dice = FaultDice(config.faults)
    pool = db.ConnectionPool(config.db_path)
    faults = config.faults

    @app.context_processor
    def _common() -> dict[str, Any]:
        sess = g.get("session")
        return {
            "system_name": SYSTEM_NAME,
            "user": sess["user_id"] if sess is not None else None,
            "csrf": sess["csrf"] if sess is not None else "",
            "eras": ERA_NAMES,
            "maxlen": MAXLEN,
        }

    @app.before_request
    def _faults_and_session() -> Any:
        if request.endpoint == "static":
            return None
        if dice.in_maintenance():
            windows = "、".join(f"{s:%H:%M}〜{e:%H:%M}" for s, e in faults.maintenance)
            return render_template("maintenance.html", screen="ER0900", windows=windows), 503
        dice.wait()
        if dice.drop_before():
            drop_connection(request.environ)
            return Response(b"", 500)
        if dice.busy():
            return render_template("busy.html", screen="ER0503"), 503
        g.db = pool.get()
        _load_session()
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        new_sid = g.pop("new_sid", None)
        if new_sid is not None:
            response.set_cookie(COOKIE, new_sid, httponly=True, samesite="Lax", path="/")
        if request.endpoint != "static" and dice.drop_after():
            # Handled (and committed) but never answered.
            drop_connection(request.environ)
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            pool.put(conn)

    def _load_session() -> None:
        g.session = None
        g.expired = False
        sid = request.cookies.get(COOKIE)
        if not sid:
            return
        row = g.db.execute("SELECT * FROM sessions WHERE sid = ?", (sid,)).fetchone()
        if row is None:
            g.expired = True
            return
        now = time.time()
        idle = now - row["last_seen"] > faults.session_idle_minutes * 60
        lifetime = faults.session_lifetime_minutes
        old = lifetime is not None and now - row["created_at"] > lifetime * 60
        if idle or old:
            g.db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))
            g.expired = row["user_id"] is not None
            return
        g.db.execute("UPDATE sessions SET last_seen = ? WHERE sid = ?", (now, sid))
        g.session = row

    def _new_session(user_id: str | None) -> sqlite3.Row:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        g.db.execute(
            "INSERT INTO sessions (sid, user_id, csrf, created_at, last_seen)"
            " VALUES (?, ?, ?, ?, ?)",
            (sid, user_id, secrets.token_urlsafe(24), now, now),
        )
        # Forget sessions nobody has used for a day.
        g.db.execute("DELETE FROM sessions WHERE last_seen < ?", (now - 86400,))
        g.new_sid = sid
        row = g.db.execute("SELECT * FROM sessions WHERE sid = ?", (sid,)).fetchone()
        g.session = row
        return row

    def login_required(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.session is None or g.session["user_id"] is None:
                return redirect(url_for("login", expired=1) if g.expired else url_for("login"), 303)
            if request.method == "POST" and not hmac.compare_digest(
                request.form.get("_csrf", ""), g.session["csrf"]
            ):
                return error_page("不正な画面遷移です。メニューからやり直してください。", 400)
            return view(*args, **kwargs)

        return wrapper

    def error_page(message: str, status: int = 200) -> tuple[str, int]:
        return render_template("error.html", screen="ER0010", message=message), status

    # -- login, menu, logout ----------------------------------------------------

    @app.route("/")
    def index() -> Any:
        return redirect(url_for("menu"), 303)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        notice = None
        if request.args.get("expired"):
            notice = "セッションの有効期限が切れました。再度ログインしてください。"
        if request.args.get("bye"):
            notice = "ログアウトしました。"
        if request.method == "GET":
            if g.session is None or g.session["user_id"] is not None:
                _new_session(None)
            return render_template("login.html", screen="LG0010", notice=notice, error=None)
        if g.session is None or not hmac.compare_digest(
            request.form.get("_csrf", ""), g.session["csrf"]
        ):
            _new_session(None)
            return render_template(
                "login.html",
                screen="LG0010",
                notice=None,
                error="画面の有効期限が切れました。もう一度ログインしてください。",
            )
        user_id = request.form.get("user_id", "")
        user = g.db.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()
        if user is None or not check_password_hash(
            user["password_hash"], request.form.get("password", "")
        ):
            return render_template(
                "login.html",
                screen="LG0010",
                notice=None,
                error="利用者IDまたはパスワードが正しくありません。",
            )
        g.db.execute("DELETE FROM sessions WHERE sid = ?", (g.session["sid"],))
        _new_session(user_id)
        return redirect(url_for("menu"), 303)

    @app.get("/menu")
    @login_required
    def menu() -> Any:
        return render_template("menu.html", screen="MN0010")

    @app.post("/logout")
    @login_required
    def logout() -> Any:
        g.db.execute("DELETE FROM sessions WHERE sid = ?", (g.session["sid"],))
        g.session = None
        return redirect(url_for("login", bye=1), 303)

    # -- 特別定額給付金 ------------------------------------------------------------

    def _household(applicant_no: str) -> tuple[sqlite3.Row | None, list[sqlite3.Row]]:
        house = g.db.execute(
            "SELECT h.*, r.name AS head_name FROM households h"
            " JOIN residents r ON r.member_no = h.head_member_no WHERE h.applicant_no = ?",
            (applicant_no,),
        ).fetchone()
        if house is None:
            return None, []
        members = g.db.execute(
            "SELECT * FROM residents WHERE household_id = ? ORDER BY seq", (house["household_id"],)
        ).fetchall()
        return house, members

    @app.route("/kf/search", methods=["GET", "POST"])
    @login_required
    def kf_search() -> Any:
        if request.method == "GET":
            return render_template("kf_search.html", screen="KF0010", error=None, value="")
        applicant_no = request.form.get("applicant_no", "").strip()
        if not (applicant_no.isascii() and applicant_no.isdigit() and len(applicant_no) == 10):
            return render_template(
                "kf_search.html",
                screen="KF0010",
                error="申請者番号は10桁の半角数字で入力してください",
                value=applicant_no,
            )
        rows = g.db.execute(
            "SELECT h.applicant_no, h.address, r.name AS head_name, a.receipt_no"
            " FROM households h JOIN residents r ON r.member_no = h.head_member_no"
            " LEFT JOIN kf_applications a ON a.applicant_no = h.applicant_no"
            " WHERE h.applicant_no = ?",
            (applicant_no,),
        ).fetchall()
        return render_template("kf_results.html", screen="KF0020", rows=rows, value=applicant_no)

    @app.get("/kf/households/<applicant_no>")
    @login_required
    def kf_detail(applicant_no: str) -> Any:
        house, members = _household(applicant_no)
        if house is None:
            return error_page("該当する世帯がありません。")
        found = db.registration(g.db, "kf_applications", "applicant_no", applicant_no)
        return render_template(
            "kf_detail.html",
            screen="KF0030",
            house=house,
            members=members,
            wareki=wareki_text,
            receipt_no=found[0] if found else None,
            rows=display_kyufukin(found[1]) if found else [],
            refusing=set(found[1]["refusing_members"]) if found else set(),
        )

    @app.route("/kf/entry/<applicant_no>", methods=["GET", "POST"])
    @login_required
    def kf_entry(applicant_no: str) -> Any:
        house, members = _household(applicant_no)
        if house is None:
            return error_page("該当する世帯がありません。")
        found = db.registration(g.db, "kf_applications", "applicant_no", applicant_no)
        if found is not None:
            return error_page(f"この世帯は既に受付済みです（受付番号：{found[0]}）。")
        if request.method == "GET":
            return _kf_entry_page(house, members, {}, {})
        data, errors = parse_kyufukin(request.form, len(members))
        if errors:
            return _kf_entry_page(house, members, request.form, errors)
        _save_draft("kf", applicant_no, data)
        return render_template(
            "confirm.html",
            screen="KF0050",
            title="特別定額給付金 入力内容確認",
            rows=display_kyufukin(data),
            members=members,
            refusing=set(data["refusing_members"]),
            wareki=wareki_text,
            action=url_for("kf_register", applicant_no=applicant_no),
        )

    def _kf_entry_page(
        house: sqlite3.Row, members: list[sqlite3.Row], values: Any, errors: dict[str, str]
    ) -> str:
        return render_template(
            "kf_entry.html",
            screen="KF0040",
            house=house,
            members=members,
            values=values,
            errors=errors,
            wareki=wareki_text,
            id_documents=ID_DOCUMENTS,
        )

    def _save_draft(form: str, key: str, data: dict[str, Any]) -> None:
        g.db.execute(
            "UPDATE sessions SET draft = ? WHERE sid = ?",
            (
                json.dumps({"form": form, "key": key, "data": data}, ensure_ascii=False),
                g.session["sid"],
            ),
        )

    def _take_draft(form: str, key: str) -> dict[str, Any] | None:
        raw = g.session["draft"]
        draft = json.loads(raw) if raw else None
        if not draft or draft["form"] != form or draft["key"] != key:
            return None
        g.db.execute("UPDATE sessions SET draft = NULL WHERE sid = ?", (g.session["sid"],))
        return draft["data"]

    def _register(form: str, table: str, key_column: str, key: str, receipt_view: str) -> Any:
        data = _take_draft(form, key)
        if data is None:
            return error_page(
                "確認画面を経由せずに登録しようとしました。入力からやり直してください。"
            )
        try:
            receipt_no = db.register(g.db, table, key_column, key, data, g.session["user_id"])
        except db.AlreadyRegisteredError as exc:
            return error_page(
                f"既に登録されています（受付番号：{exc.receipt_no}）。二重登録はできません。"
            )
        return redirect(url_for(receipt_view, receipt_no=receipt_no), 303)

    @app.post("/kf/entry/<applicant_no>/register")
    @login_required
    def kf_register(applicant_no: str) -> Any:
        return _register("kf", "kf_applications", "applicant_no", applicant_no, "kf_receipt")

    @app.get("/kf/receipt/<receipt_no>")
    @login_required
    def kf_receipt(receipt_no: str) -> Any:
        row = g.db.execute(
            "SELECT applicant_no FROM kf_applications WHERE receipt_no = ?", (receipt_no,)
        ).fetchone()
        if row is None:
            return error_page("該当する受付番号がありません。")
        # The registration is committed; only its answer is late.
        time.sleep(faults.receipt_latency)
        return render_template(
            "receipt.html",
            screen="KF0060",
            title="特別定額給付金 登録完了",
            receipt_no=receipt_no,
            record_url=url_for("kf_detail", applicant_no=row["applicant_no"]),
            search_url=url_for("kf_search"),
        )

    # -- 要介護認定 ----------------------------------------------------------------

    def _resident(member_no: str) -> sqlite3.Row | None:
        return g.db.execute(
            "SELECT r.*, h.address, h.postal_code FROM residents r"
            " JOIN households h ON h.household_id = r.household_id WHERE r.member_no = ?",
            (member_no,),
        ).fetchone()

    @app.route("/kn/search", methods=["GET", "POST"])
    @login_required
    def kn_search() -> Any:
        if request.method == "GET":
            return render_template("kn_search.html", screen="KN0010", error=None, by="insured")
        by = request.form.get("search_by", "insured")
        if by == "my_number":
            value, column, length, label = (
                request.form.get("my_number", ""),
                "my_number",
                12,
                "個人番号",
            )
        else:
            value, column, length, label = (
                request.form.get("insured_number", ""),
                "insured_number",
                10,
                "被保険者番号",
            )
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) == length):
            return render_template(
                "kn_search.html",
                screen="KN0010",
                error=f"{label}は{length}桁の半角数字で入力してください",
                by=by,
            )
        rows = g.db.execute(
            "SELECT r.member_no, r.name, r.birth_date, r.insured_number, a.receipt_no"
            " FROM residents r LEFT JOIN kn_applications a ON a.member_no = r.member_no"
            f" WHERE r.{column} = ?",
            (value,),
        ).fetchall()
        return render_template(
            "kn_results.html", screen="KN0020", rows=rows, wareki=wareki_text, by=label
        )

    @app.get("/kn/residents/<member_no>")
    @login_required
    def kn_detail(member_no: str) -> Any:
        person = _resident(member_no)
        if person is None:
            return error_page("該当する被保険者がありません。")
        found = db.registration(g.db, "kn_applications", "member_no", member_no)
        return render_template(
            "kn_detail.html",
            screen="KN0030",
            person=person,
            my_number=mask(person["my_number"]),
            wareki=wareki_text,
            receipt_no=found[0] if found else None,
            rows=display_kaigo(found[1]) if found else [],
        )

    @app.route("/kn/entry/<member_no>", methods=["GET", "POST"])
    @login_required
    def kn_entry(member_no: str) -> Any:
        person = _resident(member_no)
        if person is None:
            return error_page("該当する被保険者がありません。")
        found = db.registration(g.db, "kn_applications", "member_no", member_no)
        if found is not None:
            return error_page(f"この被保険者は既に申請受付済みです（受付番号：{found[0]}）。")
        second = person["insured_number"] is None
        if request.method == "GET":
            return _kn_entry_page(person, {}, {})
        data, errors = parse_kaigo(request.form, second_insured=second)
        if errors:
            return _kn_entry_page(person, request.form, errors)
        _save_draft("kn", member_no, data)
        return render_template(
            "confirm.html",
            screen="KN0050",
            title="要介護認定申請 入力内容確認",
            rows=display_kaigo(data),
            members=None,
            refusing=set(),
            wareki=wareki_text,
            action=url_for("kn_register", member_no=member_no),
        )

    def _kn_entry_page(person: sqlite3.Row, values: Any, errors: dict[str, str]) -> str:
        return render_template(
            "kn_entry.html",
            screen="KN0040",
            person=person,
            values=values,
            errors=errors,
            wareki=wareki_text,
            agent_types=AGENT_TYPES,
            care_levels=CARE_LEVELS,
            diseases=SPECIFIED_DISEASES,
        )

    @app.post("/kn/entry/<member_no>/register")
    @login_required
    def kn_register(member_no: str) -> Any:
        return _register("kn", "kn_applications", "member_no", member_no, "kn_receipt")

    @app.get("/kn/receipt/<receipt_no>")
    @login_required
    def kn_receipt(receipt_no: str) -> Any:
        row = g.db.execute(
            "SELECT member_no FROM kn_applications WHERE receipt_no = ?", (receipt_no,)
        ).fetchone()
        if row is None:
            return error_page("該当する受付番号がありません。")
        # The registration is committed; only its answer is late.
        time.sleep(faults.receipt_latency)
        return render_template(
            "receipt.html",
            screen="KN0060",
            title="要介護認定申請 登録完了",
            receipt_no=receipt_no,
            record_url=url_for("kn_detail", member_no=row["member_no"]),
            search_url=url_for("kn_search"),
        )

    return app
