"""Catalog: which weights, tokenizer and numerics the server loads."""

from __future__ import annotations

from tui.core.catalog.spec import FlagSpec, t

DTYPES = ("auto", "bfloat16", "float16", "half", "float", "float32")

FLAGS: tuple[FlagSpec, ...] = (
    FlagSpec(
        dest="dtype",
        affects_memory=True,
        blocks_launch=("bf16-unsupported",),
        flag="--dtype",
        kind="choice",
        group="model",
        default="auto",
        choices=DTYPES,
        seed=True,
        summary=t(
            "Compute/weight dtype: auto (from the checkpoint), bfloat16, float16.",
            "計算と重みのデータ型: auto（チェックポイントから）、bfloat16、float16。",
        ),
        details=t(
            "'auto' uses the checkpoint's torch_dtype (bf16 for most modern models; fp16 "
            "checkpoints stay fp16, fp32 ones become bf16). bfloat16 needs compute capability "
            "8.0+ (Ampere or newer); on T4/V100 use --dtype half. Lower-precision formats such as "
            "FP8 are not a dtype: use --quantization. Example: --dtype half.",
            "'auto' はチェックポイントの torch_dtype を使います（最近のモデルの多くは bf16。fp16 の"
            "チェックポイントは fp16 のまま、fp32 のものは bf16 になります）。bfloat16 には Compute "
            "Capability 8.0 以上（Ampere 以降）が必要で、T4/V100 では --dtype half を使います。"
            "FP8 のような低精度形式は dtype ではなく --quantization で指定します。例: --dtype half",
        ),
        memory=t(
            "float32 doubles weight memory; bf16/fp16 are the same size.",
            "float32 は重みのメモリが 2 倍。bf16 と fp16 は同じ大きさです。",
        ),
        example="--dtype bfloat16",
    ),
    FlagSpec(
        dest="tokenizer",
        flag="--tokenizer",
        kind="str",
        group="model",
        default=None,
        seed=True,
        summary=t(
            "Tokenizer to use when it differs from the model's (HF id or path).",
            "モデルと異なるトークナイザーを使う場合の指定（HF の ID またはパス）。",
        ),
        details=t(
            "By default the tokenizer is loaded from the model path. Point it elsewhere when the "
            "weights repo lacks one or you serve a fine-tune that kept the base tokenizer, e.g. "
            "--tokenizer unsloth/gpt-oss-20b. It must match the vocabulary the model was trained "
            "with. No memory cost.",
            "既定ではモデルのパスからトークナイザーを読み込みます。重みのリポジトリにトークナイザーが"
            "ない場合や、ベースのトークナイザーをそのまま使うファインチューンを提供する場合に別の"
            "場所を指定します。例: --tokenizer unsloth/gpt-oss-20b。モデルの学習時と同じ語彙である"
            "必要があります。メモリは消費しません。",
        ),
        example="--tokenizer unsloth/gpt-oss-20b",
    ),
    FlagSpec(
        dest="hf_token",
        flag="--hf-token",
        kind="str",
        group="model",
        default=None,
        secret=True,
        env="HF_TOKEN",
        seed=True,
        summary=t(
            "Hugging Face token for gated or private models (sent via HF_TOKEN).",
            "アクセス制限付き・非公開モデル用の Hugging Face トークン（HF_TOKEN で渡します）。",
        ),
        details=t(
            "Needed for gated repos (Llama, Gemma, some Mistral) after you accepted their licence "
            "on the Hub; a 401/403 'gated repo' error at startup means it is missing or lacks "
            "access. This tool passes it as the HF_TOKEN environment variable, never in argv, and "
            "masks it everywhere it prints. Example: --hf-token hf_...",
            "Hub でライセンスに同意した後、アクセス制限付きリポジトリ（Llama、Gemma、一部の Mistral）"
            "に必要です。起動時に 401/403 の 'gated repo' エラーが出たら、トークンがないか権限が"
            "ありません。このツールは argv ではなく環境変数 HF_TOKEN で渡し、表示するすべての場所で"
            "マスクします。例: --hf-token hf_...",
        ),
        example="--hf-token hf_xxx",
    ),
    FlagSpec(
        dest="seed",
        flag="--seed",
        kind="int",
        group="model",
        default=0,
        minimum=0,
        seed=True,
        summary=t(
            "Random seed for sampling (vLLM's default is 0).",
            "サンプリングの乱数シード（vLLM の既定は 0）。",
        ),
        details=t(
            "Makes sampled outputs reproducible across restarts for the same requests and batch "
            "composition (per-request 'seed' in the API overrides it). Batching and kernels can "
            "still cause small differences on GPUs. Example: --seed 42.",
            "同じリクエストとバッチ構成なら、再起動してもサンプリング結果が再現できるようになります"
            "（API のリクエストごとの 'seed' が優先されます）。GPU ではバッチ処理やカーネルの違いで"
            "わずかな差が出ることがあります。例: --seed 42",
        ),
        example="--seed 42",
    ),
    FlagSpec(
        dest="trust_remote_code",
        flag="--trust-remote-code",
        negatable=True,
        kind="bool",
        group="model",
        default=False,
        summary=t(
            "Allow running Python code shipped in the model repo (custom architectures).",
            "モデルのリポジトリに含まれる Python コードの実行を許可します（独自アーキテクチャ用）。",
        ),
        details=t(
            "Some models (older Qwen, Phi-3 variants, many multimodal ones) need their own "
            "configuration or tokenizer code from the repo. Only enable it for repos you trust: "
            "the code runs with your user's rights. Example: --trust-remote-code.",
            "一部のモデル（古い Qwen、Phi-3 の派生、多くのマルチモーダルモデル）は、リポジトリ内の"
            "独自の設定やトークナイザーのコードを必要とします。信頼できるリポジトリでのみ有効にして"
            "ください。コードはあなたのユーザー権限で実行されます。例: --trust-remote-code",
        ),
        example="--trust-remote-code",
    ),
    FlagSpec(
        dest="download_dir",
        flag="--download-dir",
        kind="path",
        group="model",
        default=None,
        summary=t(
            "Directory to download and cache weights in (default: the Hugging Face cache).",
            "重みをダウンロード・キャッシュするディレクトリ（既定は Hugging Face のキャッシュ）。",
        ),
        details=t(
            "Point it at a large or shared disk when the home directory is small; the same "
            "directory must be given on every run to reuse the download. HF_HOME moves the whole "
            "Hugging Face cache instead. Example: --download-dir /data/models.",
            "ホームディレクトリが小さいときは、大きなディスクや共有ディスクを指定します。ダウンロード"
            "を再利用するには毎回同じディレクトリを指定する必要があります。HF_HOME を使うと Hugging "
            "Face のキャッシュ全体を移動できます。例: --download-dir /data/models",
        ),
        example="--download-dir /data/models",
    ),
    FlagSpec(
        dest="generation_config",
        flag="--generation-config",
        kind="str",
        group="model",
        default="auto",
        summary=t(
            "Where default sampling parameters come from: auto (the model's), vllm, or a folder.",
            "既定のサンプリングパラメータの取得元: auto（モデルのもの）、vllm、またはフォルダ。",
        ),
        details=t(
            "'auto' applies the model's generation_config.json (temperature, top_p...) as the "
            "server's defaults when a request does not set them; 'vllm' ignores it and uses "
            "vLLM's neutral defaults; a path loads generation_config.json from that folder. "
            "Example: --generation-config vllm.",
            "'auto' はリクエストで指定されていないとき、モデルの generation_config.json"
            "（temperature、top_p など）をサーバーの既定値として適用します。'vllm' はそれを無視して "
            "vLLM の中立的な既定値を使います。パスを指定するとそのフォルダの generation_config.json "
            "を読み込みます。例: --generation-config vllm",
        ),
        example="--generation-config vllm",
    ),
)
