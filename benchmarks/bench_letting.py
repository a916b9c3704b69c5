"""Letting engine throughput: offer rounds over a synthetic waiting list.

Plain script (not collected by pytest):
    PYTHONPATH=src python benchmarks/bench_letting.py [--applicants 1000] [--vacancies 50] [--seed 1]

Prints the time per offer round and per assessed applicant, for the statutory policies and
for the statutory policies plus the example local agreements, and their ratio.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

import numpy as np

from boligmix.letting.engine import LettingContext, LettingEngine
from boligmix.letting.model import (
    Applicant,
    BenefitHistory,
    BenefitSpell,
    Dwelling,
    Household,
    HouseholdMember,
    ListType,
    MemberRole,
    Vacancy,
)
from boligmix.letting.policy import load_default_policies

CATEGORIES = [frozenset(), frozenset({"udsat"}), frozenset({"udsat", "parallelsamfund", "omdannelse"}),
              frozenset({"forebyggelse"}), frozenset({"kombineret_udlejning"})]


def make_applicants(n: int, rng: np.random.Generator) -> list[Applicant]:
    out = []
    for i in range(1, n + 1):
        size = int(rng.integers(1, 5))
        spells = ()
        if rng.random() < 0.2:
            spells = (BenefitSpell("kontanthjaelp", date(2023, 1, 1), date(2024, 6, 1)),)
        members = [HouseholdMember(i * 10, MemberRole.APPLICANT, date(1980, 1, 1), None,
                                   BenefitHistory(date(2020, 1, 1), date(2024, 6, 1), spells),
                                   {"eu_eea_ch_citizen": True, "enrolled_student": False,
                                    "released_after_sentence_on": False, "lease_terminated_for_breach_on": False,
                                    "released_from_youth_institution_after_sentence": False})]
        members += [HouseholdMember(i * 10 + k, MemberRole.CHILD, date(2015, 1, 1)) for k in range(1, size)]
        internal = rng.random() < 0.15
        out.append(Applicant(i, "ORG1", ListType.INTERNAL if internal else ListType.EXTERNAL,
                             date(2000, 1, 1) + timedelta(days=int(rng.integers(0, 8000))),
                             Household(i, tuple(members)), min_rooms=int(rng.integers(1, 3)),
                             current_department_id="ORG1-1" if internal else None,
                             current_org_id="ORG1" if internal else None,
                             facts={"household.employed_or_in_education": bool(rng.random() < 0.5)}))
    return out


def run(policies, applicants, vacancies: int, rng: np.random.Generator) -> tuple[float, float, int]:
    engine = LettingEngine(policies)
    now = datetime(2024, 6, 15)
    start, cpu = time.perf_counter(), time.process_time()
    for j in range(vacancies):
        d = Dwelling(j, 101, "ORG1", f"ORG1-{j % 5}", int(rng.integers(1, 5)), "A1", CATEGORIES[j % len(CATEGORIES)])
        r = engine.next_offers(Vacancy(f"V{j}", d, date(2024, 7, 1)), applicants, LettingContext(), now)
        if r.offers:
            engine.accept(r.offers[0].offer_id, now)
    return time.perf_counter() - start, time.process_time() - cpu, len(engine.decisions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=1000)
    parser.add_argument("--vacancies", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    applicants = make_applicants(args.applicants, rng)
    results = {}
    for label, policies in (("statutory", load_default_policies()),
                            ("statutory+local", load_default_policies(include_local_examples=True))):
        seconds, cpu, decisions = run(policies, applicants, args.vacancies, np.random.default_rng(args.seed))
        results[label] = cpu
        print(f"{label:16s} {args.vacancies} rounds x {args.applicants} applicants: wall {seconds:.2f} s, "
              f"cpu {cpu:.2f} s, {1000 * cpu / args.vacancies:.1f} ms cpu/round, "
              f"{1e6 * cpu / (args.vacancies * args.applicants):.1f} us cpu/applicant assessed, "
              f"{decisions} decisions")
    print(f"cpu ratio statutory+local / statutory: {results['statutory+local'] / results['statutory']:.2f}")


if __name__ == "__main__":
    main()
