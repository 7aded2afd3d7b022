"""Shared parts of the scenario schema (:mod:`chisan.scenario.schema`): bounded number types and the section base.

``Fraction`` [0–1], ``NonNegative`` (≥ 0) and ``Positive`` (> 0) carry the unit of the field they annotate.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


NonNegative = Annotated[float, Field(ge=0.0)]


Positive = Annotated[float, Field(gt=0.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
