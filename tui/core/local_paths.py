"""Which values of a config name files or folders on this machine (pure: no file access).

vLLM fails late, and with one wording for a bad model and a bad tokenizer, when a local path
does not exist. These are the values the launcher and the Checks panel look up before a
launch: the model and tokenizer when written as paths, the chat template when it is a file
name rather than an inline Jinja template, and the path of each `--lora-modules` entry.
"""

from __future__ import annotations

import json

from tui.core.config import ServeConfig

FLAG_OF = {
    "model": "--model",
    "tokenizer": "--tokenizer",
    "chat_template": "--chat-template",
    "lora_modules": "--lora-modules",
}


def looks_local(value: str) -> bool:
    """A path, not a Hugging Face id ("org/name" is an id; "/x", "./x", "~/x" are paths)."""
    return value.startswith(("/", "./", "../", "~")) or value in (".", "..")


def _lora_path(entry: str) -> str | None:
    entry = entry.strip()
    if entry.startswith("{"):
        try:
            data = json.loads(entry)
        except ValueError:
            return None
        path = data.get("path") if isinstance(data, dict) else None
        return path if isinstance(path, str) else None
    return entry.split("=", 1)[1] if "=" in entry else None


def _passthrough_value(cfg: ServeConfig, flag: str) -> str | None:
    """The value of `flag` among the arguments we pass through verbatim (last one wins)."""
    args = list(cfg.passthrough)
    found = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(flag + "="):
            found = arg.split("=", 1)[1]
    return found


def _template_is_file(template: str) -> bool:
    inline = "{" in template or "\n" in template
    return not inline and (looks_local(template) or template.endswith((".jinja", ".j2", ".json")))


def local_paths(cfg: ServeConfig) -> tuple[tuple[str, str], ...]:
    """(dest, path) for every value of `cfg` that must exist on this machine."""
    out: list[tuple[str, str]] = []
    if looks_local(cfg.model):
        out.append(("model", cfg.model))
    tokenizer = cfg.get("tokenizer")
    if isinstance(tokenizer, str) and looks_local(tokenizer):
        out.append(("tokenizer", tokenizer))
    template = _passthrough_value(cfg, "--chat-template")
    if template is not None and _template_is_file(template):
        out.append(("chat_template", template))
    modules = cfg.get("lora_modules") or ()
    for entry in modules if isinstance(modules, (list, tuple)) else (modules,):
        path = _lora_path(str(entry))
        if path and looks_local(path):
            out.append(("lora_modules", path))
    return tuple(out)
