"""Messages widgets post upward (attributes go down, messages go up)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class FlagChanged(Message):
    """A catalog flag's value changed in the form (None = back to default)."""

    def __init__(self, dest: str, value: Any) -> None:
        super().__init__()
        self.dest = dest
        self.value = value


class ExtraFlagChanged(Message):
    """A flag of the installed vLLM that the catalog does not model (kept as passthrough)."""

    def __init__(self, flag: str, value: str | bool | None) -> None:
        super().__init__()
        self.flag = flag
        self.value = value


class FlagFocused(Message):
    def __init__(self, dest: str | None, flag: str | None = None) -> None:
        super().__init__()
        self.dest = dest
        self.flag = flag


class ModelSubmitted(Message):
    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref


class GpusChosen(Message):
    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__()
        self.keys = keys


class PlanningGpuChanged(Message):
    def __init__(self, name: str, count: int) -> None:
        super().__init__()
        self.name = name
        self.count = count


class ApplyFix(Message):
    """Apply a finding's or a diagnosis's fix ({dest: value}; env under 'env')."""

    def __init__(
        self, changes: dict[str, Any], env: dict[str, str] | None = None, relaunch: bool = False
    ) -> None:
        super().__init__()
        self.changes = changes
        self.env = env or {}
        self.relaunch = relaunch
