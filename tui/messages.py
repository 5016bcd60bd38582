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


class GpuRowsShown(Message):
    """The GPU panel's height once the probe's result is on screen (remembered for the next
    start's first frame)."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows


class PlanningGpuChanged(Message):
    def __init__(self, name: str, count: int, nodes: int = 1) -> None:
        super().__init__()
        self.name = name
        self.count = count
        """GPUs per node (0 = as many as the config needs)."""
        self.nodes = nodes


class ApplyFix(Message):
    """Apply a finding's or a diagnosis's fix ({dest: value}; env under 'env')."""

    def __init__(
        self, changes: dict[str, Any], env: dict[str, str] | None = None, relaunch: bool = False
    ) -> None:
        super().__init__()
        self.changes = changes
        self.env = env or {}
        self.relaunch = relaunch


# -- the run (posted by tui.session.RunSession; safe from any thread) -----------------------


class RunMessage(Message):
    """Something about the run of generation `gen` (stale generations are ignored)."""

    def __init__(self, gen: int) -> None:
        super().__init__()
        self.gen = gen


class RunStarting(RunMessage):
    """A launch (or relaunch) began: views reset to a fresh run at once."""

    def __init__(self, gen: int, estimate: Any, model: str) -> None:
        super().__init__(gen)
        self.estimate = estimate
        self.model = model


class RunStarted(RunMessage):
    """The server process exists (or a run was attached): follow it."""

    def __init__(self, gen: int, run: Any, attached: bool = False) -> None:
        super().__init__(gen)
        self.run = run
        self.attached = attached


class RunUpdated(RunMessage):
    """New log lines, events, metrics or state of the run."""

    def __init__(self, gen: int, update: Any, total_lines: int = 0, total_samples: int = 0) -> None:
        super().__init__(gen)
        self.update = update
        self.total_lines = total_lines
        """Lines of the run up to and including this update."""
        self.total_samples = total_samples


class RunNotice(RunMessage):
    """A message for the person (preflight warnings, stop results): a `Text` or a string."""

    def __init__(self, gen: int, text: Any, severity: str = "information") -> None:
        super().__init__(gen)
        self.text = text
        self.severity = severity


class RunLaunchRefused(RunMessage):
    """The launch did not happen (preflight error, port taken); `fix` is a suggested change."""

    def __init__(self, gen: int, text: str, fix: Any = None) -> None:
        super().__init__(gen)
        self.text = text
        self.fix = fix


class GpuMemory(Message):
    """Live GPU memory text for the monitor (from the NVML thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


# -- start-up facts (posted by the app's thread workers) ------------------------------------


class GpusProbed(Message):
    def __init__(self, snapshot: Any, cached_models: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.cached_models = cached_models


class VllmFound(Message):
    """The vLLM to launch (None = planning only); `error` says why none was found."""

    def __init__(self, install: Any, error: str | None = None) -> None:
        super().__init__()
        self.install = install
        self.error = error


class OptionsFound(Message):
    """Every option the installed vLLM's `serve` accepts."""

    def __init__(self, names: frozenset[str], options: tuple[dict[str, Any], ...]) -> None:
        super().__init__()
        self.names = names
        self.options = options


class ModelResolved(Message):
    def __init__(self, ref: str, facts: Any, error: str | None) -> None:
        super().__init__()
        self.ref = ref
        self.facts = facts
        self.error = error
