"""Read a scenario TOML file into a validated :class:`~chisan.scenario.schema.Scenario`.

Errors are turned into one :class:`~chisan.exceptions.ScenarioError` whose message names the file, the field
(as a dotted path such as ``stations[1].charger_kw``), the line where it stands when it can be found, the value
given and what is allowed.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from chisan.exceptions import ScenarioError
from chisan.scenario.sanity import unit_slip_hint
from chisan.scenario.schema import Scenario

EXAMPLE_NAME = "example_town.toml"
"""The bundled example scenario (a town of 5 car-sharing bases and 30 shared EVs)."""


EXAMPLES: dict[str, str] = {
    "example_town": "a town of 5 car-sharing bases and 30 shared EVs (the default)",
    "shanghai_district": "a Shanghai district, 30 shared cars at 5 bases, in CNY",
    "hydrogen_town": "12 shared cars, an e-van depot and a fuel-cell bus line with its electrolyser (one month)",
    "autonomous_town": "the example town served by a simulated self-driving shared fleet (fleet.kind = 'autonomous')",
    "second_life_peak_shaving": "two bases behind high-voltage meters, retired car packs shaving the peak (one month)",
}
"""The bundled examples by name (``chisan example NAME``); files ``examples/<name>.toml``, and the CSV files it
reads, ``examples/<name>_*.csv`` (:func:`example_companions`)."""


def example_path(name: str | None = None) -> Path:
    """Path of a bundled example scenario, shipped inside the package (default: :data:`EXAMPLE_NAME`).

    Raises
    ------
    ScenarioError
        When ``name`` is not one of :data:`EXAMPLES`.
    """
    if name is not None and name.removesuffix(".toml") not in EXAMPLES:
        raise ScenarioError(f"example {name!r} is not bundled; the examples are {', '.join(EXAMPLES)}")
    file = EXAMPLE_NAME if name is None else f"{name.removesuffix('.toml')}.toml"
    return Path(str(resources.files("chisan.scenario").joinpath("examples", file)))


def example_companions(name: str | None = None) -> list[Path]:
    """The CSV files a bundled example reads from its own folder (``examples/<name>_*.csv``), sorted by name."""
    folder = example_path(name).parent
    stem = example_path(name).stem
    return sorted(folder.glob(f"{stem}_*.csv"))


def example_file_hint(path: str | Path) -> str:
    """How to get ``path`` when it is a CSV file of a bundled example (else ``""``), to end a file-not-found message.

    A bundled example printed with ``chisan example NAME > file.toml`` leaves its CSV files behind.
    """
    file_name = Path(path).name
    for name in EXAMPLES:
        if any(p.name == file_name for p in example_companions(name)):
            return (
                f"; {file_name} comes with the bundled example {name}: `chisan example {name} --out DIR` writes "
                "the scenario and its CSV files together into DIR"
            )
    return ""


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path : str or Path
        The scenario file. Relative paths inside it refer to its folder.

    Raises
    ------
    ScenarioError
        The file is missing, is not valid TOML, or breaks the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from err
    return scenario_from_dict(data, source=str(path), base_dir=path.parent.resolve(), text=text)


def scenario_from_dict(
    data: dict[str, Any], *, source: str = "<scenario>", base_dir: Path | None = None, text: str | None = None
) -> Scenario:
    """Validate a scenario given as a dictionary (the parsed TOML).

    Parameters
    ----------
    data : dict
        Sections and keys as in the TOML file.
    source : str
        Name used in error messages (the file path).
    base_dir : Path, optional
        Folder that relative paths refer to.
    text : str, optional
        The TOML text, used to point at the line of a bad field.
    """
    payload = dict(data)
    payload["base_dir"] = base_dir or Path(".").resolve()
    try:
        return Scenario.model_validate(payload)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, source=source, text=text)) from None


def format_validation_error(err: ValidationError, *, source: str, text: str | None = None) -> str:
    """Turn a pydantic ValidationError into one readable message (all problems, one line each)."""
    lines = []
    errors = err.errors(include_url=False)
    for e in errors[:8]:
        loc = _dotted(e["loc"])
        where = f" (line {n})" if text and (n := _find_line(text, e["loc"])) else ""
        value = e.get("input")
        kind = e["type"]
        if kind == "extra_forbidden":
            msg = f"unknown field {loc!r}{where}" + _suggest(e["loc"])
        elif kind == "missing":
            msg = f"missing field {loc!r}: {_field_help(e['loc'])}"
        else:
            reason = e["msg"].removeprefix("Value error, ")
            # a check of the whole scenario (no loc) names the fields in its own message; a check of a table
            # names its fields as key=value, of a list names the items in its message
            if not loc:
                msg = reason
            elif isinstance(value, dict):
                msg = f"{loc} ({_pairs(value)}){where}: {reason}"
            elif isinstance(value, list):
                msg = f"{loc}{where}: {reason}"
            else:
                msg = f"{loc} = {_short(value)}{where}: {reason}" + unit_slip_hint(loc, value)
        lines.append(msg)
    more = len(errors) - len(lines)
    head = f"{source}: invalid scenario"
    if len(lines) == 1 and not more:
        return f"{head}: {lines[0]}"
    tail = f"\n  … and {more} more" if more > 0 else ""
    return head + ":\n  " + "\n  ".join(lines) + tail


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _pairs(table: dict) -> str:
    """A table's scalar fields as ``key=value`` (start_hour=22, end_hour=8), at most 80 characters."""
    text = ", ".join(f"{k}={v!r}" for k, v in table.items() if not isinstance(v, dict | list))
    return text if len(text) <= 80 else text[:77] + "..."


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc[-1]``."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            return None
        model = nxt
    return model


def _suggest(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    if model is None:
        return ""
    allowed = [k for k in model.model_fields if k != "base_dir"]
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} Allowed here: {', '.join(allowed)} (units are part of the names, e.g. _kw, _kwh, _km)"


def _field_help(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    if model is None:
        return "required"
    field = model.model_fields.get(str(loc[-1]))
    desc = field.description if field is not None and field.description else ""
    return f"required{'; ' + desc if desc else ''}"


def _find_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of the key ``loc[-1]`` inside its TOML table."""
    key = next((p for p in reversed(loc) if isinstance(p, str)), None)
    if key is None:
        return None
    tables = [p for p in loc[:-1] if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), None)
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
    key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
    current: str | None = None
    seen_arrays: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        m = header_re.match(line)
        if m:
            current = m.group(1)
            if line.strip().startswith("[["):
                seen_arrays[current] = seen_arrays.get(current, -1) + 1
            continue
        if key_re.match(line):
            want = ".".join(tables)
            if (current or "") == want and (index is None or seen_arrays.get(current or "", 0) == index):
                return n
    return None
