"""``shinsei serve`` and ``shinsei demo``: the Prefect side of the command line."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shinsei.config import REPO_ROOT, settings

if TYPE_CHECKING:
    from store import Ledger

DEMO_BATCH = REPO_ROOT / "samples" / "batch-demo"
DEMO_DATE = "2020-06-01"  # the sample mail's 受付日
DEMO_LETTER_DATE = "2020-06-02"


def serve_command(
    inbox: Annotated[Path, typer.Option(help="Folder the nightly batch reads scans from.")] = Path(
        "inbox"
    ),
    port: Annotated[int, typer.Option(help="Port of the local Prefect server and UI.")] = 4200,
    max_sessions: Annotated[
        int, typer.Option(help="Browser sessions the legacy system allows at once.")
    ] = 4,
) -> None:
    """Start (or connect to) the Prefect server and UI, and serve shinsei's deployments.

    The nightly batch runs at 01:00 Asia/Tokyo; the operator flows run when
    started from the UI. Stop with Ctrl-C.
    """
    from flows.server import ensure_prefect_server, quiet_prefect_env

    os.environ.update(quiet_prefect_env())
    server = ensure_prefect_server(port)
    os.environ["PREFECT_API_URL"] = server.url
    typer.echo(f"Prefect UI: {server.url.removesuffix('/api')}")
    if server.started_here:
        typer.echo(f"  (server started here, pid {server.pid}, log {server.log})")

    from flows.serve import serve_deployments

    serve_deployments(str(inbox.resolve()), max_sessions)


def _demo_account(data_dir: Path) -> tuple[str, str]:
    """The demo's robot account on the stand-in, made once and kept owner-readable."""
    path = data_dir / "legacy" / "demo-account"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"robot:{secrets.token_urlsafe(12)}\n")
        path.chmod(0o600)
    user, password = path.read_text().strip().split(":", 1)
    return user, password


FINAL_STATE = {"accept": "keyed", "review": "review", "reject": "rejected", "unknown": "unknown"}
"""Where each decision of the sample batch's truth leads after a whole night."""
SETTLED = {"letter_queued": "rejected", "mailed": "rejected", "reviewed": "review"}


def against_truth(ledger: Ledger, batch_id: str, truth: Path) -> dict[str, list[str]]:
    """Each envelope of the batch against the truth: ``as_truth``, ``doubtful``, ``otherwise``.

    ``doubtful``: sent to a reviewer although the truth has a decision, because a
    reading was doubtful (a field in ``review``): a person's minute, not a wrong
    outcome. ``otherwise``: anything else that differs from the truth.
    """
    want = {}
    for line in truth.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            want[rec["file"]] = FINAL_STATE[rec["decision"]]
    out: dict[str, list[str]] = {"as_truth": [], "doubtful": [], "otherwise": []}
    for row in ledger.rows(ledger.document_ids(batch_id=batch_id)):
        name = Path(row.file).name
        got = SETTLED.get(str(row.state), str(row.state))
        if got == want.get(name):
            out["as_truth"].append(name)
        elif got == "review" and any(
            fv.status == "review" for fv in ledger.load(row.id).fields.values()
        ):
            out["doubtful"].append(name)
        else:
            out["otherwise"].append(f"{name} ({got}; truth: {want.get(name, 'not in it')})")
    return out


def _summary(result: dict[str, Any], comparison: dict[str, list[str]] | None, ui: str) -> str:
    report = result["report"]
    states = report["by_state"]
    rows = [
        ("documents", report["total"]),
        ("accepted and keyed", states.get("keyed", 0)),
        ("in review", states.get("review", 0) + states.get("reviewed", 0)),
        (
            "rejected, letter queued",
            sum(states.get(s, 0) for s in ("rejected", "letter_queued", "mailed")),
        ),
        ("unknown form", states.get("unknown", 0)),
        ("failed", states.get("failed", 0)),
    ]
    lines = [f"shinsei nightly batch {result['batch_id']}", ""]
    width = max(len(r[0]) for r in rows)
    lines += [f"  {label:<{width}}  {got:>4}" for label, got in rows]
    if comparison is not None:
        total = sum(len(v) for v in comparison.values())
        lines += [
            "",
            f"  against the sample batch's truth ({total} envelopes):",
            f"    {len(comparison['as_truth']):>4}  ended as the truth says",
            f"    {len(comparison['doubtful']):>4}  sent to a reviewer: a reading was doubtful"
            + (f" ({', '.join(comparison['doubtful'])})" if comparison["doubtful"] else ""),
            f"    {len(comparison['otherwise']):>4}  otherwise"
            + (f" ({', '.join(comparison['otherwise'])})" if comparison["otherwise"] else ""),
        ]
    lines += [
        "",
        f"  straight-through rate: {report['straight_through_rate']:.1%}",
        f"  review workbook:  {result['review_workbook'] or '(nothing to review)'}",
        f"  return letters:   {result['letters'].get('directory') or '(none this run)'}",
        f"  Prefect UI:       {ui}",
    ]
    return "\n".join(lines)


def demo_command(
    inbox: Annotated[Path, typer.Option(help="Scans to process.")] = DEMO_BATCH,
    batch: Annotated[str, typer.Option(help="Batch id (the night's date).")] = DEMO_DATE,
    receipt_date: Annotated[str, typer.Option(help="受付日 of the mail.")] = DEMO_DATE,
    letter_date: Annotated[str, typer.Option(help="Date printed on the letters.")] = (
        DEMO_LETTER_DATE
    ),
    legacy_port: Annotated[int, typer.Option(help="Port of the legacy stand-in.")] = 8800,
    prefect_port: Annotated[int, typer.Option(help="Port of the Prefect server.")] = 4200,
) -> None:
    """The main job on the embedded defaults: the nightly batch on the committed sample batch.

    Starts the legacy stand-in and a local Prefect server (both keep running
    in the background), runs the nightly batch through Prefect, and prints
    what happened to each envelope next to what the sample batch's truth says.
    """
    from flows.server import ensure_legacy, ensure_prefect_server, quiet_prefect_env

    conf = settings()
    conf.ensure_dirs()
    os.environ.update(quiet_prefect_env())
    user, password = _demo_account(conf.data_dir)
    legacy = ensure_legacy(legacy_port, f"{user}:{password}")
    typer.echo(f"legacy stand-in: {legacy.url}" + (" (started)" if legacy.started_here else ""))
    server = ensure_prefect_server(prefect_port)
    ui = server.url.removesuffix("/api")
    typer.echo(f"Prefect server:  {ui}" + (" (started)" if server.started_here else ""))
    os.environ.update(
        PREFECT_API_URL=server.url,
        SHINSEI_LEGACY_URL=legacy.url,
        SHINSEI_LEGACY_USER=user,
        SHINSEI_LEGACY_PASSWORD=password,
    )

    from flows.nightly import nightly_batch

    result = nightly_batch(
        inbox=str(inbox.resolve()),
        batch_date=batch,
        receipt_date=receipt_date,
        letter_date=letter_date,
    )
    truth = inbox / "truth.jsonl"
    from store import Ledger

    comparison = against_truth(Ledger(), batch, truth) if truth.is_file() else None
    typer.echo("")
    typer.echo(_summary(result, comparison, ui))
    for service, name in ((server, "Prefect server"), (legacy, "legacy stand-in")):
        if service.started_here:
            typer.echo(f"  ({name} keeps running: stop it with kill {service.pid})")
