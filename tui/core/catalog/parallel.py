"""Catalog: how the model is spread over GPUs and nodes."""

from __future__ import annotations

from typing import Any, Protocol

from tui.core.catalog.spec import FlagSpec, t


class _Values(Protocol):
    def get(self, dest: str) -> Any: ...


FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="tensor_parallel_size",
        affects_memory=True,
        world_factor=True,
        blocks_launch=("tp-heads", "gpu-count"),
        flag="--tensor-parallel-size",
        aliases=("-tp",),
        kind="int",
        group="parallel",
        default=1,
        minimum=1,
        seed=True,
        summary=t(
            "Split every layer across this many GPUs (usually the GPUs in one node).",
            "各レイヤーをこの数の GPU に分割します（通常は 1 ノード内の GPU 数）。",
        ),
        details=t(
            "Each GPU holds 1/TP of every weight matrix and of the KV heads, and the GPUs "
            "all-reduce after every layer, so TP wants fast links (NVLink); over PCIe it works but "
            "scales worse. Set it to the number of GPUs in the box (4 on a 4-GPU node, 8 on 8). "
            "The attention heads must divide by it; when TP exceeds the number of KV heads, the "
            "KV heads are replicated and KV memory per GPU stops shrinking. Needs NCCL. "
            "Example: -tp 4.",
            "各 GPU がすべての重み行列と KV ヘッドの 1/TP を持ち、レイヤーごとに GPU 間で "
            "all-reduce を行うため、高速な接続（NVLink）が望まれます。PCIe でも動きますが"
            "スケールは悪くなります。マシン内の GPU 数に合わせます（4 枚なら 4、8 枚なら 8）。"
            "アテンションヘッド数がこの値で割り切れる必要があり、TP が KV ヘッド数を超えると KV "
            "ヘッドが複製され、GPU あたりの KV メモリはそれ以上減りません。NCCL が必要です。"
            "例: -tp 4",
        ),
        memory=t(
            "Weights and KV per GPU divide by TP (replicated parts excepted).",
            "GPU あたりの重みと KV は TP で割った量になります（複製される部分を除く）。",
        ),
        example="--tensor-parallel-size 4",
    ),
    FlagSpec(
        dest="pipeline_parallel_size",
        affects_memory=True,
        world_factor=True,
        blocks_launch=("gpu-count", "cluster-gpus"),
        flag="--pipeline-parallel-size",
        aliases=("-pp",),
        kind="int",
        group="parallel",
        default=1,
        minimum=1,
        seed=True,
        summary=t(
            "Split the layers into this many sequential stages (usually one per node).",
            "レイヤーをこの数の段（ステージ）に順番に分けます（通常はノードごとに 1 段）。",
        ),
        details=t(
            "Each stage holds a contiguous slice of the layers and passes activations to the "
            "next, so the traffic between stages is small: the usual layout is TP inside a node "
            "and PP across nodes (PP = number of nodes). The KV cache per stage only covers its "
            "own layers; capacity is the minimum over stages. Total GPUs = TP x PP. "
            "Example: -tp 8 -pp 2 on two 8-GPU nodes.",
            "各ステージは連続したレイヤーの一部を持ち、活性化を次のステージへ渡すため、ステージ間の"
            "通信量は小さくなります。一般的な構成はノード内で TP、ノード間で PP（PP = ノード数）"
            "です。各ステージの KV キャッシュは自分のレイヤー分だけで、容量はステージ間の最小値に"
            "なります。GPU の総数は TP × PP です。例: 8 GPU のノード 2 台なら -tp 8 -pp 2",
        ),
        memory=t(
            "Weights and KV per GPU divide by PP (by layer).",
            "GPU あたりの重みと KV はレイヤー単位で PP に分割されます。",
        ),
        example="--pipeline-parallel-size 2",
    ),
    FlagSpec(
        dest="data_parallel_size",
        affects_memory=True,
        world_factor=True,
        blocks_launch=("gpu-count",),
        flag="--data-parallel-size",
        aliases=("-dp",),
        kind="int",
        group="parallel",
        default=1,
        minimum=1,
        summary=t(
            "Run this many full model replicas behind one endpoint.",
            "1 つのエンドポイントの背後でこの数のモデル複製を動かします。",
        ),
        details=t(
            "Each replica gets its own TP x PP GPUs and its own KV cache; requests are balanced "
            "between them. It multiplies throughput, not context length. Total GPUs = DP x TP x "
            "PP. Combined with --enable-expert-parallel it is the usual way to serve large MoE "
            "models. Example: -dp 2 -tp 4 on 8 GPUs.",
            "各複製が TP × PP 枚の GPU と自分の KV キャッシュを持ち、リクエストが複製間で分散"
            "されます。文脈長ではなくスループットが倍増します。GPU の総数は DP × TP × PP です。"
            "--enable-expert-parallel と組み合わせるのが大きな MoE モデルを提供する一般的な方法"
            "です。例: 8 GPU で -dp 2 -tp 4",
        ),
        example="--data-parallel-size 2",
    ),
    FlagSpec(
        dest="enable_expert_parallel",
        affects_memory=True,
        flag="--enable-expert-parallel",
        aliases=("-ep",),
        negatable=True,
        kind="bool",
        group="parallel",
        default=False,
        summary=t(
            "Shard MoE experts across GPUs instead of splitting each expert by TP.",
            "MoE のエキスパートを TP で分割する代わりに、GPU 間でエキスパート単位に分散します。",
        ),
        details=t(
            "For mixture-of-experts models (Qwen3-MoE, DeepSeek, gpt-oss, Mixtral): with EP each "
            "GPU holds whole experts (experts / (TP x DP) of them) and tokens are routed to them. "
            "Attention is still split by TP (or replicated across DP). Usually faster for large "
            "MoE models with many experts; weight memory per GPU is about the same. "
            "Example: -tp 8 --enable-expert-parallel.",
            "MoE モデル（Qwen3-MoE、DeepSeek、gpt-oss、Mixtral）向けです。EP では各 GPU が"
            "エキスパートを丸ごと（エキスパート数 ÷ (TP × DP) 個）持ち、トークンがそこへ振り分け"
            "られます。アテンションは引き続き TP で分割（DP 間では複製）されます。エキスパート数の"
            "多い大型 MoE では通常高速になり、GPU あたりの重みメモリはほぼ同じです。"
            "例: -tp 8 --enable-expert-parallel",
        ),
        example="--enable-expert-parallel",
    ),
    FlagSpec(
        dest="distributed_executor_backend",
        blocks_launch=("ray-cpu-build",),
        flag="--distributed-executor-backend",
        kind="choice",
        group="parallel",
        default=None,
        choices=("mp", "ray", "uni", "external_launcher"),
        open_choices=True,
        summary=t(
            "How worker processes are started: mp (one node), ray (multi-node), uni, external_launcher.",
            "ワーカープロセスの起動方法: mp（単一ノード）、ray（複数ノード）、uni、external_launcher。",
        ),
        details=t(
            "Unset, vLLM uses 'uni' for a single GPU, 'mp' (Python multiprocessing) when all GPUs "
            "are in this node, and 'ray' when a Ray cluster is needed for more GPUs than the node "
            "has. Set 'ray' explicitly for multi-node PP; 'external_launcher' is for torchrun-style "
            "launchers. Example: --distributed-executor-backend ray.",
            "未指定なら、GPU 1 枚では 'uni'、すべての GPU がこのノードにあれば 'mp'（Python の "
            "multiprocessing）、ノードの GPU 数を超える場合は Ray クラスタの 'ray' を使います。"
            "複数ノードで PP を使うなら 'ray' を明示します。'external_launcher' は torchrun 形式の"
            "起動用です。例: --distributed-executor-backend ray",
        ),
        example="--distributed-executor-backend ray",
    ),
)


def world_size(cfg: _Values) -> int:
    """GPUs one server needs: the product of the flags declared `world_factor` (TP x PP x DP).

    The one place this is computed; `cfg` is a ServeConfig (or anything with `.get(dest)`).
    """
    from tui.core.catalog import CATALOG

    size = 1
    for spec in CATALOG:
        if spec.world_factor:
            size *= int(cfg.get(spec.dest) or 1)
    return size
