"""Benchmark: the dashboard on a dataset — startup (lists, disclosure control, mix) and server time per page.

Prints the time to compute the dashboard's data (wall and CPU, peak memory), then the server time
of every area page (Danish and English; the `Server-Timing` header, measured inside the app) with
min / median / p95 / max and the ratio of the p95 and the max to the 300 ms budget, and the server
time of the overview, list, municipality pages and the CSV download. Heavy on the national data:
run it under the shared lock.

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_dashboard.py [--data DIR] [--mix-years N]

Default data: /work/data/national-seed1 when its `.ready` exists, else /work/data/municipality-seed1.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

BUDGET_MS = 300.0
NATIONAL = Path("/work/data/national-seed1")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _server_ms(response) -> float:
    return float(response.headers["Server-Timing"].split("dur=")[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = NATIONAL if (NATIONAL / ".ready").exists() else Path("/work/data/municipality-seed1")
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--mix-years", type=int, default=None, help="default: as `boligmix serve` (auto)")
    parser.add_argument("--max-areas", type=int, default=0, help="time at most this many area pages (0: all)")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from boligmix.web.dashboard import create_dashboard_app, load_dashboard

    print(f"dataset {args.data}; load average at start {os.getloadavg()[0]:.1f}")
    wall, cpu = time.perf_counter(), _cpu()
    data = load_dashboard(args.data, mix_years="auto" if args.mix_years is None else args.mix_years)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"startup: {len(data.areas)} areas, list years {data.years[0]}-{data.years[-1]}, mix years "
          f"{data.mix_years or '-'}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak memory {peak:.2f} GiB")

    client = TestClient(create_dashboard_app(data))
    areas = sorted(data.areas)[: args.max_areas or None]
    client.get(f"/areas/{areas[0]}")  # warm-up
    times = []
    cpu = _cpu()
    for a in areas:
        for lang in ("da", "en"):
            r = client.get(f"/areas/{a}?lang={lang}")
            assert r.status_code == 200, (a, r.status_code)
            times.append(_server_ms(r))
    cpu = _cpu() - cpu
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"area pages: {len(times)} requests, server time min {times[0]:.1f} / median "
          f"{statistics.median(times):.1f} / p95 {p95:.1f} / max {times[-1]:.1f} ms; ratio to the "
          f"{BUDGET_MS:.0f} ms budget: p95 {p95 / BUDGET_MS:.2f}, max {times[-1] / BUDGET_MS:.2f}; "
          f"client + server CPU {1000 * cpu / len(times):.1f} ms per request")
    year = data.years[-1]
    for url in ("/", f"/?year={data.years[0]}", "/lists", "/lists?status=listed", "/lists.csv", "/municipalities",
                f"/municipalities/{next(iter(sorted(data.municipalities)))}"):
        samples = sorted(_server_ms(client.get(url)) for _ in range(5))
        print(f"{url}: server time median {samples[2]:.1f} ms, max {samples[-1]:.1f} ms")
    wall = time.perf_counter()
    client.get(f"/lists.pdf?year={year}")
    print(f"/lists.pdf?year={year} (first, WeasyPrint): {time.perf_counter() - wall:.1f} s wall")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
