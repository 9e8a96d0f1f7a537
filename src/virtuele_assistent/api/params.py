"""Path and query parameters that name a row: validated to what the database can hold.

An id outside its column's range is not a server error but a request for something that cannot
exist: the API answers 422 with a Dutch message before any query runs.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator

INT4_MAX = 2_147_483_647  # the id columns are INTEGER (PostgreSQL int4)
HEX_ID = r"^[0-9a-f]{32}$"  # conversations, messages, jobs, handover requests (uuid4 hex)

RowId = Annotated[int, Path(ge=1, le=INT4_MAX, description="A numeric id (1 … 2147483647).")]
RowIdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX, description="A numeric id.")]
HexId = Annotated[str, Path(pattern=HEX_ID, description="A 32-character hexadecimal id.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _iso_day(value: Any) -> Any:
    """Only a day written as 2026-12-07 (not a number of seconds, not a time)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("Geef een datum als jjjj-mm-dd, bijvoorbeeld 2026-12-07.")
    return value


DayQuery = Annotated[date | None, BeforeValidator(_iso_day), Query(description="A day: YYYY-MM-DD.")]
