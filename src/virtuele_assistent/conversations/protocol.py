"""The chat protocol's messages (docs/chat-protocol.md), as typed models.

Client messages are parsed with one discriminated union; server messages are plain dicts built by
the helpers below so that WebSocket, SSE and the staff channel send exactly the same shapes.
``python -m virtuele_assistent.conversations.protocol`` prints the JSON Schema
(docs/chat-protocol.schema.json is generated from it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from virtuele_assistent.validation import AnswerText, UserText, plain_text

ID_PATTERN = r"^[0-9a-f]{32}$"
ERROR_CODES = (
    "invalid_message",
    "too_large",
    "rate_limited",
    "unknown_type",
    "unauthorized",
    "unavailable",
)
# WebSocket close codes
CLOSE_UNAUTHORIZED = 4401
CLOSE_WRONG_TENANT = 4403
CLOSE_ABUSE = 1008


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Message):
    type: Literal["hello"]
    conversation_id: str | None = Field(default=None, pattern=ID_PATTERN)
    language: str | None = Field(default=None, max_length=12)


class Question(_Message):
    type: Literal["question"]
    text: str = Field(min_length=1, max_length=20000)
    client_id: str | None = Field(default=None, max_length=64)


class FeedbackIn(_Message):
    type: Literal["feedback"]
    message_id: str = Field(pattern=ID_PATTERN)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class ScoreIn(_Message):
    type: Literal["score"]
    score: int = Field(ge=0, le=10)
    comment: str | None = Field(default=None, max_length=2000)


class HandoverIn(_Message):
    type: Literal["handover"]


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[
    Hello | Question | FeedbackIn | ScoreIn | HandoverIn | Ping, Field(discriminator="type")
]
CLIENT_TYPES = frozenset({"hello", "question", "feedback", "score", "handover", "ping"})
client_message = TypeAdapter(ClientMessage)


# Staff channel (/api/v1/tenants/{slug}/staff/ws)
class StaffAccept(_Message):
    type: Literal["accept"]
    handover_id: str = Field(pattern=ID_PATTERN)


class StaffSay(_Message):
    type: Literal["message"]
    handover_id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, max_length=4000)


class StaffClose(_Message):
    type: Literal["close"]
    handover_id: str = Field(pattern=ID_PATTERN)


StaffMessage = Annotated[StaffAccept | StaffSay | StaffClose | Ping, Field(discriminator="type")]
STAFF_TYPES = frozenset({"accept", "message", "close", "ping"})
staff_message = TypeAdapter(StaffMessage)


# Server -> client
class SourceOut(BaseModel):
    index: int
    url: str
    title: UserText


class HistoryItem(BaseModel):
    role: Literal["resident", "assistant", "staff", "system"]
    text: AnswerText
    message_id: str
    sources: list[SourceOut] = []


class Ready(BaseModel):
    type: Literal["ready"]
    conversation_id: str
    resumed: bool
    history: list[HistoryItem]
    disclosure: str


class Token(BaseModel):
    type: Literal["token"]
    message_id: str
    text: UserText


class Sources(BaseModel):
    type: Literal["sources"]
    message_id: str
    sources: list[SourceOut]


class Done(BaseModel):
    type: Literal["done"]
    message_id: str
    text: AnswerText
    declined: bool
    language: str  # the resident's language
    handover_offered: bool
    answer_language: str = "nl"  # the language of the answer's own sentences
    note: str | None = None  # the text's first paragraph, in the resident's language, when it says
    # the answer is in Dutch ("I can only answer in Dutch. ...")


class HandoverOut(BaseModel):
    type: Literal["handover"]
    status: Literal["offered", "requested", "waiting", "accepted", "unavailable", "closed"]
    message: str | None = None
    contact: dict[str, Any] | None = None


class StaffMessageOut(BaseModel):
    type: Literal["staff_message"]
    message_id: str
    text: str
    name: str | None = None


class FeedbackOk(BaseModel):
    type: Literal["feedback_ok"]
    message_id: str | None = None


class ErrorOut(BaseModel):
    type: Literal["error"]
    code: Literal[
        "invalid_message", "too_large", "rate_limited", "unknown_type", "unauthorized", "unavailable"
    ]
    message: str
    retry_after: int | None = None


class Pong(BaseModel):
    type: Literal["pong"]


ServerMessage = Annotated[
    Ready | Token | Sources | Done | HandoverOut | StaffMessageOut | FeedbackOk | ErrorOut | Pong,
    Field(discriminator="type"),
]


def error(code: str, message: str, retry_after: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": plain_text(message)}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame


def json_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Virtuele Assistent chat protocol",
        "description": "See docs/chat-protocol.md. One JSON object per WebSocket text frame or SSE event.",
        "$defs": {
            "client": TypeAdapter(ClientMessage).json_schema(),
            "server": TypeAdapter(ServerMessage).json_schema(),
            "staff_client": TypeAdapter(StaffMessage).json_schema(),
        },
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
