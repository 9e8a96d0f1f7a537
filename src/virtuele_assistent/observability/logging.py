"""structlog logs: one line per event (JSON, or readable on a terminal), with tenant and request id
bound from context."""

from __future__ import annotations

import logging
import sys

import structlog

from virtuele_assistent.observability.secrets import scrub_secrets
from virtuele_assistent.settings import Settings


def configure_logging(settings: Settings, command: bool = False) -> None:
    """Logs to stderr: readable lines on a terminal (colours too), JSON lines otherwise, or as
    ``VA_LOG_JSON`` says; with ``VA_LOG_FILE`` also JSON lines into that file. A ``command`` (any
    `va` command but the server, the worker and the demo) logs warnings and errors only unless
    ``VA_LOG_LEVEL`` is set: its own output is what the person at the terminal reads."""
    from virtuele_assistent.conversations.privacy import structlog_processor as redact_personal_data

    quiet = command and "log_level" not in settings.model_fields_set
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    terminal = sys.stderr.isatty()
    as_json = settings.log_json if settings.log_json is not None else not terminal
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

    def formatter(renderer: structlog.types.Processor) -> logging.Formatter:
        return structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_personal_data,  # no personal data in any log line, whoever logs it
                scrub_secrets,  # no token and no raw conversation id either
                renderer,
            ],
        )

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        formatter(
            structlog.processors.JSONRenderer()
            if as_json
            else structlog.dev.ConsoleRenderer(
                colors=terminal, exception_formatter=structlog.dev.plain_traceback
            )
        )
    )
    handlers: list[logging.Handler] = [handler]
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(settings.log_file, encoding="utf-8")
        to_file.setFormatter(formatter(structlog.processors.JSONRenderer()))
        handlers.append(to_file)
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, logging.FileHandler):
            old.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "websockets"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # the ASGI server's debug lines are WebSocket frame dumps: a resident's text, not diagnostics
    logging.getLogger("uvicorn.error").setLevel(max(level, logging.INFO))
