"""Invoice rendering speed: PDF and PDF + Factur-X, 1-page and 5-page, 1 process and N.

Run from the repository root::

    .venv/bin/python bench/render.py                 # ~1 minute on 2 cores
    .venv/bin/python bench/render.py --count 50      # more renders per figure
    .venv/bin/python bench/render.py --batch 1000    # plus a 1,000-invoice batch on all cores

Every speed is also given as a ratio against a baseline measured in the same run (a one-line
"Hello" page rendered by WeasyPrint with the same font), because absolute figures move a lot
between machines and with the machine's load. Targets: a 1-page invoice renders in under
150 ms (median, one core); 1,000 invoices render on 2 cores in under 2 minutes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ONE_PAGE_LINES = 11  # the most lines that fit on one A4 page (totals, payment) in all 5 languages
FIVE_PAGE_LINES = 120
LANGUAGES = ("en", "de", "nl", "fr", "es")


def build(kind: str, index: int = 0):  # type: ignore[no-untyped-def]
    """A sample document: ``one`` (1 page) or ``five`` (5 pages), numbered by ``index``."""
    from tests import render_samples

    lines = ONE_PAGE_LINES if kind == "one" else FIVE_PAGE_LINES
    return render_samples.standard_invoice(
        line_count=lines,
        number=f"INV-2026-{index:05d}",
        language=LANGUAGES[index % len(LANGUAGES)],
    )


def render(kind: str, index: int, facturx: bool) -> int:
    """Render one document; returns the PDF size (so the work cannot be optimised away)."""
    from render.facturx import render_facturx_pdf
    from render.pdf import render_pdf

    document = build(kind, index)
    pdf = render_facturx_pdf(document) if facturx else render_pdf(document)
    return len(pdf)


def hello() -> int:
    """The baseline: WeasyPrint rendering a one-line page with the same font, as PDF/A-3b."""
    import weasyprint

    from render.pdf import PDF_VARIANT, _font_config, _output_intent

    html = '<p style="font-family: DejaVu Sans">Hello</p>'
    pdf = weasyprint.HTML(string=html).write_pdf(
        pdf_variant=PDF_VARIANT, font_config=_font_config(), **_output_intent()
    )
    return len(pdf)


@dataclass(frozen=True)
class Stats:
    """Wall-clock median and minimum, and the CPU-time median, in milliseconds."""

    median_ms: float
    min_ms: float
    cpu_median_ms: float


def _job(args: tuple[str, int, bool]) -> int:
    return render(*args)


def _worker_init() -> None:
    from render.pdf import warm_up

    warm_up()
    render("one", 0, True)


def interleaved(cases: dict[str, tuple[Callable[[], object], int]]) -> dict[str, Stats]:
    """Time every case round-robin, so a change in machine load hits all cases alike.

    Each case runs once as a warm-up, then ``runs`` more times, interleaved with the others.
    """
    for fn, _runs in cases.values():
        fn()
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
    for round_ in range(max(runs for _fn, runs in cases.values())):
        for name, (fn, runs) in cases.items():
            if round_ >= runs:
                continue
            wall0, cpu0 = time.perf_counter(), time.process_time()
            fn()
            samples[name][0].append(time.perf_counter() - wall0)
            samples[name][1].append(time.process_time() - cpu0)
    return {
        name: Stats(
            median_ms=statistics.median(wall) * 1000,
            min_ms=min(wall) * 1000,
            cpu_median_ms=statistics.median(cpu) * 1000,
        )
        for name, (wall, cpu) in samples.items()
    }


def pool_rate(processes: int, kind: str, facturx: bool, count: int) -> float:
    """Documents per second over ``processes`` worker processes (start-up excluded)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_worker_init) as pool:
        pool.map(_job, [("one", i, False) for i in range(processes * 2)], chunksize=1)
        jobs = [(kind, i, facturx) for i in range(count)]
        start = time.perf_counter()
        pool.map(_job, jobs, chunksize=1)
        elapsed = time.perf_counter() - start
        pool.close()
        pool.join()
    return count / elapsed


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def batch(processes: int, count: int) -> tuple[float, float, float]:
    """``count`` 1-page PDF + Factur-X invoices on ``processes`` workers.

    Returns seconds with and without pool start-up, and the CPU seconds the workers used
    (start-up included): on a loaded machine CPU time says what idle cores would need.
    """
    context = multiprocessing.get_context("spawn")
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    with context.Pool(processes, initializer=_worker_init) as pool:
        ready = time.perf_counter()
        total = 0
        for size in pool.imap_unordered(
            _job, [("one", i, True) for i in range(count)], chunksize=4
        ):
            total += size
        done = time.perf_counter()
        pool.close()
        pool.join()
    assert total > 0
    return done - start, done - ready, _children_cpu_s() - cpu_before


def peak_rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    """Print the figures (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--count",
        type=int,
        default=20,
        help="renders per 1-page figure (5-page figures use a quarter)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the parallel figures (default: one per core)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="also render a batch of N 1-page PDF + Factur-X invoices",
    )
    args = parser.parse_args(argv)
    count, five_count, procs = args.count, max(3, args.count // 4), args.processes

    t0 = time.perf_counter()
    from render.pdf import warm_up

    warm_up()
    print(f"cold start (imports + template + stylesheet): {time.perf_counter() - t0:.2f} s")
    print(
        f"cores: {os.cpu_count()}, worker processes: {procs}, renders per figure: "
        f"{count} (1 page), {five_count} (5 pages)\n"
    )

    cases: dict[str, tuple[Callable[[], object], int]] = {"baseline 'Hello' page": (hello, count)}
    for kind, label, runs in (("one", "1-page", count), ("five", "5-page", five_count)):
        for facturx in (False, True):
            name = f"{label} {'PDF + Factur-X' if facturx else 'PDF'}"
            cases[name] = (partial(render, kind, 1, facturx), runs)
    stats = interleaved(cases)
    base = stats["baseline 'Hello' page"]
    print(f"{'single process':<26}{'median':>9}{'min':>9}{'cpu':>9}{'per s':>8}{'x baseline':>12}")
    for name, st in stats.items():
        print(
            f"{name:<26}{st.median_ms:7.1f}ms{st.min_ms:7.1f}ms{st.cpu_median_ms:7.1f}ms"
            f"{1000 / st.median_ms:8.2f}{st.median_ms / base.median_ms:11.1f}x"
        )
    single = {name: st.median_ms for name, st in stats.items()}
    one_page = stats["1-page PDF"]
    verdict = "met" if one_page.median_ms < 150 else "NOT met"
    print(
        f"target: 1-page PDF < 150 ms median on one core: {verdict} "
        f"({one_page.median_ms:.0f} ms; load average {os.getloadavg()[0]:.1f})\n"
    )

    print(f"{procs} processes (spawned and warmed up; throughput vs one process's median):")
    for kind, label, runs in (("one", "1-page", count * 2), ("five", "5-page", five_count * 2)):
        for facturx in (False, True):
            name = f"{label} {'PDF + Factur-X' if facturx else 'PDF'}"
            rate = pool_rate(procs, kind, facturx, runs)
            speedup = rate * single[name] / 1000
            print(f"{name:<26}{rate:7.2f}/s = {speedup:4.2f}x one process")

    if args.batch:
        total, rendering, cpu = batch(procs, args.batch)
        verdict = "met" if total < 120 else "NOT met"
        print(
            f"\nbatch of {args.batch} 1-page PDF + Factur-X invoices on {procs} processes: "
            f"{total:.1f} s including pool start-up ({rendering:.1f} s rendering, "
            f"{args.batch / rendering:.1f}/s); target < 120 s for 1,000 on 2 cores: {verdict}"
        )
        print(
            f"  workers used {cpu:.1f} CPU s ({cpu / args.batch * 1000:.0f} ms per invoice): "
            f"{cpu / procs:.1f} s on {procs} otherwise idle cores"
        )

    print(
        f"\npeak RSS: this process {peak_rss_mib(resource.RUSAGE_SELF):.0f} MiB, "
        f"largest worker {peak_rss_mib(resource.RUSAGE_CHILDREN):.0f} MiB"
    )


if __name__ == "__main__":
    main()
