"""The letting API's path, query and header parameters with their limits (a 32-bit row id, a
64-bit dwelling id, a municipality code, a day, a short text, the Idempotency-Key header)."""

from datetime import date
from typing import Annotated

from fastapi import Header, Path, Query

Id32 = Annotated[int, Path(ge=0, le=2**31 - 1, description="A row id (32-bit).")]
Id64 = Annotated[int, Path(ge=0, le=2**63 - 1, description="A dwelling id (64-bit).")]
QueryId32 = Annotated[int, Query(ge=0, le=2**31 - 1)]
MunicipalityCode = Annotated[int, Query(ge=101, le=999, description="A municipality code (101-999).")]
QueryDay = Annotated[date, Query(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
ShortText = Annotated[str, Query(max_length=64)]

IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key",
                                          description="Retry-safe writes: the same key returns the first "
                                                      "result; the same key with another body is 422.")]
