"""The domain's rules, without any I/O."""

from __future__ import annotations

import pytest

from backend.domain.greeting import InvalidName, greet


def test_a_greeting_names_the_service():
    assert greet("backend", "Ada Lovelace").message == "hello, Ada Lovelace, from backend"


@pytest.mark.parametrize("name", ["", "1abc", "<script>", "a" * 65])
def test_names_are_validated(name):
    with pytest.raises(InvalidName):
        greet("backend", name)
