"""Peer placeholders asked for relative to a DNS zone: the transform survives resolution, or is done at once."""

from __future__ import annotations

import pytest

from cloudorch.rendering import RenderedResource, ref
from cloudorch.rendering.elements import ElementProblem, peer_ref, resolve

ZONE = "shop.example.com"
CERT_NAME = ref("cert", "domainValidationOptions", path=(0, "resourceRecordName"))


def _resolved(export):
    record = RenderedResource(name="record", type="azure-native:dns:RecordSet", cloud="azure", inputs={
        "relativeRecordSetName": peer_ref("names", 1, "validation_names", 0, relative_to=ZONE),
        "cnameRecord": {"cname": peer_ref("names", 1, "validation_values", 0)}})
    exports = {("names", 1): {"validation_names": [export], "validation_values": [ref("cert", "value")]}}
    return resolve([record], exports)[0].inputs


def test_a_reference_carries_the_zone_to_deploy_time():
    inputs = _resolved(CERT_NAME)
    assert inputs["relativeRecordSetName"] == CERT_NAME | {"relative_to": ZONE}
    assert inputs["cnameRecord"] == {"cname": ref("cert", "value")}  # only what asked for it
    assert "relative_to" not in CERT_NAME  # the exporter's reference is not changed in place


def test_a_plain_name_is_made_relative_at_once():
    assert _resolved("_a1.www.shop.example.com.")["relativeRecordSetName"] == "_a1.www"


@pytest.mark.parametrize(("export", "words"), [
    ("_a1.www.elsewhere.org.", "not in the zone"),
    (ref("cert", "x", relative_to="example.org"), "only a name or a single reference"),
    ([CERT_NAME], "only a name or a single reference"),
])
def test_what_cannot_be_made_relative_is_the_asking_providers_bug(export, words):
    with pytest.raises(ElementProblem, match=words) as caught:
        _resolved(export)
    assert caught.value.cloud == "azure" and "record" in str(caught.value)
