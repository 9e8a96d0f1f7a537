"""Repositories against real SQLite and real PostgreSQL (same tests, both backends)."""

from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Chunk, Document, Feedback, Source, Tenant, utcnow
from virtuele_assistent.storage.repositories import (
    AuditLog,
    ConversationRepository,
    DocumentRepository,
    FeedbackRepository,
    SourceRepository,
    UnitVectorRepository,
)
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import TenantExists, create_tenant, get_profile, list_tenants


def _tenant(services: Services, slug: str = "meppel") -> int:
    create_tenant(services.db, TenantCreate(slug=slug, name=f"Gemeente {slug.title()}"))
    return get_profile(services.db, slug).id


def test_tenants_are_unique_and_listed(services: Services) -> None:
    _tenant(services, "meppel")
    _tenant(services, "assen")
    with pytest.raises(TenantExists):
        create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"))
    assert [t.slug for t in list_tenants(services.db)] == ["assen", "meppel"]
    with services.db.session() as session:
        actions = [e.action for e in AuditLog(session).list(get_profile(services.db, "meppel").id)]
    assert actions == ["tenant.create"]


def test_document_chunks_are_replaced_and_removed(services: Services) -> None:
    tenant_id = _tenant(services)
    with services.db.session() as session:
        source = SourceRepository(session).add(Source(tenant_id=tenant_id, name="website", config={"x": 1}))
        docs = DocumentRepository(session)
        doc = docs.add(Document(tenant_id=tenant_id, source_id=source.id, url="https://meppel.nl/paspoort"))
        docs.replace_chunks(doc, [Chunk(position=0, text="Een paspoort kost € 84,50.", content_hash="a")])
        old = docs.replace_chunks(
            doc,
            [
                Chunk(position=0, text="Een paspoort kost € 85,00.", content_hash="b"),
                Chunk(position=1, text="Neem een pasfoto mee.", content_hash="c"),
            ],
        )
        assert len(old) == 1
        assert [c.text for c in docs.chunks_by_ids(tenant_id, docs.chunk_ids(doc.id)).values()] != []
    with services.db.session() as session:
        docs = DocumentRepository(session)
        doc = docs.get_by_url(tenant_id, "https://meppel.nl/paspoort")
        assert doc is not None and [c.position for c in doc.chunks] == [0, 1]
        removed = docs.mark_removed(doc)
        assert len(removed) == 2
    with services.db.session() as session:
        assert DocumentRepository(session).count_active(tenant_id) == 0


def test_unit_vectors_go_with_their_chunk_and_their_tenant(services: Services) -> None:
    tenant_id = _tenant(services)
    vector = bytes(16)
    with services.db.session() as session:
        docs = DocumentRepository(session)
        doc = docs.add(Document(tenant_id=tenant_id, url="https://meppel.nl/paspoort"))
        docs.replace_chunks(doc, [Chunk(position=0, text="Een paspoort kost € 84,50.", content_hash="a")])
        (old,) = docs.chunk_ids(doc.id)
        UnitVectorRepository(session).add_new({"paspoort-oud": (vector, old)})
    with services.db.session() as session:
        docs = DocumentRepository(session)
        doc = docs.get_by_url(tenant_id, "https://meppel.nl/paspoort")
        assert doc is not None
        docs.replace_chunks(doc, [Chunk(position=0, text="Een paspoort kost € 85,00.", content_hash="b")])
        (new,) = docs.chunk_ids(doc.id)
        UnitVectorRepository(session).add_new({"paspoort-nieuw": (vector, new)})
    with services.db.session() as session:
        kept = UnitVectorRepository(session).get(["paspoort-oud", "paspoort-nieuw"])
        assert set(kept) == {"paspoort-nieuw"}
        session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    with services.db.session() as session:
        assert UnitVectorRepository(session).get(["paspoort-nieuw"]) == {}


def test_same_url_twice_for_one_tenant_is_refused(services: Services) -> None:
    tenant_id = _tenant(services)
    with pytest.raises(IntegrityError), services.db.session() as session:
        docs = DocumentRepository(session)
        docs.add(Document(tenant_id=tenant_id, url="https://meppel.nl/a"))
        docs.add(Document(tenant_id=tenant_id, url="https://meppel.nl/a"))


def test_conversation_messages_feedback_and_purge(services: Services) -> None:
    tenant_id = _tenant(services)
    with services.db.session() as session:
        conversations = ConversationRepository(session)
        conversation = conversations.create(tenant_id)
        conversations.add_message(conversation, "resident", "Wat kost een paspoort?")
        answer = conversations.add_message(conversation, "assistant", "€ 84,50", sources=[{"url": "u"}])
        FeedbackRepository(session).add(
            Feedback(tenant_id=tenant_id, conversation_id=conversation.id, message_id=answer.id, rating="up")
        )
        conversation_id = conversation.id
    with services.db.session() as session:
        conversations = ConversationRepository(session)
        assert [m.role for m in conversations.recent_messages(conversation_id)] == ["resident", "assistant"]
        assert conversations.get(tenant_id + 1, conversation_id) is None  # other tenant: invisible
        assert conversations.purge_older_than(tenant_id, utcnow() + timedelta(seconds=1)) == 1
    with services.db.session() as session:
        assert ConversationRepository(session).get(tenant_id, conversation_id) is None


def test_default_roles_exist(services: Services) -> None:
    from sqlalchemy import select

    from virtuele_assistent.storage.models import Role

    with services.db.session() as session:
        names = set(session.scalars(select(Role.name)))
    assert {"beheerder", "redacteur", "kcc", "privacy", "platform"} <= names


def test_migrations_build_exactly_the_models(services: Services) -> None:
    """A model change without its migration would only show up on a customer's upgrade."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from virtuele_assistent.storage.models import Base

    with services.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_many_threads_write_turns_at_once_and_a_failed_write_frees_the_next(services: Services) -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    tenant_id = _tenant(services)
    with services.db.session() as session:
        conversation_id = ConversationRepository(session).create(tenant_id).id

    def turn(i: int) -> None:
        with services.db.session() as session:
            conversations = ConversationRepository(session)
            conversation = conversations.get(tenant_id, conversation_id)
            assert conversation is not None
            conversations.history(conversation_id, limit=4)
            conversations.add_message(conversation, "resident", f"Vraag {i}")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(turn, range(200)))
    with pytest.raises(RuntimeError), services.db.session() as session:
        conversations = ConversationRepository(session)
        conversation = conversations.get(tenant_id, conversation_id)
        assert conversation is not None
        conversations.add_message(conversation, "resident", "Teruggedraaid")
        raise RuntimeError("rolled back after a write")
    started = time.monotonic()
    turn(200)
    assert time.monotonic() - started < 5  # the rolled-back writer did not keep the next one waiting
    with services.db.session() as session:
        texts = [text for _, text in ConversationRepository(session).history(conversation_id, limit=500)]
    assert sorted(texts) == sorted(f"Vraag {i}" for i in range(201))
