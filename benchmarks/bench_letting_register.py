"""Building engine applicants from register tables (`boligmix.letting.register`).

Plain script (not collected by pytest):
    PYTHONPATH=src python benchmarks/bench_letting_register.py [--dataset DIR] [--sample 1000] [--seed 1]

Without --dataset it writes the small synthetic Denmark (seed 1) to a temporary directory
first (not timed) and warms up with 10 households (not reported). Prints wall and CPU time
for 100 and for --sample sampled households, per applicant, and the ratio of the two
per-applicant CPU times (fixed cost of reading the tables versus per-household cost).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from boligmix.data.synth import write_synthetic
from boligmix.letting.register import applicants_from_dataset


def timed(dataset: Path, on: date, n: int, seed: int) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    apps = applicants_from_dataset(dataset, on, sample=n, rng=np.random.default_rng(seed))
    return time.perf_counter() - wall, time.process_time() - cpu, len(apps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--on", default="2024-01-15")
    args = parser.parse_args()
    on = date.fromisoformat(args.on)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset or write_synthetic(Path(tmp) / "ds", scale="small", seed=1)
        timed(dataset, on, 10, args.seed)          # warm-up (first reads, lazy imports)
        small = timed(dataset, on, 100, args.seed)
        large = timed(dataset, on, args.sample, args.seed)
    for label, (wall, cpu, n) in (("100", small), (str(args.sample), large)):
        print(f"{label:>6} households: {n} applicants, wall {wall:.2f} s, CPU {cpu:.2f} s, "
              f"{1000 * cpu / n:.2f} ms CPU per applicant")
    print(f"per-applicant CPU ratio (100 / {args.sample}): {(small[1] / small[2]) / (large[1] / large[2]):.2f}")


if __name__ == "__main__":
    main()
