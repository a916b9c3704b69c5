"""Diagnosis of the backcast (issue 17): per area and year, where the non-Western share and the
conviction share come from, in the data and in a simulated replication.

For every year t of --start ... --start+--years-1 and every area: residents on 1 January t and
t+1, and the persons who left (moved to another dwelling outside the area, died, emigrated) and
entered (moved in from elsewhere in the dataset, immigrated, were born), each with how many are
non-Western; and the persons 18+ convicted in t. Run on the data and, with --simulate, on one
replication of the baseline written as a full dataset (`run_replication(keep_working=...)`).

    flock /work/bench.lock env PYTHONPATH=src python benchmarks/backcast_flows.py \
        --data /work/data/municipality-seed1 --start 2012 --years 5 --simulate 0 --out /tmp/flows
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def flows(dataset_dir: str | os.PathLike[str], start: int, years: int) -> pl.DataFrame:
    """One row per (year, area_id, flow): persons and non-Western persons (see the module docstring)."""
    from boligmix.data.io import read_table

    persons = read_table(dataset_dir, "persons", ["person_id", "birth_date", "origin", "country_code"])
    western = read_table(dataset_dir, "countries").filter(pl.col("western"))["country_code"].to_list()
    persons = persons.with_columns(((pl.col("origin") != "dansk") & ~pl.col("country_code").is_in(western)
                                    .fill_null(False)).alias("nw"))
    residences = read_table(dataset_dir, "residences", ["person_id", "dwelling_id", "move_in", "move_out",
                                                        "end_reason"])
    area_of = read_table(dataset_dir, "dwellings", ["dwelling_id", "area_id"])
    convictions = read_table(dataset_dir, "convictions", ["person_id", "year"]).unique()

    def on(d: date) -> pl.DataFrame:
        live = residences.filter((pl.col("move_in") <= d) & (pl.col("move_out").is_null() | (pl.col("move_out") > d)))
        return live.join(area_of, on="dwelling_id", how="left").select("person_id", "area_id")

    rows = []
    for t in range(start, start + years):
        a, b = on(date(t, 1, 1)), on(date(t + 1, 1, 1))
        ended = residences.filter(pl.col("move_out").is_not_null() & (pl.col("move_out").dt.year() == t)
                                  & pl.col("end_reason").is_in(["death", "abroad"])).select(
            "person_id", "end_reason").unique("person_id")
        both = a.join(b, on="person_id", how="full", suffix="_next", coalesce=True).join(persons, on="person_id",
                                                                                         how="left")
        both = both.join(ended, on="person_id", how="left")
        adult_conv = convictions.filter(pl.col("year") == t).select("person_id", pl.lit(True).alias("conv"))
        both = both.join(adult_conv, on="person_id", how="left").with_columns(pl.col("conv").fill_null(False))
        age_next = (pl.lit(date(t + 1, 1, 1)) - pl.col("birth_date")).dt.total_days() / 365.25
        in_a = pl.col("person_id").is_in(a["person_id"].implode())
        in_b = pl.col("person_id").is_in(b["person_id"].implode())
        both = both.with_columns(in_a.alias("was"), in_b.alias("is"), age_next.alias("age_next"))
        leave = both.filter(pl.col("area_id").is_not_null()
                            & (pl.col("area_id_next").is_null() | (pl.col("area_id_next") != pl.col("area_id"))))
        leave = leave.with_columns(pl.when(pl.col("is")).then(pl.lit("out_move"))
                                   .when(pl.col("end_reason") == "death").then(pl.lit("death"))
                                   .otherwise(pl.lit("emigration")).alias("flow"))
        enter = both.filter(pl.col("area_id_next").is_not_null()
                            & (pl.col("area_id").is_null() | (pl.col("area_id") != pl.col("area_id_next"))))
        enter = enter.with_columns(pl.when(pl.col("was")).then(pl.lit("in_move"))
                                   .when(pl.col("birth_date").dt.year() == t).then(pl.lit("birth"))
                                   .otherwise(pl.lit("immigration")).alias("flow")).with_columns(
            pl.col("area_id_next").alias("area_id"))
        stock = both.filter(pl.col("area_id").is_not_null() & pl.col("was")).with_columns(pl.lit("stock_start")
                                                                                           .alias("flow"))
        conv = both.filter(pl.col("area_id_next").is_not_null() & pl.col("is") & (pl.col("age_next") >= 18)
                           ).with_columns(pl.col("area_id_next").alias("area_id"), pl.lit("adults_end").alias("flow"))
        for part in (leave, enter, stock, conv):
            rows.append(part.group_by("area_id", "flow").agg(pl.len().alias("persons"), pl.col("nw").sum().alias("nw"),
                                                            pl.col("conv").sum().alias("convicted"))
                        .with_columns(pl.lit(t).alias("year")))
    return pl.concat(rows).select("year", "area_id", "flow", "persons", "nw", "convicted").sort("year", "area_id",
                                                                                               "flow")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--start", type=int, default=2012)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--simulate", type=int, default=None, help="also one simulated replication (its number)")
    parser.add_argument("--out", required=True, help="directory for data_flows.parquet, sim_flows.parquet")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w0, c0 = time.perf_counter(), _cpu()
    flows(args.data, args.start, args.years).write_parquet(out / "data_flows.parquet")
    if args.simulate is not None:
        from boligmix.simulate.replication import run_replication
        from boligmix.simulate.run import prepare
        from boligmix.simulate.scenario import load_scenario

        scenario = load_scenario("baseline")
        shared = prepare(args.data, scenario, args.start, args.years, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            full = Path(tmp) / "simulated"
            run_replication(shared, args.simulate, scenario, keep_working=full)
            flows(full, args.start, args.years).write_parquet(out / "sim_flows.parquet")
    print(f"wall {time.perf_counter() - w0:.1f} s, cpu {_cpu() - c0:.1f} s, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
