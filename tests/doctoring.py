"""Running the doctor's core in a test: a Context with a given Codex and key store, and a
DoctorRequest (codexprov.doctor.run_doctor takes exactly those two)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from codexprov.context import Context
from codexprov.doctor import DoctorRequest, Report, run_doctor
from codexprov.paths import Paths


class TestContext(Context):
    """A Context whose Codex info is given and whose key store comes from `open_store` (called only
    when a check needs the keyring, as the real one is opened)."""

    __test__ = False  # not a test class for pytest

    def __init__(
        self, paths: Paths, env: Mapping[str, str], codex_info: Any, open_store: Callable[[], Any] | None
    ) -> None:
        super().__init__(paths, env=env)
        self._codex = codex_info
        self._open_store = open_store

    def store(self) -> Any:
        if self._open_store is None:
            return super().store()
        return self._open_store()


def doctor_context(
    paths: Paths,
    *,
    codex_info: Any,
    env: Mapping[str, str] | None = None,
    store: Any = None,
    open_store: Callable[[], Any] | None = None,
) -> Context:
    if store is not None:
        open_store = lambda: store  # noqa: E731 - the store the test made
    return TestContext(paths, dict(os.environ) if env is None else env, codex_info, open_store)


def doctor(
    paths: Paths,
    *,
    codex_info: Any,
    env: Mapping[str, str] | None = None,
    store: Any = None,
    open_store: Callable[[], Any] | None = None,
    transport: Any = None,
    **request: Any,
) -> Report:
    """run_doctor over doctor_context(...) with DoctorRequest(**request)."""
    ctx = doctor_context(paths, codex_info=codex_info, env=env, store=store, open_store=open_store)
    return run_doctor(ctx, DoctorRequest(**request), transport=transport)
