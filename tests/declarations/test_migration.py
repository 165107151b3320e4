"""The data migration must reproduce the source document exactly."""

import re
from pathlib import Path

import pytest

from declarations.models import Declaration, Demand

SOURCE = (
    Path(__file__).resolve().parents[2]
    / "declarations/texts/alliance-des-territoires-2020-05-25.md"
)


def _blocks() -> list[str]:
    """The source cut at blank lines, each block with its lines joined."""
    text = SOURCE.read_text(encoding="utf-8")
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text)]
    return [b for b in blocks if b]


def _strip_bullet(block: str) -> str:
    return block.removeprefix("- ").strip()


def _source_parts() -> dict:
    blocks = _blocks()
    title = blocks[0].removeprefix("# ")
    subtitle = blocks[1]
    lead = blocks[2].strip("*")
    first_lead_in = next(i for i, b in enumerate(blocks) if b.startswith("**L'ANPP"))
    second_lead_in = next(i for i, b in enumerate(blocks) if b.startswith("**Pour atteindre"))
    date_index = next(i for i, b in enumerate(blocks) if b.startswith("Le 25 Mai 2020"))
    second_group_items = blocks[second_lead_in + 1].split("\n")
    return {
        "title": title,
        "subtitle": subtitle,
        "lead": lead,
        "body": blocks[3:first_lead_in],
        "lead_ins": [blocks[first_lead_in].strip("*"), blocks[second_lead_in].strip("*")],
        "demands": [
            [_strip_bullet(b) for b in blocks[first_lead_in + 1 : second_lead_in]],
            [_strip_bullet(line) for line in second_group_items],
        ],
        "founders": [
            [line.strip().rstrip(",") for line in block.split("\n")]
            for block in blocks[date_index + 1 :]
        ],
    }


@pytest.fixture
def migrated_declaration(db) -> Declaration:
    """The declaration of 25 May 2020, as data migration declarations/0002 loads it."""
    return Declaration.objects.get(slug="alliance-des-territoires")


def test_migration_loads_title_subtitle_and_lead_verbatim(migrated_declaration):
    source = _source_parts()
    assert migrated_declaration.title == source["title"]
    assert migrated_declaration.subtitle == source["subtitle"]
    assert migrated_declaration.lead == source["lead"]
    assert migrated_declaration.date.isoformat() == "2020-05-25"


def test_migration_loads_body_paragraphs_verbatim(migrated_declaration):
    assert migrated_declaration.body.split("\n\n") == _source_parts()["body"]


def test_migration_loads_five_demands_under_the_two_lead_ins(migrated_declaration):
    source = _source_parts()
    groups = list(migrated_declaration.demand_groups.all())
    assert [g.lead_in for g in groups] == source["lead_ins"]
    assert [[d.text for d in g.demands.all()] for g in groups] == source["demands"]
    assert Demand.objects.filter(group__declaration=migrated_declaration).count() == 5


def test_migration_gives_each_demand_its_bold_part_as_heading(migrated_declaration):
    for demand in Demand.objects.filter(group__declaration=migrated_declaration):
        assert f"**{demand.heading}**" in demand.text


def test_migration_loads_the_three_founders_with_their_functions(migrated_declaration):
    founders = [
        [f.name, *f.function_lines] for f in migrated_declaration.founders.order_by("position")
    ]
    assert founders == _source_parts()["founders"]
    assert [f.network.short_name for f in migrated_declaration.founders.all()] == [
        "ANPP",
        "France urbaine",
        "R.E.D.",
    ]


def test_migration_sets_the_three_initiating_networks(migrated_declaration):
    assert sorted(n.short_name for n in migrated_declaration.initiators.all()) == [
        "ANPP",
        "France urbaine",
        "R.E.D.",
    ]
    assert Declaration.objects.current() == migrated_declaration
