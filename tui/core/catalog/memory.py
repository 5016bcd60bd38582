"""Catalog: flags that decide how GPU memory is split between weights and the KV cache."""

from __future__ import annotations

from tui.core.catalog.spec import FlagSpec, VersionNote, t

KV_CACHE_DTYPES = (
    "auto",
    "fp8",
    "fp8_e4m3",
    "fp8_e5m2",
    "bfloat16",
    "float16",
    "fp8_inc",
    "fp8_ds_mla",
)
QUANTIZATIONS = (
    "fp8",
    "awq",
    "awq_marlin",
    "gptq",
    "gptq_marlin",
    "bitsandbytes",
    "compressed-tensors",
    "mxfp4",
    "gguf",
    "modelopt",
    "modelopt_fp4",
    "experts_int8",
    "fbgemm_fp8",
    "torchao",
)

FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="gpu_memory_utilization",
        flag="--gpu-memory-utilization",
        kind="float",
        group="memory",
        default=0.92,
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
        seed=True,
        summary=t(
            "Fraction of each GPU's TOTAL memory this vLLM instance may use.",
            "この vLLM インスタンスが使ってよい、各 GPU の総メモリに対する割合。",
        ),
        details=t(
            "vLLM takes utilization x total memory as its budget, loads the weights, measures the "
            "activation peak with a dummy batch, and gives everything left in the budget to the KV "
            "cache. Raising it (0.95, 0.97) buys KV-cache tokens, i.e. more concurrent requests and "
            "longer contexts; lowering it leaves room for other processes on the same GPU. It is a "
            "fraction of TOTAL memory, not free memory: if another process already holds memory, "
            "vLLM refuses to start when free < utilization x total. "
            "Example: --gpu-memory-utilization 0.95 on an 80 GB card adds ~2.4 GiB of KV cache "
            "versus 0.92.",
            "vLLM は「割合 × 総メモリ」を予算とし、重みを読み込み、ダミーバッチで活性化メモリの"
            "ピークを測り、予算の残りをすべて KV キャッシュに割り当てます。0.95 や 0.97 に上げると "
            "KV キャッシュのトークン数が増え、同時リクエスト数や扱える文脈長が伸びます。同じ GPU で"
            "他のプロセスを動かすなら下げてください。空きメモリではなく総メモリに対する割合です。"
            "他のプロセスがメモリを使っていて「空き < 割合 × 総メモリ」のとき、vLLM は起動を"
            "拒否します。例: 80 GB の GPU で 0.95 にすると 0.92 より約 2.4 GiB KV キャッシュが増えます。",
        ),
        memory=t(
            "Sets the whole budget; every extra 0.01 goes straight to the KV cache.",
            "予算全体を決めます。0.01 増やすごとにその分が KV キャッシュに回ります。",
        ),
        versions=(
            VersionNote(
                t(
                    "Default was 0.9 before vLLM 0.3x; 0.92 in 0.32.",
                    "vLLM 0.3x より前の既定値は 0.9、0.32 では 0.92。",
                ),
                until="0.32.0",
                default=0.9,
            ),
        ),
        example="--gpu-memory-utilization 0.95",
    ),
    FlagSpec(
        dest="max_model_len",
        human_readable=True,
        words=(("auto", -1),),
        blocks_launch=("max-len-too-long",),
        flag="--max-model-len",
        kind="int",
        group="memory",
        default=None,
        minimum=1,
        seed=True,
        unit="tokens",
        summary=t(
            "Longest sequence (prompt + output) one request may have.",
            "1 リクエストが扱える最大のシーケンス長（プロンプト＋出力）。",
        ),
        details=t(
            "Defaults to the model's own maximum (max_position_embeddings, e.g. 131072 for "
            "Llama 3.1). vLLM refuses to start unless the KV cache can hold at least one request "
            "of this length, so on a small GPU lowering it is often the difference between "
            "'starts' and 'fails'. It does not shrink the KV cache; it lets more requests share it "
            "(max concurrency = KV tokens / max-model-len). Newer vLLM accepts '32k' and 'auto' "
            "(-1: the largest length that fits). Example: --max-model-len 32768.",
            "既定値はモデル自身の最大長（max_position_embeddings。Llama 3.1 なら 131072）です。"
            "KV キャッシュにこの長さのリクエストが最低 1 件入らないと vLLM は起動しないため、"
            "小さな GPU ではこれを下げるかどうかが起動の成否を分けます。KV キャッシュ自体は"
            "小さくならず、より多くのリクエストで共有できるようになります（最大同時実行数 = "
            "KV トークン数 ÷ max-model-len）。新しい vLLM は '32k' や 'auto'（-1: 収まる最大長）も"
            "受け付けます。例: --max-model-len 32768",
        ),
        memory=t(
            "Must fit in the KV cache at least once; lower it when startup fails.",
            "KV キャッシュに最低 1 件収まる必要があります。起動に失敗したら下げてください。",
        ),
        example="--max-model-len 32768",
    ),
    FlagSpec(
        dest="quantization",
        affects_memory=True,
        blocks_launch=("quant-conflict", "fp8-unsupported"),
        flag="--quantization",
        aliases=("-q",),
        kind="choice",
        group="memory",
        default=None,
        choices=QUANTIZATIONS,
        open_choices=True,
        seed=True,
        summary=t(
            "Weight quantization method (fp8 = quantize bf16 weights to 8 bits at load).",
            "重みの量子化方式（fp8 は bf16 の重みを読み込み時に 8 ビットへ量子化）。",
        ),
        details=t(
            "Unset, vLLM reads the method from the checkpoint's quantization_config (AWQ, GPTQ, "
            "FP8, compressed-tensors...). '--quantization fp8' on an unquantized bf16/fp16 "
            "checkpoint quantizes the linear weights to FP8 on the fly: about half the weight "
            "memory, faster on Hopper/Ada/Blackwell, small quality loss. It needs compute "
            "capability 8.9+ for native FP8 (older GPUs fall back to weight-only Marlin kernels). "
            "Pair it with --kv-cache-dtype fp8 to also halve the KV cache. Do not set it on a "
            "checkpoint that is already quantized. Example: --quantization fp8.",
            "未指定なら vLLM はチェックポイントの quantization_config（AWQ、GPTQ、FP8、"
            "compressed-tensors など）から方式を読み取ります。量子化されていない bf16/fp16 の"
            "チェックポイントに '--quantization fp8' を付けると、読み込み時に線形層の重みを FP8 へ"
            "量子化します。重みのメモリは約半分になり、Hopper/Ada/Blackwell では高速化し、品質の"
            "低下はわずかです。ネイティブ FP8 には Compute Capability 8.9 以上が必要です（それより"
            "古い GPU では重みのみの Marlin カーネルに切り替わります）。KV キャッシュも半分にするには "
            "--kv-cache-dtype fp8 と併用します。すでに量子化済みのチェックポイントには指定しないで"
            "ください。例: --quantization fp8",
        ),
        memory=t(
            "fp8 roughly halves weight memory; 4-bit methods quarter it.",
            "fp8 で重みのメモリは約半分、4 ビット方式で約 1/4 になります。",
        ),
        example="--quantization fp8",
    ),
    FlagSpec(
        dest="kv_cache_dtype",
        affects_memory=True,
        blocks_launch=("fp8-kv-unsupported",),
        flag="--kv-cache-dtype",
        kind="choice",
        group="memory",
        default="auto",
        choices=KV_CACHE_DTYPES,
        open_choices=True,
        seed=True,
        summary=t(
            "Data type of the KV cache; fp8 halves its memory, doubling the tokens that fit.",
            "KV キャッシュのデータ型。fp8 でメモリが半分になり、収まるトークン数が倍になります。",
        ),
        details=t(
            "'auto' stores keys and values in the model dtype (2 bytes in bf16/fp16). 'fp8' "
            "(= fp8_e4m3 on NVIDIA) stores 1 byte per element, so the same memory holds twice as "
            "many tokens: twice the concurrency or context. Accuracy loss is usually small; "
            "checkpoints with calibrated KV scales do best. Needs a GPU and attention backend "
            "with FP8 KV support (Ada/Hopper/Blackwell; some backends on Ampere). Recent vLLM adds "
            "more formats (int8/int4 per token-head, nvfp4). Example: --kv-cache-dtype fp8.",
            "'auto' ではキーとバリューをモデルのデータ型（bf16/fp16 なら 2 バイト）で保存します。"
            "'fp8'（NVIDIA では fp8_e4m3）は 1 要素 1 バイトなので、同じメモリに 2 倍のトークンが"
            "入り、同時実行数や文脈長が 2 倍になります。精度の低下は通常わずかで、KV スケールを"
            "校正済みのチェックポイントが最も良好です。FP8 KV に対応した GPU とアテンション"
            "バックエンドが必要です（Ada/Hopper/Blackwell、Ampere では一部のバックエンド）。新しい "
            "vLLM ではさらに多くの形式（int8/int4 per token-head、nvfp4）があります。"
            "例: --kv-cache-dtype fp8",
        ),
        memory=t(
            "fp8: 1 byte per element instead of 2 -> twice the KV tokens.",
            "fp8: 1 要素 2 バイトが 1 バイトになり、KV トークン数が 2 倍になります。",
        ),
        example="--kv-cache-dtype fp8",
    ),
    FlagSpec(
        dest="swap_space",
        flag="--swap-space",
        kind="float",
        group="memory",
        # The newest vLLM has no such option, so it has no default there; V0's was 4 GiB.
        default=None,
        minimum=0.0,
        seed=True,
        unit="GiB",
        summary=t(
            "CPU RAM per GPU (GiB) for swapped-out KV blocks (V0 engine; removed in recent vLLM).",
            "退避した KV ブロック用の GPU あたりの CPU メモリ（GiB）。V0 エンジン用で、最近の vLLM では削除済み。",
        ),
        details=t(
            "The V0 engine could swap the KV blocks of preempted requests to pinned CPU memory "
            "instead of recomputing them. It reserves this much host RAM per GPU at startup "
            "(4 GiB x 8 GPUs = 32 GiB). Lower it when host RAM is tight, raise it on small GPUs "
            "under heavy preemption. The V1 engine recomputes instead of swapping; the flag was "
            "ignored there and is gone from recent releases (vLLM 0.32 rejects it). It does not "
            "change GPU memory. Example: --swap-space 8.",
            "V0 エンジンでは、プリエンプトされたリクエストの KV ブロックを再計算せず、固定された "
            "CPU メモリへ退避できました。起動時に GPU あたりこの量のホストメモリを確保します"
            "（4 GiB × 8 GPU = 32 GiB）。ホストメモリが少なければ下げ、小さな GPU でプリエンプション"
            "が多ければ上げます。V1 エンジンは退避せず再計算するため無視され、最近のリリースでは"
            "削除されています（vLLM 0.32 では拒否されます）。GPU メモリは変わりません。"
            "例: --swap-space 8",
        ),
        versions=(
            VersionNote(
                t("Default 4 GiB in the V0 engine.", "V0 エンジンでの既定値は 4 GiB。"),
                until="0.12.0",
                default=4.0,
            ),
            VersionNote(
                t(
                    "Ignored by the V1 engine; removed from recent vLLM (rejected by 0.32).",
                    "V1 エンジンでは無視され、最近の vLLM では削除済み（0.32 では拒否）。",
                ),
                since="0.12.0",
                removed=True,
            ),
        ),
        example="--swap-space 8",
    ),
    FlagSpec(
        dest="block_size",
        affects_memory=True,
        flag="--block-size",
        kind="choice",
        group="memory",
        default=None,
        choices=(1, 8, 16, 32, 64, 128, 256),
        open_choices=True,
        unit="tokens",
        summary=t(
            "Tokens per KV-cache block (default 16 on CUDA).",
            "KV キャッシュ 1 ブロックあたりのトークン数（CUDA の既定は 16）。",
        ),
        details=t(
            "The KV cache is allocated in blocks of this many tokens per layer; capacity is a "
            "whole number of blocks and prefix caching shares whole blocks. Leave it unset: "
            "vLLM picks what the attention backend supports (16 on CUDA, larger on some "
            "backends). Bigger blocks waste a little more at the end of each request. "
            "Example: --block-size 32.",
            "KV キャッシュはレイヤーごとにこのトークン数単位のブロックで確保されます。容量は"
            "ブロックの整数倍で、プレフィックスキャッシュもブロック単位で共有されます。通常は"
            "未指定のままにしてください。vLLM がアテンションバックエンドに合う値を選びます（CUDA "
            "では 16、一部のバックエンドではより大きい値）。大きいブロックは各リクエストの末尾で"
            "少し多く無駄が出ます。例: --block-size 32",
        ),
        example="--block-size 32",
    ),
    FlagSpec(
        dest="kv_cache_memory_bytes",
        human_readable=True,
        flag="--kv-cache-memory-bytes",
        kind="int",
        group="memory",
        default=None,
        minimum=1,
        unit="bytes",
        summary=t(
            "Exact KV-cache size per GPU in bytes; overrides --gpu-memory-utilization.",
            "GPU ごとの KV キャッシュの正確なサイズ（バイト）。--gpu-memory-utilization より優先されます。",
        ),
        details=t(
            "Skips the memory-profiling arithmetic and reserves exactly this much for the KV "
            "cache on every GPU, whatever the utilization says. Useful to reproduce a capacity "
            "exactly, or to pack several instances on one GPU. vLLM does not check that weights "
            "+ activations + this fit, so too large a value OOMs later. Accepts '4G' style "
            "suffixes in recent vLLM. Example: --kv-cache-memory-bytes 8589934592 (8 GiB).",
            "メモリプロファイリングによる計算を省き、割合の設定に関係なく、各 GPU で KV キャッシュに"
            "ちょうどこの量を確保します。容量を正確に再現したいときや、1 枚の GPU に複数インスタンス"
            "を詰めたいときに便利です。重み＋活性化＋この値が収まるかは確認されないため、大きすぎると"
            "後で OOM になります。最近の vLLM は '4G' のような単位付きも受け付けます。"
            "例: --kv-cache-memory-bytes 8589934592（8 GiB）",
        ),
        memory=t(
            "Fixes the KV cache size; utilization no longer applies.",
            "KV キャッシュのサイズを固定し、割合の設定は使われなくなります。",
        ),
        versions=(
            VersionNote(
                t("Added in vLLM 0.11.", "vLLM 0.11 で追加。"), until="0.11.0", removed=True
            ),
        ),
        example="--kv-cache-memory-bytes 8589934592",
    ),
    FlagSpec(
        dest="cpu_offload_gb",
        affects_memory=True,
        flag="--cpu-offload-gb",
        kind="float",
        group="memory",
        default=0.0,
        minimum=0.0,
        unit="GiB",
        summary=t(
            "GiB of weights per GPU kept in CPU RAM and streamed in on every forward pass.",
            "GPU ごとに CPU メモリへ置き、毎回の順伝播で転送する重みの量（GiB）。",
        ),
        details=t(
            "Lets a model that is slightly too large run at all: that much of the weights lives in "
            "pinned host memory and is copied over PCIe each step, freeing the same amount of GPU "
            "memory for the KV cache. It is slow (every token pays the transfer), so use it for "
            "experiments, not production. Needs the RAM on the host. Example: --cpu-offload-gb 10.",
            "少しだけ大きすぎるモデルを動かすための機能です。重みのうちこの量を固定されたホスト"
            "メモリに置き、ステップごとに PCIe 経由で転送します。その分の GPU メモリが KV キャッシュ"
            "に回ります。全トークンで転送が発生するため遅く、本番ではなく実験向けです。ホストに"
            "十分なメモリが必要です。例: --cpu-offload-gb 10",
        ),
        memory=t(
            "Moves this many GiB of weights off the GPU (slow).",
            "この量の重みを GPU の外へ移します（低速）。",
        ),
        example="--cpu-offload-gb 10",
    ),
)
