"""Errors of the service layer, each naming the field at fault; the API turns them into 4xx responses."""

from __future__ import annotations

from chisan.exceptions import ChisanError


class ServiceError(ChisanError):
    """Base class: ``status`` is the HTTP status the API answers with, ``field`` the input at fault."""

    status = 400

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def detail(self) -> list[dict]:
        """FastAPI-style error detail: one item with ``loc``, ``msg`` and ``type``."""
        loc = ["body", *self.field.split(".")] if self.field else ["body"]
        return [{"loc": loc, "msg": self.message, "type": type(self).__name__}]


class NotFoundError(ServiceError):
    """The object does not exist in the caller's municipality (another town's objects are not found either)."""

    status = 404

    def detail(self) -> list[dict]:
        loc = ["path", self.field] if self.field else ["path"]
        return [{"loc": loc, "msg": self.message, "type": "not_found"}]


class FieldError(ServiceError):
    """A field's value is not allowed (e.g. it refers to an object the municipality does not have)."""

    status = 422


class ConflictError(ServiceError):
    """The change conflicts with stored data (a name taken, an object still in use)."""

    status = 409


class BookingRefusedError(ServiceError):
    """A booking cannot be made as asked; ``refusal`` says why and what is possible instead."""

    status = 409

    def __init__(self, refusal) -> None:
        super().__init__(refusal.message, field=refusal.field)
        self.refusal = refusal


class UnavailableError(ServiceError):
    """The service cannot answer now (the database is unreachable, or the request's time budget ran out);
    nothing was changed, and the request may be repeated after ``retry_after_s`` seconds."""

    status = 503

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def detail(self) -> list[dict]:
        return [{"loc": [], "msg": self.message, "type": "unavailable"}]


class HeaderError(FieldError):
    """A request header's value is not allowed (``field`` is the header's name)."""

    def detail(self) -> list[dict]:
        return [{"loc": ["header", self.field], "msg": self.message, "type": "FieldError"}]
