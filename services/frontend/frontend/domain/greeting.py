"""A greeting: the example rule of the service. Replace it with the service's own model."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z][A-Za-z0-9 .'-]{0,63}")


class InvalidName(ValueError):
    """The name is not 1-64 letters, digits, spaces or . ' - starting with a letter."""


@dataclass(frozen=True)
class Greeting:
    service: str
    name: str

    @property
    def message(self) -> str:
        return f"hello, {self.name}, from {self.service}"


def greet(service: str, name: str) -> Greeting:
    if not NAME.fullmatch(name):
        raise InvalidName(name)
    return Greeting(service=service, name=name)
