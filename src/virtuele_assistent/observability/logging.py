"""structlog JSON logs: one line per event, with tenant and request id bound from context."""

from __future__ import annotations

import logging
import sys

import structlog

from virtuele_assistent.observability.secrets import scrub_secrets
from virtuele_assistent.settings import Settings


def configure_logging(settings: Settings) -> None:
    from virtuele_assistent.conversations.privacy import structlog_processor as redact_personal_data

    level = getattr(logging, settings.log_level)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_personal_data,  # no personal data in any log line, whoever logs it
                scrub_secrets,  # no token and no raw conversation id either
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "websockets"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # the ASGI server's debug lines are WebSocket frame dumps: a resident's text, not diagnostics
    logging.getLogger("uvicorn.error").setLevel(max(level, logging.INFO))
