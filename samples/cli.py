"""``shinsei samples generate``: write a sample batch (scan files + truth.jsonl)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

samples_app = typer.Typer(
    no_args_is_help=True, help="Sample batches of filled forms with ground truth."
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


@samples_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option(help="Folder to write the scan files and truth.jsonl into.")],
    count: Annotated[int, typer.Option(help="Number of envelopes.")] = 20,
    seed: Annotated[int, typer.Option(help="Same seed and options → byte-identical batch.")] = 0,
    forms: Annotated[str, typer.Option(help="Comma-separated form ids.")] = "kyufukin,kaigo_nintei",
    style: Annotated[str, typer.Option(help="printed | handwriting | mixed")] = "mixed",
    defect_rate: Annotated[
        float, typer.Option(help="Share of applications with one defect.")
    ] = 0.3,
    non_defect_rate: Annotated[
        float, typer.Option(help="Share of clean applications with a correction or a stray mark.")
    ] = 0.15,
    unknown_rate: Annotated[float, typer.Option(help="Share of envelopes without a form.")] = 0.03,
    duplicate_rate: Annotated[float, typer.Option(help="Share of applications sent twice.")] = 0.0,
    formats: Annotated[
        str, typer.Option(help="Comma-separated: pdf,tiff,png,jpeg.")
    ] = "pdf,tiff,png,jpeg",
    modes: Annotated[
        str, typer.Option(help="Comma-separated scan modes: color,gray,bilevel.")
    ] = "color,gray,bilevel",
    dpi: Annotated[str, typer.Option(help="Comma-separated scan resolutions.")] = "200,300",
    clean: Annotated[
        bool, typer.Option(help="Clean printed set: typed, no scanner effects.")
    ] = False,
    extra_pages: Annotated[
        bool, typer.Option(help="Enclose ID / passbook copies and blank backs.")
    ] = True,
    prefix: Annotated[str, typer.Option(help="File name prefix.")] = "scan",
    workers: Annotated[int, typer.Option(help="Processes (the result does not depend on it).")] = 1,
    demo: Annotated[
        bool, typer.Option(help="The committed demo batch (ignores the other options).")
    ] = False,
) -> None:
    """Fill the blank forms from the resident registry, scan them, and write the ground truth."""
    from samples.demo import demo_plans, write_readme
    from samples.generator import Options, generate_batch, plan_batch
    from shinsei.errors import BadInputError

    if style not in ("printed", "handwriting", "mixed"):
        raise BadInputError("--style", "use printed, handwriting or mixed")
    if demo:
        plans = demo_plans()
    else:
        options = Options(
            count=count,
            seed=seed,
            forms=_split(forms),
            style=style,
            defect_rate=defect_rate,
            non_defect_rate=non_defect_rate,
            unknown_rate=unknown_rate,
            duplicate_rate=duplicate_rate,
            formats=_split(formats),
            modes=_split(modes),
            dpis=tuple(int(d) for d in _split(dpi)),
            clean=clean,
            extra_pages=extra_pages,
            prefix=prefix,
        )
        plans = plan_batch(options)
    report = generate_batch(out, plans, workers=workers)
    if demo:
        write_readme(out)
    typer.echo(
        f"{len(report.files)} envelopes, {report.total_bytes / 1e6:.1f} MB in {out} "
        f"({report.seconds:.1f} s; {report.mean_seconds:.2f} s per envelope on one core); "
        f"truth: {report.truth_path}"
    )
