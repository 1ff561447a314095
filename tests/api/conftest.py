"""Fixtures of the API tests beyond tests/fixtures/api.py: the access-test world."""

from tests.api.world import world

__all__ = ["world"]
