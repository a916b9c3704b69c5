"""Benchmark: bias and 95 % interval coverage of the `evaluate did` estimators over many seeds.

Each seed draws a staggered panel (`boligmix.evaluate.synthetic.staggered_panel`: three adoption
cohorts, a share of never-treated units, effects growing with exposure, optionally an unbalanced
panel) and runs twfe, sunab and did2s (and the event study for the per-year terms). For each estimator
it reports the mean bias of ATT against the injected truth (`true_att`), the RMSE, the coverage of the
95 % interval of ATT, and for sunab/did2s the coverage of the per-relative-year intervals against the
true mean effect per relative year. Under a constant effect (`--growth 0`) TWFE is unbiased too and
serves as a control. Prints a table and, with --json, a JSON line.

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/bench_evaluate_coverage.py --seeds 500
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=60)
    ap.add_argument("--never-share", type=float, default=0.25)
    ap.add_argument("--growth", type=float, default=0.5)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--drop-share", type=float, default=0.05)
    ap.add_argument("--window", default="-4..5")
    ap.add_argument("--tolerance-panels", type=int, default=20,
                    help="Also compare pyfixest's default demeaning tolerance with 1e-12 on this many unbalanced panels.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from boligmix.evaluate.did import DidOptions, estimate, parse_window
    from boligmix.evaluate.panel_input import PanelColumns, check_panel
    from boligmix.evaluate.synthetic import staggered_panel, true_att, true_event_effects

    cols = PanelColumns("unit_id", "year", "outcome", "treated_from")
    window = parse_window(args.window)
    est_names = ("twfe", "sunab", "did2s")
    att = {e: [] for e in est_names}
    cover = {e: [] for e in est_names}
    ev_cover = {e: [] for e in ("event", "sunab", "did2s")}
    truths = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        frame = staggered_panel(np.random.default_rng(seed), n_units=args.units, never_share=args.never_share,
                                growth=args.growth, noise_sd=args.noise, drop_share=args.drop_share)
        truth = true_att(frame)
        truths.append(truth)
        path = true_event_effects(frame)
        panel = check_panel(frame, cols)
        for e in est_names:
            r = estimate(panel, DidOptions(e)).estimates.set_index("term").loc["ATT"]
            att[e].append(r["estimate"] - truth)
            cover[e].append(r["ci_low"] <= truth <= r["ci_high"])
        for e in ev_cover:
            res = estimate(panel, DidOptions(e, window=window)).estimates
            ev = res[(res["term"] != "ATT") & (res["rel_time"] > window[0]) & (res["rel_time"] < window[1])]
            for _, row in ev.iterrows():
                ev_cover[e].append(row["ci_low"] <= path[int(row["rel_time"])] <= row["ci_high"])
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    out = {"seeds": args.seeds, "units": args.units, "growth": args.growth, "never_share": args.never_share,
           "mean_true_att": float(np.mean(truths)), "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
           "load_avg": os.getloadavg(), "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
           "att": {e: {"bias": float(np.mean(att[e])), "rmse": float(np.sqrt(np.mean(np.square(att[e])))),
                       "coverage": float(np.mean(cover[e]))} for e in est_names},
           "event_term_coverage": {e: float(np.mean(v)) for e, v in ev_cover.items()}}
    mc = 1.96 * np.sqrt(0.95 * 0.05 / args.seeds)
    print(f"{args.seeds} seeds, {args.units} units, growth {args.growth}, never-treated share {args.never_share}; "
          f"mean true ATT {out['mean_true_att']:.3f}; Monte Carlo band for coverage 0.95 +- {mc:.3f}")
    print(f"{'estimator':<10}{'bias':>10}{'RMSE':>10}{'coverage':>10}")
    for e in est_names:
        a = out["att"][e]
        print(f"{e:<10}{a['bias']:>10.3f}{a['rmse']:>10.3f}{a['coverage']:>10.3f}")
    print("per-relative-year interval coverage (window inner terms): " +
          ", ".join(f"{e} {v:.3f}" for e, v in out["event_term_coverage"].items()))
    print(f"CPU {cpu:.1f} s, wall {wall:.1f} s, load average {out['load_avg'][0]:.2f}")
    if args.tolerance_panels:
        out["default_tolerance_max_rel_diff"] = tolerance_check(args.tolerance_panels)
        print("pyfixest default fixef tolerance vs 1e-12 on {} unbalanced panels (200 units, 30 % of unit-years "
              "dropped): max relative difference SE {:.1e}, coefficient {:.1e}".format(
                  args.tolerance_panels, *out["default_tolerance_max_rel_diff"]))
    if args.json:
        print(json.dumps(out))


def tolerance_check(n: int) -> tuple[float, float]:
    """Largest relative difference of the TWFE coefficient and CRV1 SE between pyfixest's default
    demeaning and the 1e-12 demeaning `evaluate did` uses."""
    import warnings

    import pyfixest as pf

    from boligmix.evaluate.did import demeaner
    from boligmix.evaluate.synthetic import staggered_panel

    worst_se = worst_b = 0.0
    for seed in range(1, n + 1):
        df = staggered_panel(np.random.default_rng(seed), n_units=200, drop_share=0.3, unit_sd=20).to_pandas()
        df["treat"] = (df.treated_from.notna() & (df.year >= df.treated_from)).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = pf.feols("outcome ~ treat | unit_id + year", df, vcov={"CRV1": "unit_id"})
            b = pf.feols("outcome ~ treat | unit_id + year", df, vcov={"CRV1": "unit_id"}, demeaner=demeaner())
        worst_se = max(worst_se, abs(a.se().iloc[0] / b.se().iloc[0] - 1))
        worst_b = max(worst_b, abs(a.coef().iloc[0] / b.coef().iloc[0] - 1))
    return worst_se, worst_b


if __name__ == "__main__":
    main()
