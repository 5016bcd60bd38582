"""The shape of one catalog entry: everything the app knows about a `vllm serve` flag.

A `FlagSpec` is declared once (in the group modules beside this one) and everything else is
derived from it: the form field, the argv builder, value parsing, validation ranges, the inline
help in English and Japanese, and the command preview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["bool", "int", "float", "choice", "str", "path", "json", "list"]
Lang = Literal["en", "ja"]
LANGS: tuple[Lang, ...] = ("en", "ja")

GROUPS: tuple[tuple[str, str, str], ...] = (
    # (key, English title, Japanese title) in display order.
    ("memory", "Memory and context", "メモリとコンテキスト"),
    ("parallel", "Parallelism", "並列化"),
    ("lora", "LoRA adapters", "LoRA アダプター"),
    ("serving", "Serving and access", "サービングとアクセス"),
    ("model", "Model and tokenizer", "モデルとトークナイザー"),
    ("debug", "Debugging and performance", "デバッグと性能"),
)


@dataclass(frozen=True)
class Text:
    """A string in both languages the app speaks."""

    en: str
    ja: str

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


def t(en: str, ja: str) -> Text:
    return Text(en, ja)


@dataclass(frozen=True)
class VersionNote:
    """Something that changed for this flag in a vLLM release range.

    `since`/`until` are inclusive/exclusive version strings ("0.11.0"); either may be None.
    `default` (when not `...`) is the vLLM default inside that range.
    `removed` marks a range in which vLLM no longer accepts the flag at all.
    """

    text: Text
    since: str | None = None
    until: str | None = None
    default: Any = ...
    removed: bool = False


@dataclass(frozen=True)
class FlagSpec:
    """One `vllm serve` flag (or an environment switch) as the app understands it."""

    dest: str
    """Config key; vLLM's own argparse dest (underscores)."""
    flag: str | None
    """Long option, e.g. `--max-model-len`; None for an environment-only switch."""
    kind: Kind
    group: str
    summary: Text
    """One line: what it does."""
    details: Text
    """When to change it, what it costs in memory and speed, an example."""
    default: Any = None
    """vLLM's default in the newest release we know (None = unset/derived by vLLM)."""
    choices: tuple[Any, ...] = ()
    open_choices: bool = False
    """Choices are suggestions (vLLM or plugins may accept more)."""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    aliases: tuple[str, ...] = ()
    negatable: bool = False
    """vLLM accepts `--no-<flag>` (argparse BooleanOptionalAction)."""
    secret: bool = False
    env: str | None = None
    """The value travels in this environment variable instead of argv."""
    env_true: str = "True"
    seed: bool = False
    """Part of the user's source guide (the 19 flags + the LoRA hot-swap switch)."""
    memory: Text | None = None
    """What it does to GPU memory, shown beside the VRAM panel."""
    tool_default: Any = ...
    """This tool's default when it differs from vLLM's (e.g. --host 127.0.0.1)."""
    versions: tuple[VersionNote, ...] = field(default_factory=tuple)
    example: str = ""
    unit: str = ""
    # -- facts other modules derive from (declared here, nowhere else) -----------------
    affects_memory: bool = False
    """Changes what vLLM allocates on the GPU: part of a calibration record's key, so a
    measured run is only reused for the same value."""
    blocks_launch: tuple[str, ...] = ()
    """Validation codes that, as errors about this flag, mean vLLM refuses to start (the
    estimate's verdict becomes "fails" and the app will not launch)."""
    world_factor: bool = False
    """Multiplies the number of GPUs one server needs (TP x PP x DP): see `world_size`."""
    human_readable: bool = False
    """An int that vLLM also accepts as '32k' (x1000) or '4G' (x1024^3)."""
    words: tuple[tuple[str, Any], ...] = ()
    """Words vLLM accepts in place of a number, and the value they stand for ('auto' -> -1)."""
    item_check: Callable[[str], None] | None = field(default=None, compare=False)
    """Checks one item of a list value; raises ValueError saying what is wrong."""

    @property
    def effective_default(self) -> Any:
        """The value a fresh config has for this flag in this tool."""
        return self.default if self.tool_default is ... else self.tool_default

    @property
    def is_env_only(self) -> bool:
        return self.flag is None

    @property
    def option_names(self) -> tuple[str, ...]:
        names = () if self.flag is None else (self.flag, *self.aliases)
        if self.negatable and self.flag:
            names += ("--no-" + self.flag[2:],)
        return names

    def default_for(self, version: str | None) -> Any:
        """vLLM's default for this flag in `version` (None = newest known)."""
        from tui.core.versions import in_range

        if version:
            for note in self.versions:
                if note.default is not ... and in_range(version, note.since, note.until):
                    return note.default
        return self.default

    def removed_in(self, version: str | None) -> VersionNote | None:
        """The note saying vLLM `version` (None = newest known) no longer has this flag."""
        from tui.core.versions import in_range

        for note in self.versions:
            if note.removed and in_range(version, note.since, note.until):
                return note
        return None
