"""The one error type the app shows to people: a clear sentence and exit code 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user (a value, a file, a command line). Never a traceback.

    `exit_code` is what the CLI exits with; 2 is argparse's convention for usage errors.
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"
