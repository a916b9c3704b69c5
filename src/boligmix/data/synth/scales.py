"""Generator scales: which municipalities, how many persons per real person, which areas."""

from __future__ import annotations

from dataclasses import dataclass

from boligmix.errors import ConfigurationError


@dataclass(frozen=True)
class Scale:
    """One generator scale.

    `population_factor` multiplies the real population of each municipality (areas keep their
    real size, so an area can reach 1,000 residents at every scale). `area_picks` chooses areas
    from the national design: 'national' keeps all, 'in_municipalities' those located in the
    scale's municipalities, 'one_per_category' a few areas that qualify for each list category.
    """

    name: str
    municipality_codes: tuple[int, ...] | None
    population_factor: float
    area_picks: str
    national_areas: int = 200


SCALES: dict[str, Scale] = {
    "small": Scale("small", (461, 440), 0.14, "one_per_category"),
    "municipality": Scale("municipality", (751, 710, 746, 727, 706), 0.45, "in_municipalities"),
    "national": Scale("national", None, 1.0, "national"),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ConfigurationError(f"unknown scale '{name}'; choose one of {', '.join(SCALES)}",
                                 field="scale") from None
