"""Refit the generator's emulator (`profiles.REALISATION`) on a national synthetic dataset.

    PYTHONPATH=src python benchmarks/refit_realisation.py DATASET_DIR [--predict] [--adopt nw,nw_sd,...]

DATASET_DIR is a national dataset written by `boligmix synth --scale national --seed S` (its
manifest gives the seed; all areas of the design must be in it). Run the script with the code
(`profiles.REALISATION`, `Design`, targets) that wrote the dataset: the design is redrawn, and
the yearly shifts are solved against the emulator in force. The script

1. computes the official indicators per area and list year of `targets.yaml` with the project's
   own `boligmix.indicators.compute_area_indicators` (the settings in force for each list year),
2. redraws the design the generator drew for that seed (`profiles.design_profiles` on the
   generator's geography stream, with the `profiles.REALISATION` the dataset was generated with),
3. fits by least squares the `Realisation` fields (docs/synthetic-data.md, "Calibration method"):
   `nw` (measured non-Western share on designed share, base, Y - 2004, designed post-2018 decline),
   `nw_sd` (the sd over areas of the nw residual, linear in Y - 2004), `edu_2013` / `edu_2018`
   (measured basic-education share on 1, base, trend (Y - 2004), shift part, designed and measured
   non-Western share; 2013-2017 and 2018+ measures) with their residual sd, `convicted_rate` and
   `convicted_rate_2010` (mean national conviction share in the list years of the 2013 and of the
   2010 rules, the two with a fixed conviction threshold), `crime_sd` and `outside_sd` (residual sampling noise of the
   conviction multiple per sqrt(multiple) and of the outside-work share against the window means),

and prints them in the `Realisation` field format, next to the current values. `--predict`
also prints, per list year, the emulator's expected main-list count of the dataset's own design
with the current and with the refitted coefficients (only the fields named by `--adopt`, the
others current; default all), next to the counts the official pipeline gives on the dataset
(`boligmix.lists.counts.official_list_counts`; about 1 minute national), and the sum of squared
differences of both emulators from those counts.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import time
from pathlib import Path

import numpy as np
import polars as pl

from boligmix.data.io import read_manifest
from boligmix.data.synth import profiles as pr
from boligmix.data.synth.scales import get_scale
from boligmix.data.synth.targets import load_targets
from boligmix.indicators import compute_area_indicators


def dataset_design(dataset: Path, targets) -> pr.AreaProfiles:
    """The area design the generator drew for the dataset's seed (generator._generate: geo stream first)."""
    manifest = read_manifest(dataset)
    if manifest.scale != "national":
        raise SystemExit(f"{dataset}: scale {manifest.scale!r}; the refit needs the national scale (all areas)")
    geo_rng = np.random.default_rng(int(manifest.seed)).spawn(3)[0]
    return pr.design_profiles(geo_rng, get_scale("national").national_areas, targets)


def area_index(area_ids: pl.Series) -> np.ndarray:
    """Design index of the area ids `A<municipality>-<i + 1>` (geography.build_geography, national scale)."""
    return area_ids.str.split("-").list.get(1).cast(pl.Int64).to_numpy() - 1


def panel(dataset: Path, p: pr.AreaProfiles, targets) -> pl.DataFrame:
    """One row per area and list year: measured official indicators beside the designed values."""
    years = sorted(targets.lists)
    ind = compute_area_indicators(dataset, years)
    rows = []
    for year in years:
        rules = targets.lists[year].rules
        got = ind.filter(pl.col("year") == year).sort("area_id")
        idx = area_index(got["area_id"])
        now = pr.criterion_values(p, year, p.shift_for(year), p.low_shift_for(year))
        window = [pr.criterion_values(p, t, p.shift_for(t), p.low_shift_for(t)) for t in pr.window_years(year, rules)]
        rows.append(pl.DataFrame({
            "year": np.full(len(idx), year), "rules": [rules] * len(idx), "area": idx,
            "base": p.base[idx], "trend_years": p.trend[idx] * (year - pr.BASE_YEAR),
            "shift_part": now["shift_part"][idx], "nw_design": now["nonwestern"][idx],
            "nw_decline": pr.nw_decline(p, year)[idx],
            "outside_design": (sum(v["outside"] for v in window) / len(window))[idx],
            "crime_design": (sum(v["crime_mult"] for v in window) / len(window))[idx],
            "nw": got["pct_non_western"].to_numpy() / 100, "edu": got["pct_basic_education"].to_numpy() / 100,
            "outside": got["pct_outside_work_edu"].to_numpy() / 100, "crime": got["conviction_ratio"].to_numpy(),
            "national_conviction": got["national_conviction_pct"].to_numpy() / 100,
        }))
    return pl.concat(rows).drop_nans().drop_nulls()


def lstsq(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    return coef, y - x @ coef


def fit(d: pl.DataFrame) -> pr.Realisation:
    """The `Realisation` fields fitted on the panel (see the module docstring)."""
    t = (d["year"] - pr.BASE_YEAR).to_numpy().astype(float)
    one = np.ones(len(d))
    nw, nw_res = lstsq(np.column_stack([one, d["nw_design"], d["base"], t, d["nw_decline"]]), d["nw"].to_numpy())
    years = np.unique(t)
    sd_by_year = np.array([nw_res[t == y].std() for y in years])
    nw_sd = np.polyfit(years, sd_by_year, 1)[::-1]
    edu = {}
    for name, rules in (("2013", {"2013"}), ("2018", None)):
        sel = d["rules"].is_in(list(rules)) if rules else ~d["rules"].is_in(["2010", "2013"])
        s = d.filter(sel)
        x = np.column_stack([np.ones(len(s)), s["base"], s["trend_years"], s["shift_part"], s["nw_design"], s["nw"]])
        coef, res = lstsq(x, s["edu"].to_numpy())
        edu[name] = (coef, float(res.std()))
    crime = d["crime_design"].to_numpy()
    return pr.Realisation(
        nw=tuple(np.round(nw, 4)), nw_sd=tuple(np.round(nw_sd, 4)),
        edu_2013=tuple(np.round(edu["2013"][0], 4)), edu_2013_sd=round(edu["2013"][1], 4),
        edu_2018=tuple(np.round(edu["2018"][0], 4)), edu_2018_sd=round(edu["2018"][1], 4),
        convicted_rate=round(float(d.filter(pl.col("rules") == "2013")["national_conviction"].mean()), 4),
        convicted_rate_2010=round(float(d.filter(pl.col("rules") == "2010")["national_conviction"].mean()), 4),
        crime_sd=round(float(((d["crime"].to_numpy() - crime) / np.sqrt(crime)).std()), 3),
        outside_sd=round(float((d["outside"] - d["outside_design"]).std()), 4),
    )


def expected_main_counts(p: pr.AreaProfiles, targets, realisation: pr.Realisation) -> dict[int, float]:
    """The emulator's expected main-list count per list year (ghetto before 2018, udsat from) of design `p`."""
    out = {}
    for year, target in sorted(targets.lists.items()):
        values = pr.measured_values(p, year, target.rules, realisation=realisation, **p.noise(year))
        member = pr.classify(values, pr.ruleset_for(target.rules), realisation.rate_for(target.rules))
        out[year] = float(member[target.main_key].sum(axis=-1).mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--predict", action="store_true", help="also compare expected with official counts")
    parser.add_argument("--adopt", default="", help="comma-separated Realisation fields to predict with (default all)")
    args = parser.parse_args()
    started, cpu0 = time.perf_counter(), time.process_time()
    targets = load_targets()
    p = dataset_design(args.dataset, targets)
    d = panel(args.dataset, p, targets)
    new = fit(d)
    names = [f.name for f in dataclasses.fields(pr.Realisation)]
    adopt = [a for a in args.adopt.split(",") if a] or names
    if set(adopt) - set(names):
        raise SystemExit(f"--adopt: unknown field(s) {sorted(set(adopt) - set(names))}; fields: {', '.join(names)}")
    print(f"dataset {args.dataset} (seed {read_manifest(args.dataset).seed}, calibration "
          f"{read_manifest(args.dataset).notes.get('targets')}); {d['area'].n_unique()} areas x "
          f"{d['year'].n_unique()} list years = {len(d)} rows")
    print("\nRealisation fields (current -> refitted):")
    for f in dataclasses.fields(pr.Realisation):
        old, value = getattr(pr.REALISATION, f.name), getattr(new, f.name)
        fmt = (lambda v: "(" + ", ".join(f"{float(c):.4f}" for c in v) + ")") if isinstance(value, tuple) else repr
        print(f"    {f.name}: {fmt(value)}    # was {fmt(old)}")
    if args.predict:
        from boligmix.lists.counts import official_list_counts

        years = sorted(targets.lists)
        official = official_list_counts(args.dataset, [y for y in years if y < 2018])
        official.update(official_list_counts(args.dataset, [y for y in years if y >= 2018]))
        adopted = dataclasses.replace(pr.REALISATION, **{a: getattr(new, a) for a in adopt})
        before, after = expected_main_counts(p, targets, pr.REALISATION), expected_main_counts(p, targets, adopted)
        print(f"\nmain list of this design: published / official on the dataset / emulator current / "
              f"refitted ({', '.join(adopt)})")
        for y in years:
            key = targets.lists[y].main_key
            print(f"    {y} {key:6s} {targets.lists[y].get(key):4d} {official[y][key]:5d} {before[y]:8.1f} {after[y]:8.1f}")
        sq = {n: sum((e[y] - official[y][targets.lists[y].main_key]) ** 2 for y in years)
              for n, e in (("current", before), ("refitted", after))}
        print(f"    sum of squared differences from the official counts: current {sq['current']:.1f}, "
              f"refitted {sq['refitted']:.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\nwall {time.perf_counter() - started:.1f} s, CPU {time.process_time() - cpu0:.1f} s, peak {peak:.2f} GiB")


if __name__ == "__main__":
    main()
