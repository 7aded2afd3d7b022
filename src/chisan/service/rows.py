"""Looking up and storing a town's rows: the helpers every reading and writing module of the service shares.

An object of another town is "not found" (:class:`~chisan.service.errors.NotFoundError`); a reference to one in a
request body is refused naming the field (:class:`~chisan.service.errors.FieldError`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chisan.service.errors import ConflictError, FieldError, NotFoundError


def one(session: Session, model, municipality_id: int, obj_id: int, *, field: str, what: str, lock: bool = False):
    """The town's ``obj_id`` of ``model`` (locked on PostgreSQL with ``lock``); NotFoundError naming ``field``."""
    stmt = sa.select(model).where(model.id == obj_id, model.municipality_id == municipality_id)
    if lock and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    obj = session.scalars(stmt).first()
    if obj is None:
        raise NotFoundError(f"no {what} {obj_id} in this municipality", field=field)
    return obj


def ref(session: Session, model, municipality_id: int, obj_id: int, *, field: str, what: str, lock: bool = False):
    """An object a request body refers to; a missing one (or another town's) is a FieldError naming the field."""
    try:
        return one(session, model, municipality_id, obj_id, field=field, what=what, lock=lock)
    except NotFoundError as err:
        raise FieldError(f"{field}: {err.message}", field=field) from None


def commit(session: Session, *, unique_field: str = "", message: str = "") -> None:
    """Commit; a broken unique constraint is a ConflictError naming ``unique_field`` (or saying ``message``)."""
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        raise ConflictError(
            message or f"{unique_field}: already used in this municipality", field=unique_field
        ) from err


def apply(obj, data) -> None:
    """Set the fields a request body sets (``exclude_unset``) on ``obj``."""
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(obj, key, value)
