"""The bundled tariff library: one dated, cited TOML file per tariff in ``chisan/tariffs/data``."""

from __future__ import annotations

import difflib
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


def unknown_tariff_reason(name: str) -> str:
    """Why ``name`` is refused, for a message that already names the field and value: the closest bundled names
    and where to find them all."""
    close = closest_tariff_names(name)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ";"
    return (
        f"not a bundled tariff{hint} All {len(tariff_names())} names: chisan.tariffs.tariff_names(), or the TOML "
        f"files in {_data()}"
    )


def closest_tariff_names(name: str, n: int = 3) -> list[str]:
    """Up to ``n`` bundled tariff names most like ``name``: those it begins, then by difflib's ratio."""
    names = tariff_names()
    given = str(name).strip().casefold()
    ratio = {t: difflib.SequenceMatcher(None, given, t).ratio() for t in names}
    begun = sorted((t for t in names if given and t.startswith(given)), key=lambda t: -ratio[t])
    close = difflib.get_close_matches(given, names, n=n, cutoff=0.6)
    return list(dict.fromkeys([*begun, *close]))[:n]


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
        raise ScenarioError(f"tariff {name!r}: {unknown_tariff_reason(name)}")
    text = (_data() / f"{name}.toml").read_text(encoding="utf-8")
    try:
        tariff = Tariff.model_validate(tomllib.loads(text))
    except ValidationError as err:
        raise ScenarioError(f"bundled tariff {name!r} is invalid: {err.errors()[0]['msg']}") from err
    if tariff.name != name:
        raise ScenarioError(f"bundled tariff file {name}.toml names itself {tariff.name!r}")
    return tariff
