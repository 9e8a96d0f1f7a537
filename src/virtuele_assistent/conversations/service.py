"""Conversation turns: redact, guard, answer (streamed), store; the same steps for every channel.

A turn is three steps so that WebSocket, SSE, plain JSON and the CLI share one implementation:
``prepare`` (sync, database: redact personal data, store the question, run the guardrails),
the answer stream (``AnswerService.stream`` in a worker thread, or ``astream`` when the answer
service offers an async one), and ``complete`` (sync, database: store the answer, count declines).
Only redacted text is stored, logged or handed to the answer service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from virtuele_assistent.answering.service import Answer, AnswerService, SourceRef
from virtuele_assistent.conversations import guardrails, handover, language
from virtuele_assistent.conversations.fanout import LocalBroker, staff_channel
from virtuele_assistent.conversations.privacy import redact
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.db import Database
from virtuele_assistent.storage.models import new_id
from virtuele_assistent.storage.repositories import ConversationRepository
from virtuele_assistent.tenants.schemas import TenantProfile
from virtuele_assistent.validation import plain_text, safe_markdown

log = structlog.get_logger(__name__)

HISTORY_TURNS = 6
COALESCE_S = 0.03
DECLINES_BEFORE_HANDOVER = 2


class ConversationNotFound(LookupError):
    pass


class ConversationClosed(RuntimeError):
    pass


@dataclass
class Turn:
    conversation_id: str
    message_id: str
    answer: Answer
    language: str = "nl"
    handover_offered: bool = False
    disclosure: str | None = None
    guardrail: str | None = None


@dataclass
class Prepared:
    tenant: TenantProfile
    conversation_id: str
    message_id: str
    question: str  # redacted
    language: str
    history: list[tuple[str, str]]
    first: bool
    reply: guardrails.GuardReply | None = None
    to_staff: bool = False
    question_id: str = ""
    redacted: dict[str, int] = field(default_factory=dict)


def disclosure_text(tenant: TenantProfile) -> str:
    """The AI disclosure (EU AI Act art. 50), the tenant's own text where it set one."""
    from virtuele_assistent.widget.config import widget_config

    return widget_config(tenant).disclosure


def forwarded_text(tenant: TenantProfile) -> str:
    return f"Een medewerker van {tenant.name} leest {tenant.addressed('uw', 'je')} bericht en antwoordt hier."


def handover_offer(
    tenant: TenantProfile, live: bool, said: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """The ``handover`` message after a request for a person or two declines in a row: offered when
    someone can take over now, otherwise unavailable. Without a message when the answer before it
    already ``said`` so (the reply to "ik wil een medewerker spreken")."""
    contact = tenant.contact.model_dump(mode="json")
    if live:
        message = f"{tenant.addressed('Wilt u', 'Wil je')} verder met een medewerker van {tenant.name}?"
        return {
            "type": "handover",
            "status": "offered",
            "message": None if said else message,
            "contact": contact,
        }
    return {
        "type": "handover",
        "status": "unavailable",
        "message": None if said else handover.unavailable_text(tenant, now),
        "contact": contact,
    }


def source_dicts(sources: list[SourceRef]) -> list[dict[str, Any]]:
    return [{"index": s.index, "url": s.url, "title": plain_text(s.title)} for s in sources]


class ChatService:
    def __init__(
        self,
        db: Database,
        answers: AnswerService,
        settings: Settings | None = None,
        broker: LocalBroker | None = None,
    ) -> None:
        self.db = db
        self.answers = answers
        self.broker = broker or LocalBroker()
        workers = settings.chat_workers if settings else 16
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chat")

    async def live_handover(self, tenant: TenantProfile) -> bool:
        """Can a person take over now (``handover.live_available``); the live queue is only asked who
        is there when the answer depends on it."""
        asks_queue = (
            tenant.contact.live_chat and not handover.webhook_url(tenant) and handover.is_open(tenant)
        )
        present = bool(asks_queue) and await self.broker.present(staff_channel(tenant.id)) > 0
        return handover.live_available(tenant, present)

    async def live_handover_for(self, tenant: TenantProfile, question: str) -> bool:
        """For a question that asks for a person: whether someone can take over now (else not asked)."""
        return await self.live_handover(tenant) if guardrails.wants_human(question) else False

    # -- conversations -------------------------------------------------------------------------

    def conversation_state(self, tenant: TenantProfile, conversation_id: str) -> dict[str, Any]:
        """What a (re)connecting client needs: whether it exists, and its history."""
        with self.db.session() as session:
            conversation = ConversationRepository(session).get(tenant.id, conversation_id)
            if conversation is None:
                return {"conversation_id": conversation_id, "resumed": False, "history": []}
            history = [
                {
                    "role": m.role,
                    "text": safe_markdown(m.content),
                    "message_id": m.id,
                    "sources": [{**s, "title": plain_text(str(s.get("title", "")))} for s in m.sources or []],
                }
                for m in conversation.messages
                if m.role in ("resident", "assistant", "staff")
            ]
            return {"conversation_id": conversation_id, "resumed": True, "history": history}

    def exists(self, tenant: TenantProfile, conversation_id: str) -> bool:
        with self.db.session() as session:
            return ConversationRepository(session).get(tenant.id, conversation_id) is not None

    def delete(self, tenant: TenantProfile, conversation_id: str) -> bool:
        with self.db.session() as session:
            conversations = ConversationRepository(session)
            conversation = conversations.get(tenant.id, conversation_id)
            if conversation is None:
                return False
            conversations.delete(conversation)
        log.info("conversation.deleted", conversation_id=conversation_id)
        return True

    # -- one turn ------------------------------------------------------------------------------

    def prepare(
        self,
        tenant: TenantProfile,
        question: str,
        conversation_id: str | None = None,
        *,
        channel: str = "api",
        create: bool = False,
        language_hint: str | None = None,
        live_handover: bool = False,
    ) -> Prepared:
        """The question stored and screened. ``live_handover``: whether someone can take over now
        (``ChatService.live_handover``), for the reply to a resident who asks for a person."""
        redaction = redact(plain_text(question))  # stored and shown again: no markup in it
        text = redaction.text
        detected = language.detect(text, hint=language_hint)
        with self.db.session() as session:
            conversations = ConversationRepository(session)
            state = conversations.turn_state(tenant.id, conversation_id) if conversation_id else None
            if conversation_id and state is None and not create:
                raise ConversationNotFound(conversation_id)
            first = state is None
            history: list[tuple[str, str]] = []
            if state is None:
                created = conversations.create(
                    tenant.id, channel=channel, language=detected, conversation_id=conversation_id
                )
                conversation_id, status = created.id, created.status
            else:
                assert conversation_id is not None
                status = state[0]
                history = [
                    (role, content)
                    for role, content in conversations.history(conversation_id, limit=HISTORY_TURNS * 2)
                    if role in ("resident", "assistant")
                ]
            meta = {"redacted": redaction.found} if redaction.found else {}
            question_id = conversations.append_message(
                tenant.id,
                conversation_id,
                "resident",
                text,
                meta={"language": detected, **meta},
                conversation={"language": detected},
            )
        prepared = Prepared(
            tenant=tenant,
            conversation_id=conversation_id,
            message_id=new_id(),
            question=text,
            language=detected,
            history=history,
            first=first,
            to_staff=status == "with_staff",
            redacted=redaction.found,
            question_id=question_id,
        )
        if not prepared.to_staff:
            prepared.reply = guardrails.check(text, tenant, detected)
            if prepared.reply is not None and prepared.reply.category == "handover":
                text_now = handover.request_reply(tenant, live_handover)
                prepared.reply = dataclasses.replace(prepared.reply, text=text_now)
        log.info(
            "chat.question",
            conversation_id=prepared.conversation_id,
            language=detected,
            redacted=sum(redaction.found.values()),
            guardrail=prepared.reply.category if prepared.reply else None,
            chars=len(text),
        )
        return prepared

    def complete(self, prepared: Prepared, answer: Answer) -> Turn:
        """Store the answer; offer a human after a request or two declines in a row."""
        text = guardrails.screen_answer(answer.text)
        answer.text = text
        reply = prepared.reply
        with self.db.session() as session:
            conversations = ConversationRepository(session)
            state = conversations.turn_state(prepared.tenant.id, prepared.conversation_id)
            if state is None:  # deleted while answering
                raise ConversationNotFound(prepared.conversation_id)
            meta = state[1]
            if answer.declined and not (reply and reply.category == "handover"):
                meta["declines_in_a_row"] = int(meta.get("declines_in_a_row", 0)) + 1
            else:
                meta["declines_in_a_row"] = 0
            offered = (
                bool(reply and reply.offer_handover)
                or answer.reason == "personal_case"  # only a person can look at the resident's file
                or meta["declines_in_a_row"] >= DECLINES_BEFORE_HANDOVER
            )
            if offered:
                meta["declines_in_a_row"] = 0
            conversations.append_message(
                prepared.tenant.id,
                prepared.conversation_id,
                "assistant",
                text,
                sources=source_dicts(answer.sources),
                declined=answer.declined,
                meta={
                    "timings_ms": answer.timings_ms,
                    "language": prepared.language,
                    **_how_answered(answer, reply is not None),
                    **({"guardrail": reply.category} if reply else {}),
                    **({"handover_offered": True} if offered else {}),
                },
                message_id=prepared.message_id,
                conversation={"meta": meta},
            )
        log.info(
            "chat.answer",
            conversation_id=prepared.conversation_id,
            declined=answer.declined,
            sources=len(answer.sources),
            handover_offered=offered,
        )
        return Turn(
            prepared.conversation_id,
            prepared.message_id,
            answer,
            prepared.language,
            offered,
            disclosure_text(prepared.tenant) if prepared.first else None,
            reply.category if reply else None,
        )

    def _answer_pieces(self, prepared: Prepared) -> Iterator[str | Answer]:
        if prepared.reply is not None:
            yield prepared.reply.text
            yield Answer(prepared.reply.text, [], prepared.reply.declines)
            return
        try:
            yield from self.answers.stream(
                prepared.tenant, prepared.question, prepared.history, prepared.language
            )
        except Exception as error:  # a failing answer backend degrades the answer only
            log.error("chat.answer_failed", error_type=type(error).__name__, error=str(error)[:200])
            text = guardrails.unavailable_text(prepared.tenant)
            yield text
            yield Answer(text, [], True)

    def ask(
        self,
        tenant: TenantProfile,
        question: str,
        conversation_id: str | None = None,
        channel: str = "api",
        *,
        create: bool = False,
        language_hint: str | None = None,
        live_handover: bool = False,
    ) -> Turn:
        """One whole turn, synchronously (plain JSON API and CLI)."""
        prepared = self.prepare(
            tenant,
            question,
            conversation_id,
            channel=channel,
            create=create,
            language_hint=language_hint,
            live_handover=live_handover,
        )
        final: Answer | None = None
        for piece in self._answer_pieces(prepared):
            if isinstance(piece, Answer):
                final = piece
        assert final is not None
        return self.complete(prepared, final)

    async def turn(
        self,
        tenant: TenantProfile,
        question: str,
        conversation_id: str | None,
        *,
        channel: str,
        create: bool = True,
        language_hint: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """One turn as protocol messages: ``token``..., ``sources``, ``done`` (and ``handover``)."""
        live = await self.live_handover_for(tenant, question)
        prepared: Prepared = await self.run(
            self.prepare,
            tenant,
            question,
            conversation_id,
            channel=channel,
            create=create,
            language_hint=language_hint,
            live_handover=live,
        )
        if prepared.first:
            yield {
                "type": "ready",
                "conversation_id": prepared.conversation_id,
                "resumed": False,
                "history": [],
                "disclosure": disclosure_text(tenant),
            }
        if prepared.to_staff:
            await self.broker.publish(
                staff_channel(tenant.id),
                {
                    "type": "resident_message",
                    "conversation_id": prepared.conversation_id,
                    "message_id": prepared.question_id,
                    "text": prepared.question,
                },
            )
            yield {"type": "handover", "status": "accepted", "message": forwarded_text(tenant)}
            return
        final: Answer | None = None
        async for item in self.stream_answer(prepared):
            if isinstance(item, Answer):
                final = item
            else:
                # a tag could be split over pieces: no piece opens one (``done`` has the whole text)
                piece = "".join(item).replace("<", "‹")
                yield {"type": "token", "message_id": prepared.message_id, "text": piece}
        assert final is not None
        turn: Turn = await self.run(self.complete, prepared, final)
        yield {"type": "sources", "message_id": turn.message_id, "sources": source_dicts(final.sources)}
        note, answer_language = language.answer_languages(tenant, final.text, turn.language)
        yield {
            "type": "done",
            "message_id": turn.message_id,
            "text": safe_markdown(final.text),
            "declined": final.declined,
            "language": turn.language,
            "handover_offered": turn.handover_offered,
            "answer_language": answer_language,
            "note": note,
        }
        if turn.handover_offered:
            asked = turn.guardrail == "handover"  # the answer itself said who can take over
            yield handover_offer(tenant, live if asked else await self.live_handover(tenant), said=asked)

    async def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(*args, **kwargs))

    async def stream_answer(self, prepared: Prepared) -> AsyncIterator[list[str] | Answer]:
        """Batches of answer text as they come (already screened), then the final Answer."""
        screen = guardrails.AnswerScreen()
        mailbox = _Mailbox()
        astream = getattr(self.answers, "astream", None)
        pump: asyncio.Task[None] | None = None
        if prepared.reply is None and astream is not None:
            pump = asyncio.create_task(mailbox.drain(self._answer_apieces(prepared, astream)))
        else:
            self.executor.submit(mailbox.fill, self._answer_pieces(prepared))
        try:
            async for batch in mailbox.batches():
                texts: list[str] = []
                final: Answer | None = None
                for item in batch:
                    if isinstance(item, Answer):
                        final = item
                    else:
                        cleared = screen.feed(item)
                        if cleared:
                            texts.append(cleared)
                if final is not None:
                    rest = screen.flush()
                    if rest:
                        texts.append(rest)
                if texts:
                    yield texts
                if final is not None:
                    yield final
                    return
        finally:
            if pump is not None and not pump.done():
                pump.cancel()

    async def _answer_apieces(
        self, prepared: Prepared, astream: Callable[..., AsyncIterator[str | Answer]]
    ) -> AsyncIterator[str | Answer]:
        """``_answer_pieces`` for an answer service that streams on the event loop."""
        try:
            async for item in astream(
                prepared.tenant, prepared.question, prepared.history, prepared.language
            ):
                yield item
        except Exception as error:  # a failing answer backend degrades the answer only
            log.error("chat.answer_failed", error_type=type(error).__name__, error=str(error)[:200])
            text = guardrails.unavailable_text(prepared.tenant)
            yield text
            yield Answer(text, [], True)


class _Mailbox:
    """Answer pieces from a producer (a worker thread or a task on the loop) to the WebSocket.

    The consumer wakes once per batch, then waits up to ``COALESCE_S`` for more pieces, so a fast
    model gives fewer, larger ``token`` frames; the last piece is never held back.
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.buffer: deque[str | Answer | BaseException] = deque()
        self.lock = threading.Lock()
        self.wake = asyncio.Event()
        self.finished = asyncio.Event()
        self.scheduled = False
        self.done = False

    def _signal(self) -> None:
        self.wake.set()
        if self.done:
            self.finished.set()

    def put(self, item: str | Answer | BaseException | None, last: bool = False) -> None:
        """From any thread; ``None`` only marks the end."""
        with self.lock:
            if item is not None:
                self.buffer.append(item)
            if last:
                self.done = True
            schedule = not self.scheduled or last
            self.scheduled = True
        if not schedule:
            return
        if threading.get_ident() == self.loop_thread:
            self._signal()
        else:
            self.loop.call_soon_threadsafe(self._signal)

    def fill(self, pieces: Iterator[str | Answer]) -> None:
        """Run a blocking generator to its end (in a worker thread)."""
        try:
            for item in pieces:
                self.put(item)
        except BaseException as error:  # handed to the consumer
            self.put(error, last=True)
            return
        self.put(None, last=True)

    async def drain(self, pieces: AsyncIterator[str | Answer]) -> None:
        """Run an async generator to its end (as a task on the loop)."""
        try:
            async for item in pieces:
                self.put(item)
        except asyncio.CancelledError:
            # The consumer must not wait for pieces that will not come.
            self.put(RuntimeError("answer stream cancelled"), last=True)
            raise
        except BaseException as error:
            self.put(error, last=True)
            return
        self.put(None, last=True)

    async def batches(self) -> AsyncIterator[list[str | Answer]]:
        first = True
        while True:
            await self.wake.wait()
            if not first and not self.finished.is_set():
                # Let a few more pieces arrive: fewer, larger frames for the same text.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(COALESCE_S):
                        await self.finished.wait()
            first = False
            with self.lock:
                self.wake.clear()
                items = list(self.buffer)
                self.buffer.clear()
                self.scheduled = False
                finished = self.done
            out: list[str | Answer] = []
            for item in items:
                if isinstance(item, BaseException):
                    raise item
                out.append(item)
            if out:
                yield out
            if finished:
                return


def _how_answered(answer: Answer, by_guardrail: bool) -> dict[str, Any]:
    """What staff see when they review the answer: which backend wrote it, why a configured model was
    not used, its outcome, how many sentences the verification left out, how easy it reads."""
    if by_guardrail:
        return {}
    return {
        "backend": answer.backend,
        "outcome": answer.reason,
        "dropped": len(answer.dropped_sentences),
        **({"fallback": answer.fallback} if answer.fallback else {}),
        **({"readability": round(answer.readability, 1)} if answer.readability is not None else {}),
    }
