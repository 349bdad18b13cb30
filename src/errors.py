"""What a user can cause, in words: a bad config value or input file (``ConfigError``), an output
directory that cannot be written (``cannot_write``), a reader of stdout that went away (``| head``)."""

import os
import sys


class ConfigError(Exception):
    """A value the user gave is not allowed.

    The message is one paragraph naming the key, the value and what is allowed;
    the entry points print it without a traceback and exit non-zero.
    """

    def __init__(self, key: str, value, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"Invalid value for '{key}': {value!r}. Allowed: {allowed}.")

    def __reduce__(self):  # sent between processes (shards, Ray, SLURM) whole
        return type(self), (self.key, self.value, self.allowed)


def cannot_write(what: str, where, error: OSError) -> str:
    """One paragraph for an output directory that cannot be made or written (``--out``)."""
    return (
        f"cannot write the {what} to {error.filename or where}: {error.strerror or error}. "
        f"Give a directory you can write to with --out."
    )


def silence_stdout() -> None:
    """The reader of stdout went away (``| head``): what is still printed goes nowhere, quietly."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
