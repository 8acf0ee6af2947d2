"""Reading rendered inputs: a value known only at deploy time reads as UNKNOWN, never as absent."""

from __future__ import annotations

from cloudorch.rendering import keyed_map, ref
from cloudorch.rendering.inputs import UNKNOWN, get, items

INPUTS = {"identity": {"type": "UserAssigned",
                       "userAssignedIdentities": keyed_map([(ref("who", "id"), {"clientId": "c"})])},
          "subnet": ref("net", "id")}


def test_a_map_with_deploy_time_keys_and_every_path_through_it_are_unknown():
    assert get(INPUTS, "identity.type") == "UserAssigned"
    assert get(INPUTS, "identity.userAssignedIdentities") is UNKNOWN
    assert get(INPUTS, "identity.userAssignedIdentities.anything.clientId") is UNKNOWN
    # the marker's own field is no path a reader can take into the map
    assert get(INPUTS, "identity.userAssignedIdentities.$keys") is UNKNOWN
    assert get(INPUTS, "subnet") is UNKNOWN and get(INPUTS, "subnet.name") is UNKNOWN
    assert get(INPUTS, "identity.absent") is None and items(INPUTS, "identity.userAssignedIdentities") == [UNKNOWN]
