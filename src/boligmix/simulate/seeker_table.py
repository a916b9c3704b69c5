"""The seekers of one simulated year (`Seekers`): who seeks, from when, where and with whom, by
seeker id, with the open seekers grouped by (municipality, wants almen) for the market's pools.
Re-exported by `boligmix.simulate.applicants`, where it was defined until session 16."""

from __future__ import annotations

from typing import Any

import numpy as np


class Seekers:
    """Seekers by id (household id; a new household id for leavers and immigrants)."""

    def __init__(self) -> None:
        self.kind: dict[int, str] = {}
        self.month: dict[int, int] = {}
        self.wants_almen: dict[int, bool] = {}
        self.municipality: dict[int, int] = {}
        self.dwelling: dict[int, int | None] = {}
        self.members: dict[int, np.ndarray] = {}
        self.new_members: dict[int, dict[str, Any] | None] = {}
        self.area_band: dict[int, int] = {}
        """The area an almen seeker applies in, by its label (`market.area_labels`; 0: no area)."""
        self.second_band: dict[int, int] = {}
        """A second area it applies in (`destination.second_choices`), by its label."""
        self._open: dict[int, None] = {}
        """Open seekers in the order added (a dict: housing one is O(1), not a list scan)."""
        self._by_group: dict[tuple[int, bool], dict[int, None]] = {}
        self._group_of: dict[int, dict[int, None]] = {}
        """Each open seeker's dict of `_by_group` (housing one deletes from it without building its key)."""

    def add(self, sid: int, kind: str, month: int, wants_almen: bool, municipality: int, dwelling: int | None,
            members: np.ndarray, new_members: dict[str, Any] | None) -> None:
        if sid in self.kind:
            return
        self.kind[sid], self.month[sid], self.wants_almen[sid] = kind, month, wants_almen
        self.municipality[sid], self.dwelling[sid] = municipality, dwelling
        self.members[sid], self.new_members[sid] = np.asarray(members, dtype=np.int64), new_members
        self._open[sid] = None
        group = self._group_of[sid] = self._by_group.setdefault((municipality, wants_almen), {})
        group[sid] = None

    def add_many(self, sids: list[int], kind: str | list[str], month: list[int], wants_almen: list[bool],
                 municipality: list[int], dwelling: list[int | None] | None, members: list[np.ndarray],
                 new_members: list[dict[str, Any] | None] | None = None) -> None:
        """`add` of each seeker in order (Python values; `kind` one for all or per seeker, `dwelling`
        and `new_members` None: None for all): the same dictionaries, in the same order, filled a
        column at a time instead of a call per seeker."""
        n = len(sids)
        kinds = dict.fromkeys(sids, kind) if isinstance(kind, str) else dict(zip(sids, kind))
        if len(kinds) < n or not self.kind.keys().isdisjoint(kinds.keys()):   # a repeated id: the first one counts
            for row in zip(sids, [kind] * n if isinstance(kind, str) else kind, month, wants_almen, municipality,
                           [None] * n if dwelling is None else dwelling, members,
                           [None] * n if new_members is None else new_members):
                self.add(*row)
            return
        # the ids (distinct and new) are the keys of `kinds`, merged without hashing again; members
        # that are int64 arrays already (slices of the persons' ids) are kept without a call each
        self.kind.update(kinds)
        self.month.update(zip(sids, month))
        self.wants_almen.update(zip(sids, wants_almen))
        self.municipality.update(zip(sids, municipality))
        self.dwelling.update(dict.fromkeys(kinds) if dwelling is None else zip(sids, dwelling))
        self.members.update(zip(sids, (m if type(m) is np.ndarray and m.dtype == np.int64
                                       else np.asarray(m, dtype=np.int64) for m in members)))
        self.new_members.update(dict.fromkeys(kinds) if new_members is None else zip(sids, new_members))
        self._open.update(dict.fromkeys(kinds))
        self._add_to_groups(sids, municipality, wants_almen)

    def _add_to_groups(self, sids: list[int], municipality: list[int], wants_almen: list[bool]) -> None:
        """New seekers into `_by_group` (groups first met first, each group's seekers in the order
        given) and `_group_of`: the seekers grouped by a stable sort of (municipality, wants almen)
        instead of a Python step per seeker."""
        if not sids:
            return
        muni, wants = np.asarray(municipality, dtype=np.int64), np.asarray(wants_almen, dtype=np.int64)
        order = np.lexsort((wants, muni))                  # stable: each group's seekers in the order given
        new = np.r_[True, (muni[order][1:] != muni[order][:-1]) | (wants[order][1:] != wants[order][:-1])]
        starts = np.flatnonzero(new)
        bounds = np.r_[starts, order.size].tolist()
        group = np.cumsum(new) - 1                        # per sorted seeker: its group
        by_sorted = np.asarray(sids, dtype=np.int64)[order].tolist()
        firsts = order[starts]                            # each group's first seeker, given order
        dicts = np.empty(starts.size, dtype=object)
        for g in np.argsort(firsts, kind="stable").tolist():      # groups first met first
            first = int(firsts[g])
            part = self._by_group.setdefault((municipality[first], wants_almen[first]), {})
            part.update(dict.fromkeys(by_sorted[bounds[g]:bounds[g + 1]]))
            dicts[g] = part
        of_seeker = np.empty(order.size, dtype=np.int64)
        of_seeker[order] = group
        self._group_of.update(zip(sids, dicts[of_seeker].tolist()))

    def active(self, month: int) -> list[int]:
        return [s for s in self._open if self.month[s] <= month]

    def active_in(self, month: int, municipality: int, wants_almen: bool) -> list[int]:
        """Open seekers of one municipality wanting almen (or not) who have decided by `month`, in
        the order they were added."""
        return [s for s in self._by_group.get((municipality, wants_almen), ()) if self.month[s] <= month]

    def housed(self, sid: int) -> None:
        del self._open[sid]
        del self._group_of[sid][sid]

    def __len__(self) -> int:
        return len(self.kind)


__all__ = ["Seekers"]
