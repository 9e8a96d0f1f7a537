"""Path and query parameters that name a row: validated to what the database can hold.

An id outside its column's range is not a server error but a request for something that cannot
exist: the API answers 422 with a Dutch message before any query runs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator

from virtuele_assistent.validation import iso_day

INT4_MAX = 2_147_483_647  # the id columns are INTEGER (PostgreSQL int4)
HEX_ID = r"^[0-9a-f]{32}$"  # conversations, messages, jobs, handover requests (uuid4 hex)

RowId = Annotated[int, Path(ge=1, le=INT4_MAX, description="A numeric id (1 … 2147483647).")]
RowIdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX, description="A numeric id.")]
HexId = Annotated[str, Path(pattern=HEX_ID, description="A 32-character hexadecimal id.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


DayQuery = Annotated[date | None, BeforeValidator(iso_day), Query(description="A day: YYYY-MM-DD.")]
