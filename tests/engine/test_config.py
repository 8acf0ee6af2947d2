"""Backend URL and secrets provider resolution."""

from __future__ import annotations

import pytest

from cloudorch.engine.config import resolve_backend_url, resolve_stack_config
from cloudorch.engine.workspace import EngineSettings
from cloudorch.errors import EngineError, UsageError
from cloudorch.project import StackIdentity

DEV = StackIdentity("cloudorch", "dev")


def test_default_backend_is_a_file_backend_inside_the_project(settings):
    url = resolve_backend_url(settings, {})
    assert url == (settings.project_dir / ".cloudorch" / "state").resolve().as_uri()
    assert (settings.project_dir / ".cloudorch" / "state").is_dir()


def test_environment_then_settings_override(settings, tmp_path):
    assert resolve_backend_url(settings, {"PULUMI_BACKEND_URL": "s3://team-state"}) == "s3://team-state"
    override = EngineSettings(project_dir=tmp_path, identity=DEV, backend_url="gs://other")
    assert resolve_backend_url(override, {"PULUMI_BACKEND_URL": "s3://team-state"}) == "gs://other"
    with pytest.raises(UsageError):
        resolve_backend_url(EngineSettings(project_dir=tmp_path, identity=DEV, backend_url="ftp://x"), {})


def test_passphrase_from_cloudorch_env_first(settings):
    config = resolve_stack_config(settings, {"CLOUDORCH_PASSPHRASE": "a-b-c-d-e", "PULUMI_CONFIG_PASSPHRASE": "x"})
    assert config.secrets_provider == "passphrase" and config.passphrase == "a-b-c-d-e"
    assert "a-b-c-d-e" not in repr(config)


def test_passphrase_from_keyring(settings):
    seen = []

    def lookup(service, account):
        seen.append((service, account))
        return "from-keyring"

    assert resolve_stack_config(settings, {}, keyring_lookup=lookup).passphrase == "from-keyring"
    assert seen == [("cloudorch", "cloudorch/dev")]


def test_no_passphrase_anywhere_is_an_engine_error_with_a_hint(settings, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)  # as if `keyring` were not installed
    with pytest.raises(EngineError) as caught:
        resolve_stack_config(settings, {})
    assert caught.value.kind == "auth" and "CLOUDORCH_PASSPHRASE" in caught.value.hint
    assert "keyring" in caught.value.hint


@pytest.mark.parametrize("url", ["awskms://alias/cloudorch?region=eu-west-1",
                                 "azurekeyvault://acme.vault.azure.net/keys/cloudorch",
                                 "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"])
def test_kms_urls_pass_through_without_a_passphrase(tmp_path, url):
    config = resolve_stack_config(EngineSettings(project_dir=tmp_path, identity=DEV, secrets_provider=url), {})
    assert config.secrets_provider == url and config.passphrase is None


def test_unknown_secrets_provider(tmp_path):
    with pytest.raises(UsageError):
        resolve_stack_config(EngineSettings(project_dir=tmp_path, identity=DEV, secrets_provider="rot13"), {})


def test_state_outside_the_project_needs_a_project_name_from_the_config(tmp_path):
    derived = EngineSettings(project_dir=tmp_path, identity=StackIdentity("shop", "dev"), project_named_in_config=False)
    assert resolve_backend_url(derived, {}).startswith("file://")  # the project's own state: any name is safe
    for settings, environ in ((derived, {"PULUMI_BACKEND_URL": "s3://team-state"}),
                              (EngineSettings(project_dir=tmp_path, identity=derived.identity,
                                              project_named_in_config=False, backend_url="gs://team"), {})):
        with pytest.raises(UsageError) as caught:
            resolve_backend_url(settings, environ)
        assert 'project = "shop"' in caught.value.hint
    named = EngineSettings(project_dir=tmp_path, identity=derived.identity, backend_url="gs://team")
    assert resolve_backend_url(named, {}) == "gs://team"


@pytest.mark.parametrize("passphrase", ["", "zq9", "1234567"])
def test_a_passphrase_shorter_than_8_characters_is_refused_without_showing_it(settings, passphrase):
    with pytest.raises(UsageError) as caught:
        resolve_stack_config(settings, {"PULUMI_CONFIG_PASSPHRASE": passphrase})
    message = caught.value.message
    assert f"from PULUMI_CONFIG_PASSPHRASE has {len(passphrase)} character" in message and "at least 8" in message
    assert caught.value.exit_code == 2 and (not passphrase or passphrase not in message + caught.value.hint)
    assert resolve_stack_config(settings, {"PULUMI_CONFIG_PASSPHRASE": "12345678"}).passphrase == "12345678"


def test_a_short_passphrase_from_the_keyring_is_refused_too(settings):
    with pytest.raises(UsageError, match="OS keyring"):
        resolve_stack_config(settings, {}, keyring_lookup=lambda service, account: "abc")


def test_a_password_in_the_backend_url_is_never_shown(tmp_path):
    for url, project_named in (("ftp://admin:hunter2-pw@host/state", True), ("s3://AKIA1:hunter2-pw@minio/x", False)):
        settings = EngineSettings(project_dir=tmp_path, identity=DEV, backend_url=url,
                                  project_named_in_config=project_named)
        with pytest.raises(UsageError) as caught:
            resolve_backend_url(settings, {})
        assert "hunter2-pw" not in caught.value.message + str(caught.value.hint) and "[secret]" in caught.value.message


def test_the_configs_secrets_are_the_passphrase_and_url_credentials(tmp_path):
    settings = EngineSettings(project_dir=tmp_path, identity=DEV, backend_url="postgres://u:pw@db/state")
    config = resolve_stack_config(settings, {"CLOUDORCH_PASSPHRASE": "long-enough-phrase"})
    assert config.secret_values == ["long-enough-phrase", "pw"]
