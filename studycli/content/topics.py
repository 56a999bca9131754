"""The study topics and the coding cards the content must carry (the product's own data)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .card_yaml import yaml_loader


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class RequiredCard:
    id: str
    solution: str
    signature: str
    contract: str


@lru_cache(maxsize=1)
def _data() -> dict:
    text = resources.files("studycli.content").joinpath("topics.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml_loader())


def topics() -> dict[str, Topic]:
    """Every topic, by slug, in the order of the topic list."""
    return {t["slug"]: Topic(t["slug"], t["title"], tuple(t["kinds"])) for t in _data()["topics"]}


def required_coding_cards() -> list[RequiredCard]:
    return [RequiredCard(**row) for row in _data()["required_coding_cards"]]
