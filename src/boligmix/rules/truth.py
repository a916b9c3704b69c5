"""Three-valued (Kleene) truth: TRUE, FALSE and UNKNOWN for a fact that is missing."""

from __future__ import annotations

from enum import Enum


class Truth(Enum):
    """A Kleene truth value. UNKNOWN means "not decidable from the facts given", never a pass."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    @classmethod
    def of(cls, value: bool | None) -> "Truth":
        """TRUE/FALSE from a bool, UNKNOWN from None."""
        if value is None:
            return cls.UNKNOWN
        return cls.TRUE if value else cls.FALSE

    def to_bool(self) -> bool | None:
        """True/False, or None for UNKNOWN (the value `evaluate_frame` uses for null)."""
        return None if self is Truth.UNKNOWN else self is Truth.TRUE

    def __and__(self, other: "Truth") -> "Truth":
        return Truth(min(self.value, other.value))

    def __or__(self, other: "Truth") -> "Truth":
        return Truth(max(self.value, other.value))

    def __invert__(self) -> "Truth":
        return Truth(2 - self.value)

    def __bool__(self) -> bool:  # a Truth must be compared, never used as a Python bool
        raise TypeError("a Truth is three-valued; compare it with Truth.TRUE instead of using bool()")


__all__ = ["Truth"]
