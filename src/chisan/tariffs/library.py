"""The bundled tariff library: one dated, cited TOML file per tariff in ``chisan/tariffs/data``."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pydantic import ValidationError

from chisan.exceptions import ScenarioError
from chisan.tariffs.schema import Tariff


def _data():
    return resources.files("chisan.tariffs") / "data"


def tariff_names() -> list[str]:
    """Names of the bundled tariffs (file stems), sorted."""
    return sorted(p.name.removesuffix(".toml") for p in _data().iterdir() if p.name.endswith(".toml"))


@cache
def load_tariff(name: str) -> Tariff:
    """The bundled tariff ``name``.

    Raises
    ------
    ScenarioError
        Unknown name (the message lists the valid ones) or an invalid file.
    """
    names = tariff_names()
    if name not in names:
        raise ScenarioError(f"grid.tariff = {name!r} is not a bundled tariff; choose one of {', '.join(names)}")
    text = (_data() / f"{name}.toml").read_text(encoding="utf-8")
    try:
        tariff = Tariff.model_validate(tomllib.loads(text))
    except ValidationError as err:
        raise ScenarioError(f"bundled tariff {name!r} is invalid: {err.errors()[0]['msg']}") from err
    if tariff.name != name:
        raise ScenarioError(f"bundled tariff file {name}.toml names itself {tariff.name!r}")
    return tariff
