"""Numbers for people: the ONE formatter of displayed numbers, Danish and English.

Danish: decimal comma and a full stop between thousands ("1.437", "1.437,5", "-2,5"), per cent
with a space ("33,0 %"). English: "1,437.5", "33.0%". Rounding is half away from zero on the
number as written (2.5 -> "3", 1.005 -> "1,01"), not on its binary approximation, and a value
that rounds to zero has no minus sign. None and NaN are shown as `missing`.

Standard library only: every layer (lists, monitor, plan, report, web, letting) may import it.
Machine-readable files (CSV, Parquet, Excel cells) keep plain numbers; this is for text people read.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from numbers import Integral, Real
from typing import Literal

Lang = Literal["da", "en"]

_SPEC = re.compile(r"^(?P<sign>\+)?(?P<thousands>,)?(?:\.(?P<digits>\d+))?(?P<kind>[fd%])?$")


def _decimal(value: Real) -> Decimal:
    """The number as written: an integer exactly, a float by its shortest decimal representation."""
    if isinstance(value, Integral):
        return Decimal(int(value))
    return Decimal(repr(float(value)))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(value))


def fmt_number(value: Real | None, digits: int | None = 0, lang: Lang = "da", *, thousands: bool = True,
               signed: bool = False, missing: str = "", scale: int = 1) -> str:
    """`value` (times `scale`) with `digits` decimals (None: as many as the number has); `signed`: "+"
    before a number that is not negative.

    >>> fmt_number(1437), fmt_number(1437.25, 1), fmt_number(1437.25, 1, "en"), fmt_number(2.7, None)
    ('1.437', '1.437,3', '1,437.3', '2,7')
    """
    if _missing(value):
        return missing
    assert value is not None
    if isinstance(value, Real) and not isinstance(value, Integral) and math.isinf(value):
        return ("-" if value < 0 else "") + "∞"
    number = _decimal(value) * scale
    if digits is None:
        digits = max(0, -number.normalize().as_tuple().exponent)  # type: ignore[operator]
    number = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # "0,0", never "-0,0"
    text = ("+" if signed and number >= 0 else "") + (f"{number:,.{digits}f}" if thousands else f"{number:.{digits}f}")
    if lang == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_percent(value: Real | None, digits: int = 1, lang: Lang = "da", *, ratio: bool = False,
                signed: bool = False, missing: str = "") -> str:
    """Per cent: `value` in percentage points, or a share 0-1 with `ratio`; Danish "33,0 %", English "33.0%".

    >>> fmt_percent(33), fmt_percent(0.125, 1, "en", ratio=True)
    ('33,0 %', '12.5%')
    """
    if _missing(value):
        return missing
    text = fmt_number(value, digits, lang, signed=signed, scale=100 if ratio else 1)
    return f"{text} %" if lang == "da" else f"{text}%"


def fmt_spec(value: Real | None, spec: str | None, lang: Lang = "da", *, missing: str = "") -> str:
    """A number by a table's format spec (the subset of Python's used in reports: ",.1f", ".3f", ".1%",
    "d", ",d", "+.4f"); without a spec a float has three decimals and thousands separators, an integer none."""
    if _missing(value):
        return missing
    assert value is not None
    if spec is None:
        spec = "d" if isinstance(value, Integral) else ",.3f"
    match = _SPEC.match(spec)
    if match is None:
        raise ValueError(f"unsupported number format {spec!r}")
    kind = match["kind"] or "f"
    digits = int(match["digits"]) if match["digits"] is not None else (0 if kind == "d" else 6)
    if kind == "%":
        return fmt_percent(value, digits, lang, ratio=True, signed=bool(match["sign"]))
    return fmt_number(value, digits, lang, thousands=bool(match["thousands"]), signed=bool(match["sign"]))


__all__ = ["Lang", "fmt_number", "fmt_percent", "fmt_spec"]
