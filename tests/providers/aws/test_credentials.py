"""Where pulumi-aws would find credentials (the AWS SDKs' chain, as boto3 resolves it)."""

from __future__ import annotations

from cloudorch.plugins import load_provider


def _bare(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_credentials_anywhere(monkeypatch, tmp_path):
    _bare(monkeypatch, tmp_path)
    assert "no AWS credentials" in load_provider("aws").engine_credentials()


def test_a_shared_profile(monkeypatch, tmp_path):
    _bare(monkeypatch, tmp_path)
    (tmp_path / "credentials").write_text("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n")
    assert load_provider("aws").engine_credentials() is None


def test_environment_keys(monkeypatch, tmp_path):
    _bare(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    assert load_provider("aws").engine_credentials() is None
