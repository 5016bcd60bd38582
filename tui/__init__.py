"""vllm-tui: plan, launch and watch vLLM servers from the terminal."""

__version__ = "0.1.0"
