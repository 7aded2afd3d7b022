"""docs/scenario.md is the schema's own reference: regenerated, it must equal the committed file."""

from pathlib import Path

from chisan.scenario.reference import markdown_reference
from chisan.scenario.schema import Scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


def test_docs_scenario_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == markdown_reference(), (
        "docs/scenario.md is stale: python -m chisan.scenario.reference > docs/scenario.md"
    )


def test_every_top_level_section_is_documented():
    text = markdown_reference()
    for name in Scenario.model_fields:
        if name != "base_dir":
            assert f"`[{name}" in text or f"`[[{name}" in text or f"[{name}." in text or f"| `{name}` |" in text, name
