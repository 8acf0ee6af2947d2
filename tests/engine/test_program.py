"""The inline program under Pulumi's mocks: tokens, providers, resolved references, secrets."""

from __future__ import annotations

from typing import Any

import pytest

from cloudorch.engine.program import GENERATED_SECRETS, ProgramError, build_program, dependency_order, package_of
from cloudorch.rendering.model import RenderedResource, keyed_map, ref

from .conftest import PASSWORD

pulumi = pytest.importorskip("pulumi")

# What the SDK puts in place of a secret value on the wire (pulumi.runtime.rpc._special_secret_sig).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, Any] = {}

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        self.registered[args.name] = args
        outputs = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = PASSWORD
        return f"{args.name}-id", outputs

    def call(self, args: Any) -> dict[str, Any]:
        return {}  # a (dict, None) tuple crashes the mocks (MEASURED.md)


def run_under_mocks(program: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[RecordingMocks, dict[str, Any]]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="cloudorch", stack="dev", preview=False)
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda key, value: exported.__setitem__(key, value))
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> Any:
        program()
        return pulumi.Output.from_input(exported).apply(resolved.update)

    run()
    return mocks, resolved


def test_every_resource_registered_with_its_token_provider_and_inputs(resources, monkeypatch):
    mocks, _ = run_under_mocks(build_program(resources), monkeypatch)

    assert {n: a.typ for n, a in mocks.registered.items()} == {r.name: r.type for r in resources}
    provider_ref = mocks.registered["net-vpc"].provider
    assert "pulumi:providers:aws::aws-eu-west-1::aws-eu-west-1-id" in provider_ref
    assert mocks.registered["orders-db"].provider == provider_ref
    assert not mocks.registered["orders-db-password"].provider  # default provider for random
    assert mocks.registered["aws-eu-west-1"].inputs == {"region": "eu-west-1"}
    assert mocks.registered["net-vpc"].inputs == {"cidrBlock": "10.40.0.0/20", "tags": {"Name": "net"}}


def test_references_resolve_to_the_mocked_outputs(resources, monkeypatch):
    mocks, _ = run_under_mocks(build_program(resources), monkeypatch)

    assert mocks.registered["net-subnet-a"].inputs == {"vpcId": "net-vpc-id", "cidrBlock": "10.40.0.0/24"}
    assert mocks.registered["orders-db"].inputs["dbSubnetGroupName"] == "net-subnet-a-id"


def test_generated_password_reaches_the_database_as_a_secret(resources, monkeypatch):
    mocks, _ = run_under_mocks(build_program(resources), monkeypatch)

    password = mocks.registered["orders-db"].inputs["password"]
    assert isinstance(password, dict) and SECRET_SIG in password.values()  # a secret wrapper, not a bare string
    assert password["value"] == PASSWORD


def test_values_marked_secret_are_wrapped_wherever_they_appear(monkeypatch):
    token = "tok-1234-secret"
    res = [RenderedResource(name="cfg", type="aws:ssm/parameter:Parameter", cloud="aws",
                            inputs={"value": token, "nested": [{"v": token}], "plain": "visible"})]
    mocks, _ = run_under_mocks(build_program(res, secret_values=[token]), monkeypatch)

    inputs = mocks.registered["cfg"].inputs
    assert SECRET_SIG in inputs["value"].values()
    # Secretness propagates up: the SDK sends the whole list containing the value as one secret.
    assert SECRET_SIG in inputs["nested"].values()
    assert inputs["nested"]["value"] == [{"v": token}]
    assert inputs["plain"] == "visible"


def test_stack_outputs_name_stack_resources(resources, monkeypatch):
    _, exported = run_under_mocks(build_program(resources), monkeypatch)
    exported.pop(GENERATED_SECRETS)

    assert exported == {
        "net": {"net-vpc": "net-vpc-id", "net-subnet-a": "net-subnet-a-id"},
        "orders-db": {"orders-db-password": "orders-db-password-id", "orders-db": "orders-db-id"},
    }


def test_dependency_order_puts_dependencies_first(resources):
    order = [r.name for r in dependency_order(list(reversed(resources)))]
    for res in resources:
        for dep in res.dependencies:
            assert order.index(dep) < order.index(res.name)


def test_package_of_tokens():
    assert package_of("pulumi:providers:azure-native") == "azure-native"
    assert package_of("gcp:compute/instance:Instance") == "gcp"


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ([RenderedResource(name="a", type="aws:x:X", cloud="aws", inputs={"v": ref("ghost")})], ["a", "ghost"]),
        ([RenderedResource(name="a", type="aws:x:X", cloud="aws", inputs={"v": ref("b")}),
          RenderedResource(name="b", type="aws:x:X", cloud="aws", depends_on=("a",))], ["cycle", "a -> b -> a"]),
        ([RenderedResource(name="a", type="aws:x:X", cloud="aws"),
          RenderedResource(name="b", type="aws:x:X", cloud="aws", provider="a")], ["provider", "not a pulumi:providers"]),
        ([RenderedResource(name="a", type="aws:x:X", cloud="aws"),
          RenderedResource(name="a", type="aws:y:Y", cloud="aws")], ["two rendered resources"]),
    ],
)
def test_broken_graphs_fail_before_pulumi_is_touched(bad, words, monkeypatch):
    def untouchable(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Pulumi was touched")

    monkeypatch.setattr(pulumi, "CustomResource", untouchable)
    with pytest.raises(ProgramError) as caught:
        build_program(bad)
    assert caught.value.exit_code == 6
    for word in words:
        assert word in caught.value.message


def test_generated_secrets_are_exported_as_one_secret_output(resources, monkeypatch):
    """So that a later run knows, before it starts, every generated value a provider's error could echo."""
    _, exported = run_under_mocks(build_program(resources), monkeypatch)
    assert exported[GENERATED_SECRETS] == {"orders-db-password": {"result": PASSWORD}}
    wrapped = []
    real_secret = pulumi.Output.secret
    monkeypatch.setattr(pulumi.Output, "secret", lambda value: wrapped.append(value) or real_secret(value))
    run_under_mocks(build_program(resources), monkeypatch)
    assert any(isinstance(v, dict) and "orders-db-password" in v for v in wrapped)  # exported as a secret


def keyed(*, secret_key: bool = False) -> list[RenderedResource]:
    """A server carrying an identity in a map keyed by the identity's id, as Azure's PostgreSQL servers do;
    with ``secret_key`` the key is a secret output."""
    return [
        RenderedResource(name="who", type="azure-native:managedidentity:UserAssignedIdentity", cloud="azure",
                         inputs={"resourceName": "who"}, secret_outputs=("clientId",) if secret_key else ()),
        RenderedResource(name="db", type="azure-native:dbforpostgresql:Server", cloud="azure",
                         inputs={"identity": {"type": "UserAssigned", "userAssignedIdentities": keyed_map(
                             [(ref("who", "clientId" if secret_key else "id"), {"principalId": ref("who", "resourceName")})])}}),
    ]


def test_a_map_with_deploy_time_keys_reaches_the_resource_keyed_by_the_real_output(monkeypatch):
    resources = keyed()
    # the identity is registered first: the map's key is a dependency like any reference
    assert [r.name for r in dependency_order(list(reversed(resources)))] == ["who", "db"]
    mocks, _ = run_under_mocks(build_program(resources), monkeypatch)

    assert mocks.registered["db"].inputs["identity"] == {
        "type": "UserAssigned", "userAssignedIdentities": {"who-id": {"principalId": "who"}}}


def test_a_map_keyed_by_a_secret_output_is_sent_as_a_secret(monkeypatch):
    resources = keyed(secret_key=True)
    resources[0] = resources[0].model_copy(update={"inputs": {"resourceName": "who", "clientId": "client-1"}})
    mocks, _ = run_under_mocks(build_program(resources), monkeypatch)

    identity = mocks.registered["db"].inputs["identity"]
    # as with any secret, the SDK sends the whole object holding the map as one secret
    assert SECRET_SIG in identity.values()
    assert identity["value"]["userAssignedIdentities"] == {"client-1": {"principalId": "who"}}


def test_a_map_key_that_resolves_to_no_string_is_named():
    from cloudorch.engine.program import _keyed

    assert _keyed(["a", "b"], [1, {}]) == {"a": 1, "b": {}}
    with pytest.raises(ProgramError, match="resolved to None"):
        _keyed([None], [{}])


def validated(name: str, *, zone: str = "shop.example.com") -> list[RenderedResource]:
    """An ACM-shaped certificate whose validation record ``name`` a zone naming records relatively holds."""
    option = {"resourceRecordName": name, "resourceRecordValue": "_b2.xyz.acm-validations.aws."}
    options = ref("cert", "domainValidationOptions", path=(0, "resourceRecordName"), relative_to=zone)
    return [
        RenderedResource(name="cert", type="aws:acm/certificate:Certificate", cloud="aws",
                         inputs={"domainName": "www.shop.example.com", "domainValidationOptions": [option]}),
        RenderedResource(name="zone", type="azure-native:dns:Zone", cloud="azure", inputs={"zoneName": zone}),
        RenderedResource(name="record", type="azure-native:dns:RecordSet", cloud="azure", inputs={
            "relativeRecordSetName": options, "recordType": "CNAME",
            "cnameRecord": {"cname": ref("cert", "domainValidationOptions", path=(0, "resourceRecordValue"))}}),
        RenderedResource(name="apex", type="azure-native:dns:RecordSet", cloud="azure", inputs={
            "relativeRecordSetName": ref("zone", "zoneName", relative_to=f"{zone.upper()}."), "recordType": "TXT"}),
    ]


def test_a_reference_relative_to_a_zone_resolves_to_the_name_within_it(monkeypatch):
    mocks, _ = run_under_mocks(build_program(validated("_a1.www.Shop.example.com.")), monkeypatch)

    record = mocks.registered["record"].inputs
    assert record["relativeRecordSetName"] == "_a1.www"  # case and the root's dot are DNS's, not the name's
    assert record["cnameRecord"] == {"cname": "_b2.xyz.acm-validations.aws."}  # untouched: no relative_to
    assert mocks.registered["apex"].inputs["relativeRecordSetName"] == "@"


def test_a_reference_outside_its_zone_stops_the_deployment_naming_both(monkeypatch):
    with pytest.raises(ProgramError, match="'_a1.www.other.example.' is not in the zone 'shop.example.com'"):
        run_under_mocks(build_program(validated("_a1.www.other.example.")), monkeypatch)
