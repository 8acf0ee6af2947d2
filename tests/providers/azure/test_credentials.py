"""Where azure-native would find credentials, looked at before apply/destroy ask to confirm."""

from __future__ import annotations

import json

import pytest

from cloudorch_azure.credentials import missing

PRINCIPAL = {"ARM_CLIENT_ID": "id", "ARM_TENANT_ID": "tenant", "ARM_SUBSCRIPTION_ID": "sub"}


@pytest.fixture
def no_cli(tmp_path):
    return {"AZURE_CONFIG_DIR": str(tmp_path)}


@pytest.mark.parametrize("signs_in", [{"ARM_CLIENT_SECRET": "s"}, {"ARM_CLIENT_CERTIFICATE_PATH": "/c.pem"},
                                      {"ARM_USE_OIDC": "true"}, {"ARM_OIDC_TOKEN": "t"}])
def test_a_service_principal_with_a_way_to_sign_in(no_cli, signs_in):
    assert missing(no_cli | PRINCIPAL | signs_in) is None


def test_a_principal_needs_a_tenant_and_a_way_to_sign_in(no_cli):
    assert "ARM_TENANT_ID" in missing(no_cli | {"ARM_CLIENT_ID": "id", "ARM_CLIENT_SECRET": "s"})
    assert "nothing signs it in" in missing(no_cli | PRINCIPAL)


def test_a_managed_identity_needs_a_subscription(no_cli):
    assert missing(no_cli | {"ARM_USE_MSI": "true", "ARM_SUBSCRIPTION_ID": "sub"}) is None
    assert "ARM_SUBSCRIPTION_ID" in missing(no_cli | {"ARM_USE_MSI": "true"})


def test_the_cli_login_and_its_default_subscription(tmp_path):
    env = {"AZURE_CONFIG_DIR": str(tmp_path)}
    assert "no `az login`" in missing(env)
    profile = {"subscriptions": [{"id": "a", "isDefault": False}, {"id": "b", "isDefault": True}]}
    # the Azure CLI writes its profile with a byte-order mark
    (tmp_path / "azureProfile.json").write_text(json.dumps(profile), encoding="utf-8-sig")
    assert missing(env) is None
    (tmp_path / "azureProfile.json").write_text("{not json")
    assert "no `az login`" in missing(env)
