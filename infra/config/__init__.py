"""Typed, validated stack configuration: one parser per `platform:` section, all problems reported at once."""

from .errors import ConfigError, Problem
from .reader import runtime_config
from .stack import StackConfig, load_stack_config

__all__ = ["ConfigError", "Problem", "StackConfig", "load_stack_config", "runtime_config"]
