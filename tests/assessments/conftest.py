"""Fixtures of the Data API tests: a bank and sessions in the world's district, and a consumer per district."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.assessments import factories as af


@dataclass
class Client:
    consumer: object
    secret: str

    @property
    def key(self) -> str:
        return self.consumer.consumer_key

    def security(self, **extra) -> dict:
        return {"consumer_key": self.key, "domain": "localhost", **extra}


@pytest.fixture
def consumer_a(world) -> Client:
    issued = af.consumer(world.district, name="Warehouse A")
    return Client(issued.consumer, issued.secret)


@pytest.fixture
def consumer_b(world) -> Client:
    issued = af.consumer(world.other_district, name="Warehouse B")
    return Client(issued.consumer, issued.secret)


@pytest.fixture
def activity_a(world):
    return af.bank(world.district, exam_session=af.exam(world.school_a, world.year))


@pytest.fixture
def activity_b(world):
    return af.bank(world.other_district, prefix="b-")
