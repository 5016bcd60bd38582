"""Catalog: logging, compilation and kernel switches used while debugging or tuning."""

from __future__ import annotations

from tui.core.catalog.spec import FlagSpec, VersionNote, t

FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="disable_log_stats",
        flag="--disable-log-stats",
        kind="bool",
        group="debug",
        default=False,
        seed=True,
        summary=t(
            "Stop the periodic throughput/KV-usage log lines.",
            "定期的なスループットと KV 使用率のログ出力を止めます。",
        ),
        details=t(
            "vLLM logs 'Avg prompt throughput ... Running ... KV cache usage ...' every 10 s. "
            "On vLLM 0.32 (checked on the CPU build) the flag also removes every vllm: series "
            "from /metrics (0 series after a completion): this app's throughput panel and any "
            "Prometheus/Grafana scraping stay empty. No effect on speed worth measuring. "
            "Example: --disable-log-stats.",
            "vLLM は 10 秒ごとに 'Avg prompt throughput ... Running ... KV cache usage ...' を"
            "ログに出します。vLLM 0.32 では（CPU 版で確認）このフラグで /metrics の vllm: 系列も"
            "すべて消えます（補完後も 0 系列）。このアプリのスループットパネルも Prometheus/"
            "Grafana の収集も空のままになります。速度への影響はほぼありません。"
            "例: --disable-log-stats",
        ),
        example="--disable-log-stats",
    ),
    FlagSpec(
        dest="enforce_eager",
        affects_memory=True,
        flag="--enforce-eager",
        negatable=True,
        kind="bool",
        group="debug",
        default=False,
        seed=True,
        summary=t(
            "Skip torch.compile and CUDA graphs: faster startup, slower inference.",
            "torch.compile と CUDA グラフを省略します。起動は速く、推論は遅くなります。",
        ),
        details=t(
            "Runs the model in plain PyTorch eager mode. Startup is much shorter (no compilation, "
            "no graph capture) and the CUDA-graph memory (0.2-4 GiB) is not needed, but decoding "
            "is noticeably slower, especially for small batches. Use it for quick experiments, "
            "debugging, or when graph capture fails. Example: --enforce-eager.",
            "モデルを通常の PyTorch の eager モードで実行します。起動は大幅に短くなり（コンパイルも"
            "グラフのキャプチャーもなし）、CUDA グラフ用のメモリ（0.2〜4 GiB）も不要になりますが、"
            "特に小さなバッチでデコードが目に見えて遅くなります。手早い実験、デバッグ、またはグラフ"
            "のキャプチャーが失敗するときに使います。例: --enforce-eager",
        ),
        memory=t(
            "Frees the CUDA-graph memory (counted inside the budget since vLLM 0.21).",
            "CUDA グラフ用のメモリが不要になります（vLLM 0.21 以降は予算内で計上）。",
        ),
        example="--enforce-eager",
    ),
    FlagSpec(
        dest="disable_cascade_attn",
        flag="--disable-cascade-attn",
        negatable=True,
        kind="bool",
        group="debug",
        default=None,
        seed=True,
        summary=t(
            "Turn off cascade attention (shared-prefix kernel); mattered before vLLM 0.11.",
            "カスケードアテンション（共有接頭辞カーネル）を無効にします。vLLM 0.11 より前で重要でした。",
        ),
        details=t(
            "Cascade attention speeds up batches whose requests share a long common prefix. In "
            "vLLM before 0.11 it could give wrong results on some GPUs (seen on A100 in RL "
            "rollouts), so RL setups disabled it; Unsloth and later vLLM fixed this, and recent "
            "vLLM decides by itself. Keep it only to reproduce an old setup. No memory effect. "
            "Example: --disable-cascade-attn.",
            "カスケードアテンションは、長い共通接頭辞を持つリクエストのバッチを高速化します。"
            "vLLM 0.11 より前は一部の GPU で誤った結果になることがあり（A100 の強化学習ロール"
            "アウトで確認）、強化学習の構成では無効にしていました。Unsloth とその後の vLLM で修正"
            "され、最近の vLLM は自動で判断します。古い構成を再現する場合にだけ使ってください。"
            "メモリへの影響はありません。例: --disable-cascade-attn",
        ),
        versions=(
            VersionNote(
                t(
                    "Recommended for RL runs on vLLM < 0.11; unnecessary afterwards.",
                    "vLLM 0.11 未満の強化学習で推奨。それ以降は不要。",
                ),
                until="0.11.0",
            ),
        ),
        example="--disable-cascade-attn",
    ),
)
