"""The household facts a seeker pool's selection reads (size, urgency), read for many seekers at once.

`SeekerPool.fill` reads them the first time a seeker is in a vacancy's pool: at the first vacancy
of a municipality, thousands of seekers. `ApplicantFactory.size` and `urgent` read them one seeker
at a time (the members, then per member a row look-up and last year's labour rows); `household_facts`
gives the same values, and leaves the factory's caches as they would be, reading the members of all
the seekers at the same moment (a household's members are fixed when first read: `_person`) and
last year's outside FTE of all their members with array operations. Tested equal to the per-seeker
reads (`tests/test_simulate_batch_reads.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from boligmix.simulate.applicants import REFERRAL_OUTSIDE_FTE, ApplicantFactory, Seekers


def household_facts(factory: ApplicantFactory, sids: Sequence[int], seekers: Seekers
                    ) -> tuple[list[int], list[bool]]:
    """(`factory.size`, `factory.urgent`) of every seeker in `sids`, in order."""
    people_of = _people(factory, sids, seekers)
    sizes = []
    for sid in sids:
        value = factory._size.get(sid)
        if value is None:
            value = factory._size[sid] = len(people_of[sid])
        sizes.append(value)
    urgent = _urgent(factory, sids, seekers, people_of)
    return sizes, urgent


def _people(factory: ApplicantFactory, sids: Sequence[int], seekers: Seekers) -> dict[int, list]:
    """`factory._person` of every seeker (read now for those not read yet, as `_read_people` reads them)."""
    known = factory._people
    pop = factory.pop
    out: dict[int, list] = {}
    pending: list[tuple[int, np.ndarray]] = []
    for sid in sids:
        found = known.get(sid)
        if found is not None:
            out[sid] = found
            continue
        if sid in out:
            continue
        new = seekers.new_members[sid]
        if new is not None:
            out[sid] = known[sid] = factory._read_people(sid, seekers)
            continue
        if seekers.kind[sid] != "leaver":
            ids = pop.pid[factory.members_of(sid)] if factory.members_of is not None else pop.pid[pop.household == sid]
        else:
            ids = seekers.members[sid]
        pending.append((sid, np.asarray(ids, dtype=np.int64)))
        out[sid] = None                          # (a repeated seeker is read once)
    if not pending:
        return out
    ids = np.concatenate([p for _, p in pending])
    rows = _rows_of(factory, ids)
    pid, birth = ids.tolist(), pop.birth[rows].tolist()
    female, country = pop.female[rows].tolist(), pop.country[rows].tolist()
    start = 0
    for sid, part in pending:
        stop = start + part.size
        out[sid] = known[sid] = [(int(p), int(b), bool(f), str(c)) for p, b, f, c in
                                 zip(pid[start:stop], birth[start:stop], female[start:stop], country[start:stop])]
        start = stop
    return out


def _rows_of(factory: ApplicantFactory, ids: np.ndarray) -> np.ndarray:
    """`factory.index.get` of every id, a person not in the index (born during the year after it was
    built) looked up in the population (as `_read_people`)."""
    index = factory.index
    sorted_ids = index._sorted
    i = np.searchsorted(sorted_ids, ids)
    inside = i < sorted_ids.size
    hit = inside.copy()
    hit[inside] = sorted_ids[i[inside]] == ids[inside]
    rows = np.zeros(ids.size, dtype=np.int64)
    rows[hit] = index._order[i[hit]]
    for k in np.flatnonzero(~hit).tolist():
        rows[k] = int(np.flatnonzero(factory.pop.pid == ids[k])[0])
    return rows


def _urgent(factory: ApplicantFactory, sids: Sequence[int], seekers: Seekers, people_of: dict[int, list]
            ) -> list[bool]:
    """`factory.urgent` of every seeker: an immigrant household's from its donor's outside FTE, the
    others' from last year's outside FTE of their members (`last_fte`), summed in register order."""
    cached = factory._urgent
    todo = []
    for sid in sids:
        if sid in cached:
            continue
        new = seekers.new_members[sid]
        if seekers.kind[sid] == "immigrant" and new is not None and "outside_fte" in new:
            cached[sid] = bool(np.any(np.asarray(new["outside_fte"]) >= REFERRAL_OUTSIDE_FTE))
        else:
            todo.append(sid)
    todo = list(dict.fromkeys(todo))
    if todo:
        counts = [len(people_of[s]) for s in todo]
        pids = np.fromiter((p for s in todo for p, _, _, _ in people_of[s]), dtype=np.int64, count=sum(counts))
        readable = factory._readable
        if readable is not None and pids.size and not _all_in(readable._sorted, pids):
            for sid in todo:                     # a person whose labour rows may not be read: the error as before
                factory.urgent(sid, seekers)
        else:
            fte = outside_fte(factory, pids)
            owner = np.repeat(np.arange(len(todo)), counts)
            urgent = np.zeros(len(todo), dtype=bool)
            np.logical_or.at(urgent, owner, fte >= REFERRAL_OUTSIDE_FTE)
            cached.update(zip(todo, urgent.tolist()))
    return [cached[sid] for sid in sids]


def outside_fte(factory: ApplicantFactory, pids: np.ndarray) -> np.ndarray:
    """`factory.last_fte(pid, factory.outside)` of every person in `pids`: the FTE of last year's
    labour rows on an outside attachment, added in register order (as the per-person sum)."""
    lab_pid = factory._lab_pid
    lo = np.searchsorted(lab_pid, pids)
    hi = np.searchsorted(lab_pid, pids + 1)
    n = hi - lo
    owner = np.repeat(np.arange(pids.size), n)
    rows = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    codes = np.array([k for k, name in enumerate(factory._lab_names) if name in factory.outside], dtype=np.int64)
    keep = (factory._lab_year[rows] == factory.span[1]) & np.isin(factory._lab_att[rows], codes)
    # bincount adds each bin's weights in input order from 0.0: the same additions as `sum` from 0
    return np.bincount(owner[keep], weights=factory._lab_fte[rows[keep]].astype(np.float64), minlength=pids.size)


def _all_in(sorted_ids: np.ndarray, ids: np.ndarray) -> bool:
    i = np.searchsorted(sorted_ids, ids)
    if (i >= sorted_ids.size).any():
        return False
    return bool((sorted_ids[i] == ids).all())


__all__ = ["household_facts", "outside_fte"]
