"""The flag form's logic as plain functions outside the widget: which rows the form lists
for a search (the catalog's flags, grouped, then the installed vLLM's other options), what
each row shows for a config, how typed text is parsed and checked, whether a config change
only echoes the form's own edits, and the passthrough token list of uncurated flags.

`tui.widgets.flag_form` draws these and re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tui.core.catalog import BY_DEST, GROUPS, FlagSpec, ordered, t
from tui.core.config import ServeConfig
from tui.core.errors import UserError
from tui.core.values import coerce
from tui.widgets.flag_field import placeholder, shown_text
from tui.widgets.flag_list import Row, Shown

MAX_EXTRA = 30


def option_flag(option: Mapping[str, Any]) -> str:
    """The option's flag as the form shows it: its first `--name` that is not a `--no-`."""
    names = option["names"]
    return str(
        next((n for n in names if n.startswith("--") and not n.startswith("--no-")), names[0])
    )


def option_is_switch(option: Mapping[str, Any]) -> bool:
    """The installed option takes no value (a store-true or a boolean switch)."""
    return option.get("nargs") == "0" or option.get("action") in (
        "_StoreTrueAction",
        "BooleanOptionalAction",
    )


def allowed_choices(
    spec: FlagSpec, installed: Mapping[str, Sequence[str]] | None
) -> tuple[str, ...] | None:
    """The values the field accepts: the installed vLLM's own list when it has one, else the
    catalog's when it is closed; None = anything of the right type."""
    if spec.kind != "choice":
        return None
    if installed and spec.flag and spec.flag in installed:
        return tuple(map(str, installed[spec.flag]))
    if spec.choices and not spec.open_choices:
        return tuple(map(str, spec.choices))
    return None


def build_rows(
    needle: str, lang: str, extra_options: Sequence[Mapping[str, Any]], vllm_label: str
) -> tuple[Row, ...]:
    """The rows for search text `needle` (lower case; empty = everything, with group titles)."""
    titles = {k: (en if lang == "en" else ja) for k, en, ja in GROUPS}
    guide = t("Your guide's flags", "ガイドのフラグ").get(lang)
    rows: list[Row] = []
    current = None
    specs = ordered()
    if needle:
        # Flags whose name matches first, then those whose help mentions the words.
        specs = sorted(
            (s for s in specs if needle in haystack(s)),
            key=lambda s: needle not in f"{s.flag or s.env} {s.dest}".lower(),
        )
    for spec in specs:
        heading = guide if spec.seed else titles.get(spec.group, spec.group)
        if heading != current and not needle:
            current = heading
            rows.append(Row("title", heading))
        rows.append(Row("flag", spec.dest, spec=spec))
    rows += extra_rows(needle, lang, extra_options, vllm_label)
    return tuple(rows)


def extra_rows(
    needle: str, lang: str, extra_options: Sequence[Mapping[str, Any]], vllm_label: str
) -> list[Row]:
    """The installed vLLM's uncurated options matching `needle`, or a note saying how to."""
    if not extra_options:
        return [
            Row(
                "note",
                t(
                    "Other flags of your vLLM appear here when one is installed (type to search them).",
                    "インストールされた vLLM のほかのフラグは、ここで検索できます（vLLM があるとき）。",
                ).get(lang),
            )
        ]
    if len(needle) < 2:
        return [
            Row(
                "note",
                t(
                    f"{len(extra_options)} more flags of {vllm_label}: type in the search box to find them.",
                    f"{vllm_label} のほかのフラグ {len(extra_options)} 個: 検索ボックスに入力すると見つかります。",
                ).get(lang),
            )
        ]
    curated = {s.flag for s in BY_DEST.values()}
    hits = [
        o
        for o in extra_options
        if not curated.intersection(o["names"])
        and (needle in " ".join(o["names"]).lower() or needle in str(o.get("help", "")).lower())
    ]
    return [Row("extra", option_flag(o), option=o) for o in hits[:MAX_EXTRA]]


def shown_for(
    row: Row,
    cfg: ServeConfig,
    lang: str,
    drafts: Mapping[str, tuple[str, str]],
    field_errors: Sequence[tuple[str, str]],
) -> Shown:
    """What an editable row shows: the draft being typed, else the config's value."""
    errors = dict(field_errors)
    if row.spec is not None:
        spec = row.spec
        draft = drafts.get(spec.dest)
        if draft is not None:
            return Shown(draft[0], placeholder(spec, lang), draft[1], True, cfg.is_set(spec.dest))
        error = errors.get(spec.dest)
        return Shown(
            shown_text(spec, cfg.get(spec.dest)),
            placeholder(spec, lang),
            error or spec.summary.get(lang),
            error is not None,
            cfg.is_set(spec.dest),
        )
    assert row.option is not None
    value = passthrough_values(cfg.passthrough).get(row.key)
    if option_is_switch(row.option):
        text = "on" if value else "off"
    else:
        text = "" if value in (None, True, False) else str(value)
    default = t("default: ", "既定: ").get(lang) + str(row.option.get("default"))
    return Shown(text, default, "", False, value is not None)


def editor_kind(row: Row, text: str) -> str:
    """The editor's kind on `row`: the flag's own, else a switch ("bool") or free text."""
    if row.spec:
        return row.spec.kind
    return (
        "bool" if text in ("on", "off") and row.option and option_is_switch(row.option) else "str"
    )


def suggestion_words(row: Row, installed: Mapping[str, Sequence[str]]) -> tuple[str, ...] | None:
    """The words the editor completes on `row` (its choices), or None for no suggester."""
    if row.spec is None or not row.spec.choices and row.spec.flag not in installed:
        return None
    return allowed_choices(row.spec, installed) or tuple(map(str, row.spec.choices))


def parse_value(spec: FlagSpec, raw: str) -> Any:
    """Typed text as the flag's value (a list splits on spaces); raises UserError."""
    return coerce(spec, raw.split() if spec.kind == "list" else raw)


def parse_typed(
    spec: FlagSpec, raw: str, installed: Mapping[str, Sequence[str]] | None, lang: str
) -> Any:
    """Typed text as the flag's value, also refused when it is not one of the allowed choices;
    raises UserError with the reason in `lang`."""
    value = parse_value(spec, raw)
    allowed = allowed_choices(spec, installed)
    if allowed is not None and str(value) not in allowed:
        raise UserError(
            t(
                f"{spec.flag}: {raw!r} is not one of {', '.join(allowed)}",
                f"{spec.flag}: {raw!r} は使えません（{', '.join(allowed)} のどれか）",
            ).get(lang)
        )
    return value


def means(dest: str, text: str, value: Any) -> bool:
    """Typed `text` parses to `value` for flag `dest`."""
    spec = BY_DEST[dest]
    try:
        return bool(parse_value(spec, text) == value)
    except UserError:
        return False


def choices_by_name(options: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Option name -> its choices, for every installed option that has a closed list."""
    return {
        name: tuple(map(str, o["choices"]))
        for o in options
        if o.get("choices")
        for name in o["names"]
    }


def changed_dests(old: ServeConfig | None, cfg: ServeConfig) -> set[str]:
    """The dests whose value differs between two configs (set, unset or changed)."""
    before = dict(old.values) if old is not None else {}
    after = dict(cfg.values)
    return {d for d in before.keys() | after.keys() if before.get(d, ...) != after.get(d, ...)}


def is_echo(
    old: ServeConfig | None,
    cfg: ServeConfig,
    changed: set[str],
    sent: Sequence[tuple[str, Any]],
) -> bool:
    """The change from `old` to `cfg` only carries values the form itself sent."""
    if old is None or (old.model, old.env, old.cuda_visible_devices) != (
        cfg.model,
        cfg.env,
        cfg.cuda_visible_devices,
    ):
        return False
    for key in changed:
        spec = BY_DEST.get(key)
        values = [v for k, v in sent if k == key]
        if not values:
            return False
        if spec is not None and not any(
            cfg.get(key) == (spec.effective_default if v is None else v) for v in values
        ):
            return False
    return True


def haystack(spec: FlagSpec) -> str:
    """Everything a search looks in for a catalog flag, lower case."""
    return " ".join(
        [
            spec.flag or spec.env or "",
            spec.dest,
            spec.summary.en,
            spec.summary.ja,
            spec.details.en,
            spec.details.ja,
        ]
    ).lower()


def scroll_target(line: int, top: int, height: int, rows: int) -> int:
    """Scroll so that lines [line, line+rows) are visible, moving as little as possible."""
    if line < top:
        return max(0, line - 1 if line > 0 else 0)
    if line + rows > top + height:
        return line + rows - height
    return top


def passthrough_values(tokens: Sequence[str]) -> dict[str, str | bool]:
    """`--flag value --switch` -> {flag: value, switch: True}."""
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--"):
            if i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                out[tok] = tokens[i + 1]
                i += 2
                continue
            out[tok] = True
        i += 1
    return out


def set_passthrough(tokens: Sequence[str], flag: str, value: str | bool | None) -> tuple[str, ...]:
    """Replace (or remove) `flag` in a passthrough token list."""
    values = passthrough_values(tokens)
    values.pop(flag, None)
    if value is not None and value is not False:
        values[flag] = value
    out: list[str] = []
    for f, v in values.items():
        out += [f] if v is True else [f, str(v)]
    return tuple(out)
