"""The scenario reference (docs/scenario.md), generated from the pydantic schema so that it cannot drift."""

from __future__ import annotations

import types
import typing

from pydantic import BaseModel

from chisan.scenario.schema import Scenario


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)) + " (optional)"
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (list, dict):
        return f"{origin.__name__} of " + ", ".join(_type_name(a) for a in typing.get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def _model_of(annotation) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _bounds(field) -> str:
    """Allowed range from the field's constraints (annotated-types Ge/Gt/Le/Lt), e.g. ' (≥ 0, ≤ 1)'."""
    marks = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    parts = []
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        metadata += list(getattr(arg, "__metadata__", ()))
        for inner in typing.get_args(arg):
            metadata += list(getattr(inner, "__metadata__", ()))
    for item in metadata:
        for attr, sign in marks.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return f" ({', '.join(dict.fromkeys(parts))})" if parts else ""


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!r}`"


SHARED_SECTIONS = {"Tariff": "grid.tariff"}
"""Models given in several places, documented once at this path: elsewhere a row points to it (a station's or a
site's ``tariff`` is written as ``[grid.tariff]``)."""


def markdown_reference() -> str:
    """Every section and field of a scenario file with its type, default and description (units included)."""
    lines = [
        "# Scenario file reference",
        "",
        "Generated from `chisan.scenario.schema` (`python -m chisan.scenario.reference > docs/scenario.md`).",
        "Every quantity carries its unit in its name; money is in `finance.currency`. Unknown keys are rejected.",
        "",
    ]

    def section(model: type[BaseModel], path: str) -> None:
        rows = []
        children = []
        for name, field in model.model_fields.items():
            if name == "base_dir":
                continue
            sub = _model_of(field.annotation)
            home = SHARED_SECTIONS.get(sub.__name__) if sub is not None else None
            here = f"{path}.{name}" if path else name
            if home is not None and here != home:  # documented once, at its home
                desc = (field.description or "").replace("|", "\\|")
                kind = _type_name(field.annotation).replace(sub.__name__, f"[{home}] table")
                rows.append(f"| `{name}` | {kind} | {_default(field)} | {desc.strip()} |")
                continue
            if sub is not None:
                children.append((sub, f"{path}.{name}" if path else name, typing.get_origin(field.annotation)))
                continue
            desc = (field.description or "").replace("|", "\\|")
            rows.append(f"| `{name}` | {_type_name(field.annotation)}{_bounds(field)} | {_default(field)} | {desc} |")
        if rows:
            title = path or "(top level)"
            doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
            lines.extend(
                [f"## `[{title}]`", "", doc, "", "| field | type | default | meaning |", "|---|---|---|---|", *rows, ""]
            )
        for sub, sub_path, origin in children:
            section(sub, f"[{sub_path}]" if origin is list else sub_path)

    section(Scenario, "")
    return "\n".join(lines).replace("## `[[", "## `[[").rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_reference(), end="")
