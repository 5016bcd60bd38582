"""The words of an estimate: the notes under the figures and the "why this number"
explanation (F7, `vllm-tui estimate`), each figure with its provenance label."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from tui.core import estimate_stages as st
from tui.core.catalog.spec import Text, t
from tui.core.estimate_stages import Inputs
from tui.core.estimate_verdict import KvEnds
from tui.core.gpu_catalog import GiB
from tui.core.memory_model import PROVENANCE
from tui.core.model_facts import ModelFacts
from tui.core.weights import StageWeights

if TYPE_CHECKING:
    from tui.core.estimate import Estimate


def notes_for(
    facts: ModelFacts,
    inp: Inputs,
    over: st.Overheads,
    ends: KvEnds,
    measured: Mapping[str, float],
) -> list[str]:
    notes: list[str] = []
    rules = inp.rules
    graph = over.cuda_graph.value
    if "weights" in measured:
        notes.append("weights: measured on your earlier run of this combination")
    if inp.explicit_kv:
        notes.append(
            "--kv-cache-memory-bytes set: the KV cache size ignores --gpu-memory-utilization"
        )
    elif graph and not inp.in_budget and inp.budget + graph > inp.gpu.total_bytes:
        notes.append(
            f"CUDA graphs (~{graph / GiB:.2f} GiB) are captured outside the budget in this vLLM; "
            "budget + graphs exceeds the GPU: capture may OOM (lower utilization or --enforce-eager)"
        )
    where = (
        "CUDA graphs counted inside the budget"
        if inp.in_budget
        else "CUDA graphs outside the budget"
        if graph
        else "no CUDA graphs"
    )
    notes.append(
        f"vLLM {inp.version or 'newest known'} ({rules.engine}): profile batch "
        f"{rules.profile_tokens:,} tokens / {rules.profile_seqs} requests "
        f"(max_num_batched_tokens / max_num_seqs for {inp.gpu.name}); block size "
        f"{rules.block_size}; {where}"
    )
    if inp.gpu.unified_memory:
        notes.append(
            "unified memory: the budget is a fraction of what CUDA reports as total (the shared "
            "system RAM); vLLM's startup check compares it with the host's available RAM "
            "(psutil), so memory other programs hold counts against it"
        )
    if facts.best_effort:
        notes.append("unknown architecture: best-effort estimate from generic transformer formulas")
    if ends.mid.padding_layers:
        notes.append(
            f"hybrid attention: {ends.mid.groups} KV groups, {ends.mid.padding_layers} padding "
            "layer(s) as vLLM adds"
        )
    return notes


def g(value: float) -> str:
    """GiB, two decimals (the explanation's unit)."""
    return f"{value / GiB:.2f}"


def explain(est: Estimate) -> tuple[str, ...]:
    """The "why this number" text: each stage with its figure, band and provenance."""
    lines = [
        f"budget = {est.budget_bytes / est.total_bytes:.2f} x {g(est.total_bytes)} GiB total = "
        f"{g(est.budget_bytes)} GiB [{PROVENANCE['vllm']}]"
    ]
    for term in est.terms:
        band = f" (band {g(term.low)}–{g(term.high)})" if term.low != term.high else ""
        lines.append(
            f"{term.label}: {g(term.value)} GiB{band} [{term.provenance_label}]: {term.basis}"
        )
    kv = est.kv
    minus = " − CUDA graphs" if est.cuda_graph_in_budget else ""
    lines += [
        f"KV cache = budget − weights − activation − non-torch{minus} [{PROVENANCE['vllm']}]",
        f"blocks = KV bytes // (block {kv.block_size} x {kv.bytes_per_token:,} B/token) = "
        f"{kv.num_blocks:,}; tokens {kv.tokens:,} (band {est.kv_low.tokens:,}–"
        f"{est.kv_high.tokens:,}) [{PROVENANCE['vllm']}]",
        "verdict: starts if the band's pessimistic end fits, won't start if even its optimistic "
        "end fails, else borderline",
    ]
    return tuple(lines)


def weights_basis(label: str, stage: StageWeights, tp: int, pp: int) -> str:
    split = []
    if tp > 1:
        split.append(f"TP {tp}")
    if pp > 1:
        split.append(f"PP {pp}")
    how = f" split by {' x '.join(split)}" if split else ""
    return f"{label}{how}; exact from the architecture"


# -- Japanese ---------------------------------------------------------------------------------
# The estimator (this module, estimate_verdict.py, estimate_stages.py, memory_model.py,
# weights.py) writes its prose in English: that is what the CLI and the JSON print. The UI
# shows it in the language in effect through `bilingual()`, which reads each sentence back
# against these pairs. In the English side, `{name}` stands for any text, `{name:n}` for a
# number and `{name?}` for text that may be empty; what a field holds is itself looked up here
# (a reason inside a verdict, the sampler path inside the activation basis). `{options}` is a
# list joined with ", or ". Wrappers come before what they wrap: the first pair that matches
# the whole sentence wins. tests/core/test_estimate_text_ja.py checks that every sentence of a
# set of representative estimates has a Japanese side.
PHRASES: tuple[Text, ...] = (
    # wrappers
    t("starts: {rest}", "起動できる: {rest}"),
    t("fails: {rest}", "起動できない: {rest}"),
    t("borderline: {rest}", "ぎりぎり: {rest}"),
    t(
        "{basis} (band includes the other card's batch defaults)",
        "{basis}（幅はもう一方のカードのバッチ既定値も含む）",
    ),
    # the verdict (estimate_verdict.py)
    t(
        "{tokens:n} KV tokens, {conc:n}x concurrent requests of {len:n} tokens",
        "KV キャッシュ {tokens} トークン、{len} トークンで同時実行 {conc} 倍",
    ),
    t("no KV cache even at the band's best", "幅の楽観側でも KV キャッシュが確保できない"),
    t(
        "{len:n} tokens fit at the band's optimistic end ({high:n} KV tokens) but not at its "
        "pessimistic end ({low:n}); {sure}",
        "{len} トークンは幅の楽観側（KV {high} トークン）では収まるが、悲観側（{low}）では"
        "収まらない。{sure}",
    ),
    t("--max-model-len {n:n} surely fits{more?}", "--max-model-len {n} なら確実に収まる{more}"),
    t("no length surely fits{more?}", "確実に収まる長さはない{more}"),
    t(
        ", or --gpu-memory-utilization {util:n}{more?}",
        "、または --gpu-memory-utilization {util}{more}",
    ),
    t(" ({reason})", "（{reason}）"),
    t(
        "no memory left for the KV cache: weights {w:n} GiB + overheads exceed the {b:n} GiB "
        "budget (utilization {u:n}): raise --gpu-memory-utilization, raise TP, or quantize",
        "KV キャッシュに回すメモリが残りません: 重み {w} GiB + オーバーヘッドが予算 {b} GiB"
        "（使用率 {u}）を超えています。--gpu-memory-utilization を上げるか、TP を増やすか、"
        "量子化してください",
    ),
    t(
        "max-model-len {len:n} is larger than the {tokens:n} tokens the KV cache holds: use "
        "--max-model-len {n:n} or less",
        "max-model-len {len} は KV キャッシュに入る {tokens} トークンより大きいため、"
        "--max-model-len を {n} 以下にしてください",
    ),
    t(
        "one request of {len:n} tokens does not fit in the KV cache (the largest that fits is "
        "{n:n}); use {options}",
        "{len} トークンのリクエスト 1 件が KV キャッシュに収まりません（収まる最大長は {n}）。"
        "対策: {options}",
    ),
    t("a higher --gpu-memory-utilization", "--gpu-memory-utilization を上げる"),
    t(
        "--kv-cache-dtype fp8 (about twice the tokens)",
        "--kv-cache-dtype fp8（トークン数が約 2 倍）",
    ),
    t("more GPUs (--tensor-parallel-size)", "GPU を増やす（--tensor-parallel-size）"),
    # failures no band rescues (estimate_stages.hard_reasons)
    t(
        "needs {n:n} GPUs (TP {tp:n} x PP {pp:n} x DP {dp:n}) but {m:n} are available",
        "GPU が {n} 枚必要です（TP {tp} x PP {pp} x DP {dp}）が、使えるのは {m} 枚です",
    ),
    t(
        "weights need {w:n} GiB per GPU, more than the GPU's {total:n} GiB: raise TP/PP or "
        "quantize",
        "重みに GPU 1 枚あたり {w} GiB 必要で、GPU の {total} GiB を超えます。TP/PP を増やすか"
        "量子化してください",
    ),
    t(
        "free memory {free:n} GiB is less than the {b:n} GiB budget (utilization {u:n}): vLLM "
        "refuses to start; lower --gpu-memory-utilization or free the GPU",
        "空きメモリ {free} GiB が予算 {b} GiB（使用率 {u}）より少ないため、vLLM は起動を"
        "拒否します。--gpu-memory-utilization を下げるか、GPU を空けてください",
    ),
    t(
        "weights + activations + the fixed {kv:n} GiB KV cache exceed the GPU ({total:n} GiB)",
        "重み + 活性 + 固定の KV キャッシュ {kv} GiB が GPU（{total} GiB）を超えます",
    ),
    # each term's basis (weights_basis, memory_model.py, estimate.py)
    t(
        "{label} split by {split}; exact from the architecture",
        "{label}、{split} で分割。アーキテクチャから厳密に計算",
    ),
    t("{label}; exact from the architecture", "{label}、アーキテクチャから厳密に計算"),
    t("fp8 weights", "fp8 の重み"),
    t("mxfp4 experts", "mxfp4 のエキスパート"),
    t("gguf (Q8_0 assumed)", "gguf（Q8_0 と仮定）"),
    t("{method} (treated as {dtype})", "{method}（{dtype} として扱う）"),
    t(
        "profile run: the larger of a {tokens:n}-token forward and the sampler over {seqs:n} x "
        "{vocab:n} logits ({path})",
        "プロファイル実行: {tokens} トークンの順伝播と {seqs} x {vocab} ロジットのサンプラーの"
        "大きい方（{path}）",
    ),
    t("V0 sampler, PyTorch sort top-k/top-p", "V0 サンプラー、PyTorch のソートによる top-k/top-p"),
    t("PyTorch sort top-k/top-p", "PyTorch のソートによる top-k/top-p"),
    t(
        "PyTorch sort top-k/top-p (FlashInfer if installed)",
        "PyTorch のソートによる top-k/top-p（flashinfer があれば FlashInfer）",
    ),
    t(
        "FlashInfer top-k/top-p (flashinfer installed)",
        "FlashInfer による top-k/top-p（flashinfer あり）",
    ),
    t(
        "FlashInfer top-k/top-p (sort path if flashinfer is absent)",
        "FlashInfer の top-k/top-p、flashinfer がなければソート経路",
    ),
    t(
        "vLLM < 0.6.5 counts the CUDA context as non-torch memory",
        "vLLM < 0.6.5 は CUDA コンテキストを torch 外メモリとして数える",
    ),
    t("CUDA allocations outside PyTorch (cuBLAS)", "PyTorch 外の CUDA 確保（cuBLAS）"),
    t(
        "outside PyTorch: cuBLAS + NCCL/all-reduce buffers for TP {tp:n} over {link}",
        "PyTorch 外: cuBLAS と、{link} 経由の TP {tp} 用の NCCL/all-reduce バッファ",
    ),
    t("--enforce-eager: no graphs", "--enforce-eager: グラフなし"),
    t("graphs up to batch {n:n} ({where})", "バッチ {n} までのグラフ（{where}）"),
    t("inside the budget", "予算内"),
    t("outside the budget", "予算外"),
    t(
        "measured on your earlier run of this combination",
        "この組み合わせの前回の実行での実測値",
    ),
    t("what is left of the budget", "予算の残り"),
    t("--kv-cache-memory-bytes", "--kv-cache-memory-bytes の指定値"),
    # the notes (notes_for, estimate_stages.py)
    t(
        "weights: measured on your earlier run of this combination",
        "重み: この組み合わせの前回の実行での実測値",
    ),
    t(
        "--kv-cache-memory-bytes set: the KV cache size ignores --gpu-memory-utilization",
        "--kv-cache-memory-bytes 指定あり: KV キャッシュのサイズは --gpu-memory-utilization に"
        "よらない",
    ),
    t(
        "CUDA graphs (~{g:n} GiB) are captured outside the budget in this vLLM; budget + graphs "
        "exceeds the GPU: capture may OOM (lower utilization or --enforce-eager)",
        "この vLLM では CUDA グラフ（約 {g} GiB）は予算の外でキャプチャされます。予算 + グラフが"
        " GPU を超えるため、キャプチャ時に OOM になるおそれがあります（使用率を下げるか "
        "--enforce-eager）",
    ),
    t(
        "vLLM {version} ({engine}): profile batch {tokens:n} tokens / {seqs:n} requests "
        "(max_num_batched_tokens / max_num_seqs for {gpu}); block size {block:n}; {where}",
        "vLLM {version}（{engine}）: プロファイル用バッチ {tokens} トークン / {seqs} リクエスト"
        "（{gpu} での max_num_batched_tokens / max_num_seqs）、ブロックサイズ {block}、{where}",
    ),
    t("newest known", "既知の最新版"),
    t("CUDA graphs counted inside the budget", "CUDA グラフは予算内に計上"),
    t("CUDA graphs outside the budget", "CUDA グラフは予算外"),
    t("no CUDA graphs", "CUDA グラフなし"),
    t(
        "unified memory: the budget is a fraction of what CUDA reports as total (the shared "
        "system RAM); vLLM's startup check compares it with the host's available RAM "
        "(psutil), so memory other programs hold counts against it",
        "ユニファイドメモリ: 予算は CUDA が全体として報告する量（共有のシステム RAM）に対する"
        "割合です。vLLM の起動時チェックはこれをホストの空き RAM（psutil）と比べるため、"
        "他のプログラムが使っているメモリも差し引かれます",
    ),
    t(
        "unknown architecture: best-effort estimate from generic transformer formulas",
        "未知のアーキテクチャ: 汎用の Transformer の式による概算",
    ),
    t(
        "hybrid attention: {groups:n} KV groups, {pad:n} padding layer(s) as vLLM adds",
        "ハイブリッドアテンション: KV グループ {groups} 個、vLLM が加えるパディング層 {pad} 層",
    ),
    t(
        "--dtype auto turns an fp32 checkpoint into 16-bit weights",
        "--dtype auto では fp32 のチェックポイントが 16 ビットの重みになる",
    ),
    t(
        "{gpu} has no bfloat16: --dtype auto falls back to float16",
        "{gpu} は bfloat16 非対応: --dtype auto は float16 にフォールバック",
    ),
    t(
        "only the GPU's size is known: assumed vLLM's batch defaults for an H100-class card "
        "({tokens:n} tokens / {seqs:n} requests); an A100 uses {a_tokens:n} / {a_seqs:n}, and "
        "the band covers both",
        "GPU はサイズしか分からないため、H100 クラスのカードでの vLLM のバッチ既定値"
        "（{tokens} トークン / {seqs} リクエスト）を仮定。A100 では {a_tokens} / {a_seqs} で、"
        "幅は両方を含む",
    ),
    t(
        "weights scaled by {scale:n} to the checkpoint's own size ({g:n} GiB of tensors)",
        "重みをチェックポイント自体のサイズ（テンソル {g} GiB）に合わせて {scale} 倍に補正",
    ),
    t(
        "LoRA slots: {g:n} GiB for {n:n} adapter(s) of rank {rank:n}",
        "LoRA スロット: ランク {rank} のアダプター {n} 個分で {g} GiB",
    ),
    t(
        "--cpu-offload-gb keeps {g:n} GiB of weights in host RAM (slow)",
        "--cpu-offload-gb により重みのうち {g} GiB をホスト RAM に置く（低速）",
    ),
    # the explanation's verdict rule (explain)
    t(
        "verdict: starts if the band's pessimistic end fits, won't start if even its "
        "optimistic end fails, else borderline",
        "判定：幅の悲観側でも収まれば「起動できる」、楽観側でも収まらなければ「起動できない」、"
        "それ以外は「ぎりぎり」",
    ),
)

_FIELD = re.compile(r"\{(\w+)(:n|\?)?\}")
_KINDS = {":n": r"[\d.,]+", "?": r".*?", "": r".+?"}


def _compile(pair: Text) -> tuple[re.Pattern[str], str]:
    parts: list[str] = []
    pos = 0
    for m in _FIELD.finditer(pair.en):
        parts += [re.escape(pair.en[pos : m.start()]), f"(?P<{m[1]}>{_KINDS[m[2] or '']})"]
        pos = m.end()
    parts.append(re.escape(pair.en[pos:]))
    return re.compile("".join(parts), re.DOTALL), pair.ja


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The pairs' patterns, built on the first Japanese lookup (not at start-up)."""
    return tuple(_compile(p) for p in PHRASES)


def bilingual(english: str, known: Iterable[Text] = ()) -> Text:
    """One sentence of the estimator (a basis, a note, a reason, the verdict) in both languages.
    `known` are texts that may appear verbatim in it (the plan's findings, which can become the
    verdict's reason). A sentence no pair reads comes back with its English as the Japanese."""
    return Text(english, _ja(english, tuple((k.en, k.ja) for k in known)))


@lru_cache(maxsize=1024)
def _ja(english: str, known: tuple[tuple[str, str], ...], depth: int = 0) -> str:
    for en, ja in known:
        if en == english:
            return ja
    if depth > 6 or not english:
        return english
    for pattern, ja in _compiled():
        m = pattern.fullmatch(english)
        if m is None:
            continue
        values = {}
        for name, value in m.groupdict().items():
            if name == "options":
                values[name] = "、または ".join(
                    _ja(o, known, depth + 1) for o in value.split(", or ")
                )
            else:
                values[name] = _ja(value, known, depth + 1)
        return ja.format_map(values)
    return english
