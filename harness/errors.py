"""Typed errors and the one place where they become exit codes."""
from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""

    exit_code = EXIT_USAGE


class ConfigError(HarnessError):
    """A suite, option or label map is wrong; the message names the YAML path or option."""


class DataError(HarnessError):
    """An input file or dataset is malformed; the message names the file and line."""


class CheckpointError(HarnessError):
    """A checkpoint cannot be loaded or does not fit the task."""


class GateError(HarnessError):
    """A gate cannot compare a run with its baseline."""


class Interrupted(HarnessError):
    """The user interrupted a run (Ctrl-C); the message says what was kept and how to resume."""

    exit_code = EXIT_INTERRUPTED


def exit_code_for(exc: BaseException) -> int:
    """Map an exception to the process exit code (0 ok, 1 gate failed, 2 usage, 3 internal)."""
    if isinstance(exc, HarnessError):
        return exc.exit_code
    return EXIT_INTERNAL
