"""`vllm-tui MODEL` (as `vllm serve MODEL` is typed) opens the app on that model."""

from __future__ import annotations

from typing import Any

import pytest

from tui.cli import main


class FakeApp:
    return_code = 0

    def run(self) -> None:
        pass


@pytest.fixture
def opened(monkeypatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_make_app(**kw: Any) -> FakeApp:
        seen.update(kw)
        return FakeApp()

    monkeypatch.setattr("tui.app.make_app", fake_make_app)
    return seen


def test_a_model_id_opens_the_app_on_it(opened):
    assert main(["Qwen/Qwen3-8B", "--lang", "ja"]) == 0
    assert opened["model"] == "Qwen/Qwen3-8B" and opened["lang"] == "ja"


def test_a_local_model_directory_opens_the_app_on_it(opened, tmp_path):
    assert main([str(tmp_path)]) == 0
    assert opened["model"] == str(tmp_path)


def test_a_mistyped_subcommand_is_still_an_error(opened, capsys):
    assert main(["estmate"]) == 2
    assert "unknown subcommand" in capsys.readouterr().err
    assert not opened
