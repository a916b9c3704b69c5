"""Drawing lots among qualifying advert respondents (offentlig annoncering, BEK nr. 977 af
21/08/2024 § 38: when several qualifying applicants want an advertised dwelling, the housing
organisation draws lots, carried out by its auditor).

The draw is fully specified so the audit trail can replay it with any SHA-256 tool: each
participant's lot is `sha256("<seed>:<applicant id>")` (hex), and lots are ordered by that
string. The seed comes from an injected generator (`LettingEngine(..., lottery_rng=...)`; an
auditor's draw passes its own) or, without one, from the round id (`derived:<round id>`:
reproducible, but known in advance). Every ranked respondent's Decision records `lottery_seed`,
`lottery_lot` and `lottery_position`; `replay_lottery` checks a round's records.

Within the lottery, the policies' priorities still come first (e.g. the obligatory fleksibel
criteria in an udsat area cover advertised dwellings): lots order applicants of equal priority.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from boligmix.letting.model import Decision, Outcome

LOTTERY_LAW = "bek. nr. 977 af 21/08/2024 § 38"


def lot(seed: str, applicant_id: int) -> str:
    """A participant's lot: the SHA-256 hex digest of `"<seed>:<applicant id>"`."""
    return hashlib.sha256(f"{seed}:{applicant_id}".encode()).hexdigest()


def draw_seed(rng: Any | None, round_id: str) -> str:
    """A seed for one draw: the next number of the injected generator (`random.Random` or a
    numpy `Generator`), or `derived:<round id>` without one."""
    if rng is None:
        return f"derived:{round_id}"
    if hasattr(rng, "integers"):
        return str(int(rng.integers(0, 2**62)))
    return str(rng.getrandbits(62))


def replay_lottery(decisions: Iterable[Decision], round_id: str) -> list[str]:
    """Check the lottery of one round from its decision records: each ranked respondent's lot is
    recomputed from the recorded seed, and the ranks must follow (priority key, lot). Returns the
    problems found (empty: the draw replays)."""
    ranked = [d for d in decisions if d.round_id == round_id and d.rank is not None
              and d.outcome in (Outcome.OFFERED, Outcome.SKIPPED) and "lottery_seed" in d.facts]
    problems: list[str] = []
    seeds = {d.facts["lottery_seed"] for d in ranked}
    if len(seeds) > 1:
        problems.append(f"round {round_id}: several seeds {sorted(seeds)}")
    for d in ranked:
        expected = lot(str(d.facts["lottery_seed"]), int(d.applicant_id or 0))
        if d.facts.get("lottery_lot") != expected:
            problems.append(f"applicant {d.applicant_id}: lot {d.facts.get('lottery_lot')} != {expected}")
    order = sorted(ranked, key=lambda d: (list(d.facts.get("priority_key") or []), str(d.facts.get("lottery_lot"))))
    if [d.applicant_id for d in order] != [d.applicant_id for d in sorted(ranked, key=lambda d: d.rank or 0)]:
        problems.append(f"round {round_id}: the ranks do not follow (priority, lot)")
    return problems


def lottery_order(keys: Sequence[tuple[Any, int]], seed: str) -> list[int]:
    """Indices of `keys` ((priority key, applicant id) pairs) in draw order."""
    return sorted(range(len(keys)), key=lambda i: (keys[i][0], lot(seed, keys[i][1])))


__all__ = ["LOTTERY_LAW", "draw_seed", "lot", "lottery_order", "replay_lottery"]
