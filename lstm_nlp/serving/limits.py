"""The service's limits and the errors of its API: each a JSON answer naming the limit or the mistake."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """What one request may ask and how long the service waits for the model.

    Attributes:
        max_body_bytes: Largest request body (413 ``body_too_large``).
        max_texts: Most texts (or sentences) in one request (413 ``too_many_texts``).
        max_text_chars: Longest text (or sentence, tokens joined by spaces), in characters (413 ``text_too_long``).
        request_timeout_s: Time budget of one request, from its arrival to its answer (408 ``timeout``).
        max_queue: Requests waiting for the model at most; one more is answered 503 ``queue_full``
            with ``Retry-After``.
        max_top_k: Largest ``top_k`` a request may ask for.
    """

    max_body_bytes: int = 1_048_576
    max_texts: int = 256
    max_text_chars: int = 10_000
    request_timeout_s: float = 10.0
    max_queue: int = 1024
    max_top_k: int = 20

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_texts", "max_text_chars", "max_queue", "max_top_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.request_timeout_s > 0:
            raise ValueError(f"request_timeout_s must be > 0, got {self.request_timeout_s}")


#: The CLI option that sets each limit, named in the error messages.
OPTIONS = {"max_body_bytes": "--max-body-bytes", "max_texts": "--max-texts", "max_text_chars": "--max-text-chars",
           "request_timeout_s": "--request-timeout", "max_queue": "--max-queue", "max_top_k": "--max-top-k"}


@dataclass
class ApiError(Exception):
    """An answer other than 200: ``{"error": {"code", "message", "limit"?}}`` with ``status``.

    Attributes:
        status: The HTTP status (4xx for the client's mistakes and the limits, 503 for a full
            queue or a model still loading).
        code: A short machine-readable name (``invalid_json``, ``too_many_texts``, ...).
        message: One sentence for a person: what is wrong and what is allowed.
        limit: The limit's name (a :class:`Limits` field) when a limit was reached.
        headers: Extra response headers (``Retry-After``).
    """

    status: int
    code: str
    message: str
    limit: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> bytes:
        """The JSON body of the answer."""
        error = {"code": self.code, "message": self.message}
        if self.limit is not None:
            error["limit"] = self.limit
        return json.dumps({"error": error}, ensure_ascii=False).encode("utf-8")


def limit_error(status: int, code: str, limit: str, value: float, message: str) -> ApiError:
    """The error of a request past ``limit``: the message ends with the limit, its value and its option."""
    return ApiError(status, code, f"{message} (limit {limit} = {value:g}, set by {OPTIONS[limit]})", limit=limit)
