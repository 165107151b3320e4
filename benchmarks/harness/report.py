"""The results as Markdown tables (printed, and written with a JSON copy to var/bench/)."""

import json
from pathlib import Path

from .load import Result


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _share(result: Result, bare: dict[int, float]) -> str:
    floor = bare.get(result.clients)
    if not floor:
        return "—"
    return f"{100 * result.rps / floor:.1f} %"


def main_table(results: list[Result], bare: dict[int, float], bare_mw: dict[int, float]):
    lines = [
        "| path | size | clients | req/s | p50 ms | p95 ms | vs bare | vs bare + mw "
        "| queries | rest of stack | elsewhere | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        size = "—" if r.size is None else f"{r.size:,}"
        queries = "—" if r.queries is None else str(r.queries)
        silent = f"no answer in {r.seconds:.0f} s" if not r.requests else ""
        notes = "; ".join(
            part for part in (f"{r.errors} errors" if r.errors else "", silent, r.note) if part
        )
        p50, p95 = (_ms(r.p50_ms), _ms(r.p95_ms)) if r.requests else ("—", "—")
        lines.append(
            f"| {r.path} | {size} | {r.clients} | {r.rps:,.1f} | {p50} "
            f"| {p95} | {_share(r, bare)} | {_share(r, bare_mw)} | {queries} "
            f"| {r.stack_cpu / r.seconds:.1f} | {r.elsewhere_cpu / r.seconds:.1f} | {notes} |"
        )
    return lines


def ceiling_table(rows: list[Result]) -> list[str]:
    """What the load generators cost: their CPU next to the server's."""
    lines = [
        "| load generator → target | clients | req/s | generator CPU | server CPU "
        "| requests per generator CPU-second |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        per_cpu = f"{r.requests / r.client_cpu:,.0f}" if r.client_cpu else "—"
        lines.append(
            f"| {r.path} | {r.clients} | {r.rps:,.1f} | {100 * r.client_cpu / r.seconds:.0f} % "
            f"| {100 * r.server_cpu / r.seconds:.0f} % | {per_cpu} |"
        )
    return lines


def simple_table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def write(directory: Path, stamp: str, markdown: list[str], document: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"results-{stamp}.md"
    path.write_text("\n".join(markdown) + "\n")
    path.with_suffix(".json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
