"""The one exception tree. The CLI turns each into an `error:` line, a hint and an exit code.

Exit codes (documented in README.md):
  0  success
  1  a check failed (doctor) or a general failure
  2  usage error (bad option or argument)
  3  the config file is invalid (syntax error, duplicate key, wrong type)
  4  not found (provider, recipe, profile, key)
  5  refused: conflict with what exists (id taken, reserved id, active provider)
  6  no usable keyring / keyring locked or failing
  7  could not take the lock on the config (another codexprov is writing)
  8  a file could not be read or written (permissions, I/O)
  9  cancelled (confirmation declined or no TTY to confirm)
"""

from __future__ import annotations


class CodexprovError(Exception):
    """Base of every error codexprov reports to the user (never a bug)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Extra lines shown under the error (e.g. the offending config line). Never a secret.
        self.detail = detail

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UsageError(CodexprovError):
    exit_code = 2


class ConfigError(CodexprovError):
    """The config file cannot be used as it is (syntax, duplicate, wrong type)."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ):
        self.path = path
        self.line = line
        self.column = column
        where = path or ""
        if path and line is not None:
            where = f"{path}:{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}" if where else message, hint=hint, detail=detail)
        self.reason = message


class NotFoundError(CodexprovError):
    exit_code = 4


class ConflictError(CodexprovError):
    exit_code = 5


class KeyringUnavailableError(CodexprovError):
    exit_code = 6


class LockError(CodexprovError):
    exit_code = 7


class FileAccessError(CodexprovError):
    exit_code = 8


class CancelledError(CodexprovError):
    exit_code = 9
