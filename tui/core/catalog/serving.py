"""Catalog: the HTTP endpoint, access control and the scheduler's batch limits."""

from __future__ import annotations

from tui.core.catalog.spec import FlagSpec, VersionNote, t

FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="host",
        flag="--host",
        kind="str",
        group="serving",
        default=None,
        tool_default="127.0.0.1",
        summary=t(
            "Address to listen on (this tool: 127.0.0.1; vLLM itself: every interface).",
            "待ち受けるアドレス（このツールの既定は 127.0.0.1、vLLM 自体の既定は全インターフェース）。",
        ),
        details=t(
            "vLLM binds every interface when --host is not given, which exposes the model to the "
            "network. This tool defaults to 127.0.0.1 (reach it through an SSH tunnel: "
            "ssh -L 8000:localhost:8000 host). Use 0.0.0.0 only behind a firewall or with "
            "--api-key. Example: --host 0.0.0.0.",
            "vLLM は --host がないと全インターフェースで待ち受け、モデルをネットワークに公開します。"
            "このツールの既定は 127.0.0.1 です（SSH トンネル経由で接続: ssh -L 8000:localhost:8000 "
            "host）。0.0.0.0 はファイアウォールの内側か --api-key と併用する場合だけにしてください。"
            "例: --host 0.0.0.0",
        ),
        example="--host 0.0.0.0",
    ),
    FlagSpec(
        dest="port",
        flag="--port",
        kind="int",
        group="serving",
        default=8000,
        minimum=1,
        maximum=65535,
        seed=True,
        summary=t(
            "TCP port of the OpenAI-compatible server (default 8000).",
            "OpenAI 互換サーバーの TCP ポート（既定は 8000）。",
        ),
        details=t(
            "Clients reach the server at http://localhost:PORT/v1 (e.g. http://localhost:8000/v1/"
            "chat/completions). Change it to run several servers on one machine; the port must be "
            "free or startup fails with 'address already in use'. Example: --port 8001.",
            "クライアントは http://localhost:PORT/v1（例: http://localhost:8000/v1/chat/completions）"
            "で接続します。1 台で複数のサーバーを動かすときに変更します。ポートが空いていないと "
            "'address already in use' で起動に失敗します。例: --port 8001",
        ),
        example="--port 8001",
    ),
    FlagSpec(
        dest="api_key",
        flag="--api-key",
        kind="str",
        group="serving",
        default=None,
        secret=True,
        env="VLLM_API_KEY",
        seed=True,
        summary=t(
            "Password clients must send as 'Authorization: Bearer <key>' (optional).",
            "クライアントが 'Authorization: Bearer <key>' で送るべきパスワード（任意）。",
        ),
        details=t(
            "Without it anyone who reaches the port can use the model. This tool passes the key "
            "through the VLLM_API_KEY environment variable, never on the command line (argv is "
            "visible to every user in 'ps'), and masks it in previews, logs and profiles. Only the "
            "/v1 routes are protected; /health and /metrics stay open. Example: --api-key sk-...",
            "これがないと、ポートに到達できる人は誰でもモデルを使えます。このツールはキーを"
            "コマンドライン（argv は 'ps' で全ユーザーに見えます）ではなく環境変数 VLLM_API_KEY で"
            "渡し、プレビュー・ログ・プロファイルではマスクします。保護されるのは /v1 のルートだけで、"
            "/health と /metrics は公開されたままです。例: --api-key sk-...",
        ),
        example="--api-key sk-local-123",
    ),
    FlagSpec(
        dest="served_model_name",
        flag="--served-model-name",
        kind="list",
        group="serving",
        default=None,
        summary=t(
            "Name(s) clients use in the 'model' field (default: the model path or id).",
            "クライアントが 'model' フィールドで使う名前（既定はモデルのパスまたは ID）。",
        ),
        details=t(
            "Lets clients say 'model': 'llama' instead of a long path or HF id; several names are "
            "aliases for the same model (the first is reported in metrics). Example: "
            "--served-model-name llama-70b.",
            "長いパスや HF の ID の代わりに 'model': 'llama' のように指定できるようにします。複数の"
            "名前は同じモデルの別名になります（メトリクスには最初の名前が使われます）。"
            "例: --served-model-name llama-70b",
        ),
        example="--served-model-name llama-70b",
    ),
    FlagSpec(
        dest="max_num_seqs",
        affects_memory=True,
        flag="--max-num-seqs",
        kind="int",
        group="serving",
        default=None,
        minimum=1,
        summary=t(
            "Most requests the scheduler runs in one batch (default 256; 1024 on H100-class).",
            "スケジューラが 1 バッチで実行する最大リクエスト数（既定 256、H100 クラスでは 1024）。",
        ),
        details=t(
            "Caps concurrency even when the KV cache could hold more. The startup profile also "
            "samples this many requests at once, so the sampler's memory peak grows with it "
            "(requests x vocabulary). Lower it to save a little memory or bound latency under "
            "load; raise it for throughput on big GPUs. Example: --max-num-seqs 64.",
            "KV キャッシュにまだ余裕があっても同時実行数をこの値で制限します。起動時のプロファイル"
            "でもこの数のリクエストを同時にサンプリングするため、サンプラーのメモリのピークは"
            "（リクエスト数 × 語彙数）に比例して増えます。少しメモリを節約したい、あるいは負荷時の"
            "レイテンシを抑えたいなら下げ、大きな GPU でスループットを上げたいなら上げます。"
            "例: --max-num-seqs 64",
        ),
        memory=t(
            "Activation peak grows with max-num-seqs x vocabulary.",
            "活性化のピークは max-num-seqs × 語彙数に比例して増えます。",
        ),
        example="--max-num-seqs 64",
    ),
    FlagSpec(
        dest="max_num_batched_tokens",
        affects_memory=True,
        human_readable=True,
        flag="--max-num-batched-tokens",
        kind="int",
        group="serving",
        default=None,
        minimum=1,
        unit="tokens",
        summary=t(
            "Most tokens processed in one scheduler step (chunked-prefill budget).",
            "1 回のスケジューラステップで処理する最大トークン数（チャンク化プリフィルの予算）。",
        ),
        details=t(
            "Long prompts are cut into chunks of at most this many tokens and mixed with decodes. "
            "Defaults depend on the GPU and entry point (2048 for the server on most GPUs, 8192 "
            "on H100-class, 16384 on B200-class). The memory profile runs one batch of this size, "
            "so a larger value raises the activation peak and leaves less KV cache, but speeds up "
            "prefill. Example: --max-num-batched-tokens 8192.",
            "長いプロンプトはこのトークン数以下のチャンクに分割され、デコードと混ぜて処理されます。"
            "既定値は GPU と起動方法で異なります（多くの GPU でサーバーは 2048、H100 クラスは "
            "8192、B200 クラスは 16384）。メモリプロファイルはこのサイズのバッチを 1 回実行する"
            "ため、大きくすると活性化のピークが上がって KV キャッシュが減りますが、プリフィルは"
            "速くなります。例: --max-num-batched-tokens 8192",
        ),
        memory=t(
            "Sets the profiled batch: bigger = higher activation peak, less KV.",
            "プロファイルするバッチの大きさ。大きいほど活性化のピークが上がり、KV が減ります。",
        ),
        example="--max-num-batched-tokens 8192",
    ),
    FlagSpec(
        dest="enable_prefix_caching",
        flag="--enable-prefix-caching",
        negatable=True,
        kind="bool",
        group="serving",
        default=None,
        summary=t(
            "Reuse KV blocks of identical prompt prefixes across requests (on by default in V1).",
            "同じプロンプト接頭辞の KV ブロックをリクエスト間で再利用します（V1 では既定で有効）。",
        ),
        details=t(
            "Requests sharing a system prompt or chat history skip recomputing it: lower time to "
            "first token at almost no cost. It does not change the KV cache size. Turn it off "
            "(--no-enable-prefix-caching) only for benchmarks that must not hit the cache. "
            "Example: --no-enable-prefix-caching.",
            "システムプロンプトや会話履歴を共有するリクエストはその再計算を省けるため、ほぼ"
            "コストなしで最初のトークンまでの時間が短くなります。KV キャッシュのサイズは変わり"
            "ません。キャッシュに当たってはいけないベンチマークの場合だけ無効にします"
            "（--no-enable-prefix-caching）。例: --no-enable-prefix-caching",
        ),
        example="--enable-prefix-caching",
    ),
    FlagSpec(
        dest="enable_chunked_prefill",
        flag="--enable-chunked-prefill",
        negatable=True,
        kind="bool",
        group="serving",
        default=None,
        summary=t(
            "Split long prompts into chunks and batch them with decodes (always on in V1).",
            "長いプロンプトをチャンクに分け、デコードと一緒にバッチ処理します（V1 では常に有効）。",
        ),
        details=t(
            "Keeps decoding smooth while a long prompt is being processed. In the V0 engine it "
            "was off by default for contexts up to 32k, and then the profile batch was the whole "
            "max-model-len, which is why V0 showed larger activation peaks. V1 always chunks; "
            "--max-num-batched-tokens sets the chunk. Example: --enable-chunked-prefill.",
            "長いプロンプトの処理中もデコードを滞らせません。V0 エンジンでは 32k 以下の文脈では"
            "既定で無効で、プロファイルのバッチが max-model-len 全体になったため、V0 では活性化の"
            "ピークが大きく出ていました。V1 は常にチャンク化し、チャンクの大きさは "
            "--max-num-batched-tokens で決まります。例: --enable-chunked-prefill",
        ),
        versions=(
            VersionNote(
                t(
                    "V0: off by default when max-model-len <= 32k.",
                    "V0: max-model-len が 32k 以下なら既定で無効。",
                ),
                until="0.8.0",
            ),
        ),
        example="--enable-chunked-prefill",
    ),
)
