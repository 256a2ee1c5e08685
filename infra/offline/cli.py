"""The exit-code contract every offline command keeps: 0 clean, 1 a mandatory policy violation, 2 bad input (an
unreadable or invalid project or stack file, a bad argument, an output path that cannot be written), never a
traceback. An unexpected failure is a bug, not bad input: it exits 3 with one line, and `PLATFORM_TRACEBACK=1` shows
the traceback for whoever fixes it.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn
from pathlib import Path

import pulumi

from . import engine

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT, EXIT_BUG = 0, 1, 2, 3


class BadInput(Exception):
    """Raised (as a mixin) by toolchain errors that are the user's input, not a bug: a policy config file, ..."""


class BadArgument(argparse.ArgumentTypeError):
    """A command-line argument that cannot be honoured (an output path that cannot be written, ...)."""


def writable_file(text: str) -> Path:
    """An output file whose folder exists and can be written: checked before any work is done."""
    path = Path(text)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BadArgument(f"{text}: is a folder, expected a file to write")
    if not folder.is_dir():
        raise BadArgument(f"{text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise BadArgument(f"{text}: the folder {folder} is not writable")
    return path


def writable_folder(text: str) -> Path:
    """An output folder, or one that can be created: its nearest existing ancestor must be a writable folder."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise BadArgument(f"{text}: exists and is not a folder")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise BadArgument(f"{text}: cannot be created under {ancestor}")
    return path


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Call a command's main and turn every failure into its exit code with a one-line message on stderr.

    A command is a batch whose memory is its plans, held to the end, so the cyclic collector is paused while it runs
    (`engine.collector_paused`: most of a second of a preview), not only during its program runs."""
    with engine.collector_paused():
        return _run(main, argv)


def exit_with(main: Callable[[Sequence[str] | None], int]) -> NoReturn:
    """A command as the process: `run` it, flush its output, run the exit handlers, and leave without tearing the heap
    down. Interpreter teardown frees every object one at a time (about a second after a preview, with the SDKs and
    two plans in memory), for memory the operating system takes back at once."""
    code = run(main)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    atexit._run_exitfuncs()  # what the interpreter itself calls at exit, before the teardown skipped here
    os._exit(code)


def _run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None) -> int:
    try:
        return main(argv)
    except (pulumi.RunError, BadArgument, BadInput, OSError) as error:
        # Config and project-file errors (RunError), bad arguments, and files that cannot be read or written.
        message = f"{error.filename}: {error.strerror}" if isinstance(error, OSError) and error.filename else str(error)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 (the contract: never a traceback)
        if os.environ.get("PLATFORM_TRACEBACK"):
            traceback.print_exc()
        print(f"internal error: {type(error).__name__}: {error} (a bug; PLATFORM_TRACEBACK=1 shows where)", file=sys.stderr)
        return EXIT_BUG
