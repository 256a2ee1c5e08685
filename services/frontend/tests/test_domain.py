"""The domain's rules, without any I/O."""

from __future__ import annotations

import pytest

from frontend.domain.greeting import InvalidName, greet


def test_a_greeting_names_the_service():
    assert greet("frontend", "Ada Lovelace").message == "hello, Ada Lovelace, from frontend"


@pytest.mark.parametrize("name", ["", "1abc", "<script>", "a" * 65])
def test_names_are_validated(name):
    with pytest.raises(InvalidName):
        greet("frontend", name)
