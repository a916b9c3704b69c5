"""`rounds._one_entry_per_household`: the first entry of each household in list order, with its
shortcut for lists where no household appears twice, against the plain loop (the definition)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.letting.store.rounds import _one_entry_per_household


def _definition(entries, persons, households):  # type: ignore[no-untyped-def]
    out = []
    for e in entries:
        if e.applicant_id in persons or (e.household_id is not None and e.household_id in households):
            continue
        persons.add(e.applicant_id)
        if e.household_id is not None:
            households.add(e.household_id)
        out.append(e)
    return out


_entry = st.builds(lambda k, a, h: SimpleNamespace(entry_id=k, applicant_id=a, household_id=h),
                   st.integers(1, 10**6), st.integers(1, 40), st.none() | st.integers(1, 40))


@settings(max_examples=200, deadline=None)
@given(st.lists(_entry, max_size=25), st.sets(st.integers(1, 40), max_size=3), st.sets(st.integers(1, 40), max_size=3))
def test_the_first_entry_of_each_household(entries, persons, households) -> None:  # type: ignore[no-untyped-def]
    p1, h1, p2, h2 = set(persons), set(households), set(persons), set(households)
    assert _one_entry_per_household(entries, p1, h1) == _definition(entries, p2, h2)
    assert (p1, h1) == (p2, h2)  # the seen sets, for the round's next page


def test_a_list_without_repeats_is_kept_as_it_is() -> None:
    entries = [SimpleNamespace(entry_id=i, applicant_id=i, household_id=None if i % 2 else 100 + i) for i in range(9)]
    persons: set[int] = set()
    households: set[int] = set()
    assert _one_entry_per_household(entries, persons, households) == entries
    assert persons == set(range(9)) and households == {100 + i for i in range(0, 9, 2)}
