"""The layering is a checked contract: import-linter's contracts in pyproject.toml, run over the real code.

One direction of flow (a stage imports only the stages before it), no import cycle inside a stage, the
core never imports a plugin, and each cloud SDK (and Pulumi) only where it belongs.
"""

from __future__ import annotations

import pytest

from tests.support import ROOT

cli = pytest.importorskip("importlinter.cli")


def _lint(config, capsys) -> tuple[int, str]:
    code = cli.lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return code, capsys.readouterr().out


def test_every_import_contract_is_kept(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out = _lint(ROOT / "pyproject.toml", capsys)
    assert "Contracts: " in out and " kept, 0 broken." in out, out[-4000:]
    assert code == 0


def test_the_contract_catches_a_back_arrow(tmp_path, capsys, monkeypatch):
    """The same machinery on a contract the code breaks on purpose (rendering sits on placement), so a
    contract that silently checked nothing would fail here."""
    config = tmp_path / "reversed.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["cloudorch"]\n\n[[tool.importlinter.contracts]]\n'
        'id = "reversed"\nname = "reversed"\ntype = "layers"\nlayers = ["cloudorch.placement", "cloudorch.rendering"]\n'
    )
    monkeypatch.chdir(ROOT)
    code, out = _lint(config, capsys)
    assert code != 0 and "cloudorch.rendering is not allowed to import cloudorch.placement" in out
