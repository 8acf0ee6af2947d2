"""Compute on GCP: an instance template and a regional managed instance group per slot.

The service account and firewall rules belong to the resource, not to a slot, so they are rendered once
however many regions the replicas span.
"""

from __future__ import annotations

from collections import Counter

from cloudorch.placement.model import Slot
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Compute

from cloudorch_gcp.balancer import backend_rules, balanced
from cloudorch_gcp.images import image_for
from cloudorch_gcp.keys import disk_key, grant_name
from cloudorch_gcp.naming import CLOUD, account_id, account_name, labels, network_tag, resource, rfc1035
from cloudorch_gcp.network import ingress_rules, subnet_name

INSTANCE_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
REGION_MIG = "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"

#: enough for the OS agents to ship logs and metrics; the account itself holds no roles
SCOPES = ["https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring.write"]

#: machine families whose boot disk must be Hyperdisk (they cannot attach Persistent Disk)
_HYPERDISK_FAMILIES = {"c4", "c4a", "c4d", "n4", "n4a", "n4d", "x4", "m4", "a4", "a4x", "h4d"}
#: families whose GPUs come with the machine type; anything else (n1) attaches them as guest accelerators
_BUNDLED_GPU_FAMILIES = {"a2", "a3", "a4", "a4x", "g2", "g4"}
#: the most zones any GCP region has (us-central1: a, b, c, f)
MAX_REGION_ZONES = 4
_ACCELERATORS = {
    "t4": "nvidia-tesla-t4", "v100": "nvidia-tesla-v100", "p100": "nvidia-tesla-p100",
    "p4": "nvidia-tesla-p4", "k80": "nvidia-tesla-k80", "l4": "nvidia-l4", "a100": "nvidia-tesla-a100",
    "a100-80gb": "nvidia-a100-80gb", "h100": "nvidia-h100-80gb",
}


def render_compute(ctx: RenderContext, name: str, spec: Compute, slots: list[Slot]) -> list[RenderedResource]:
    tag = network_tag(ctx, name)
    sa = account_name(name)
    out = [
        # service accounts are project-wide: a global resource, under the global provider
        resource(sa, SERVICE_ACCOUNT, None, name, {
            "accountId": account_id(ctx, name),
            "displayName": f"cloudorch {ctx.stack.stack}/{name}",
            # a dedicated account with no roles instead of the default compute account (Editor on the project)
            "description": "instances of this compute resource; grant roles explicitly",
        })
    ]
    out += ingress_rules(ctx, name, spec.network, spec.ingress, tag)
    # One rule for all clouds: an external IP exactly when something outside private space must reach in
    # (without a load balancer, only an external IP can be reached from there).
    public = ctx.public_facing(spec)
    served = [ctx.balancer_of(name, region) for region in sorted({s.region for s in slots})]
    if any(served):
        out += backend_rules(ctx, name, spec, next(b for b in served if b), tag)
    for slot, prefix in group_prefixes(name, slots):
        out += _group(ctx, name, spec, slot, prefix, tag, sa, public)
    return out


def group_prefixes(name: str, slots: list[Slot]) -> list[tuple[Slot, str]]:
    """Each slot's managed instance group, by the prefix of its names: one slot in a region takes the
    region's name; several are told apart by machine type (and spot, then a counter)."""
    keys = Counter(_slot_key(s) for s in slots)
    per_region = Counter(s.region for s in slots)
    seen: Counter = Counter()
    out = []
    for slot in slots:
        key = _slot_key(slot)
        seen[key] += 1
        if per_region[slot.region] == 1:
            part = ""
        else:
            part = "-".join((slot.instance_type.replace(".", "-"), *(["spot"] if slot.spot else [])))
            if keys[key] > 1:
                part += f"-{seen[key]}"
        out.append((slot, f"{name}-{CLOUD}-{slot.region}" + (f"-{part}" if part else "")))
    return out


def group_names(ctx: RenderContext, name: str, region: str) -> list[str]:
    """The managed instance groups of ``name`` in ``region`` of this cloud (a balancer's backends)."""
    placement = ctx.placement.placements[name]
    slots = [s for s in placement.slots if s.cloud == CLOUD]
    return [f"{prefix}-mig" for slot, prefix in group_prefixes(name, slots) if slot.region == region]


def _slot_key(slot: Slot) -> tuple[str, str, bool]:
    return slot.region, slot.instance_type, slot.spot


def _group(
    ctx: RenderContext, name: str, spec: Compute, slot: Slot, prefix: str, tag: str, sa: str, public: bool
) -> list[RenderedResource]:
    template = f"{prefix}-template"
    family = slot.instance_type.split("-", 1)[0]
    interface: dict = {"subnetwork": ref(subnet_name(spec.network, slot.region), "id")}
    if public:
        interface["accessConfigs"] = [{"networkTier": "PREMIUM"}]
    inputs: dict = {
        "machineType": slot.instance_type,
        "description": f"cloudorch {ctx.stack.stack}/{name}",
        "disks": [{
            "boot": True,
            "autoDelete": True,
            "sourceImage": image_for(spec.image, spec.arch),
            "diskSizeGb": spec.disk_gb,
            "diskType": "hyperdisk-balanced" if family in _HYPERDISK_FAMILIES else "pd-balanced",
            # without a diskEncryptionKey GCP encrypts the disk with a Google-managed key
            **({"diskEncryptionKey": disk_key(spec.network, slot.region, sa)} if spec.customer_managed_key else {}),
            "labels": labels(ctx, name),
        }],
        "networkInterfaces": [interface],
        "canIpForward": False,
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
        # OS Login instead of project-wide keys: access follows IAM, and no key outlives its owner
        "metadata": {"block-project-ssh-keys": "true", "enable-oslogin": "TRUE"},
        "serviceAccount": {"email": ref(sa, "email"), "scopes": SCOPES},
        "scheduling": _scheduling(slot, family),
        "tags": [tag],
        "labels": labels(ctx, name),
    }
    accelerators = _accelerators(slot, family)
    if accelerators:
        inputs["guestAccelerators"] = accelerators
    zones = list(slot.zones)
    # A regional group's surge must be 0 or at least its number of zones. Without an explicit zone list
    # it spreads over every zone of the region, and no GCP region has more than four.
    surge = len(zones) if zones else MAX_REGION_ZONES
    mig: dict = {
        "baseInstanceName": rfc1035(name, max_len=58),  # GCP appends a 5-character suffix per instance
        "region": slot.region,
        "targetSize": slot.count,
        "versions": [{"name": "primary", "instanceTemplate": ref(template, "selfLinkUnique")}],
        "updatePolicy": {
            "type": "PROACTIVE",
            "minimalAction": "REPLACE",
            "maxSurgeFixed": surge,
            "maxUnavailableFixed": 0,
        },
    }
    if zones:
        mig["distributionPolicyZones"] = zones
    # the instances' disks are created with the key: its grant comes first
    grant = (grant_name(spec.network, slot.region, sa),) if spec.customer_managed_key else ()
    mig |= balanced(ctx, name, slot.region)
    return [
        resource(template, INSTANCE_TEMPLATE, slot.region, name, inputs, depends_on=grant),
        resource(f"{prefix}-mig", REGION_MIG, slot.region, name, mig),
    ]


def _scheduling(slot: Slot, family: str) -> dict:
    if slot.spot:
        # STOP rather than DELETE keeps the boot disk, so a reclaimed replica restarts where it left off
        return {
            "provisioningModel": "SPOT",
            "preemptible": True,
            "automaticRestart": False,
            "onHostMaintenance": "TERMINATE",
            "instanceTerminationAction": "STOP",
        }
    # GPUs cannot live-migrate, whether attached or bundled with the machine type (a2/a3/g2 reject
    # MIGRATE even when the slot carries no accelerator details)
    maintenance = "TERMINATE" if slot.accelerator or family in _BUNDLED_GPU_FAMILIES else "MIGRATE"
    return {"provisioningModel": "STANDARD", "automaticRestart": True, "onHostMaintenance": maintenance}


def _accelerators(slot: Slot, family: str) -> list[dict]:
    if not slot.accelerator or not slot.accelerator_count or family in _BUNDLED_GPU_FAMILIES:
        return []
    kind = _ACCELERATORS.get(slot.accelerator.lower(), slot.accelerator.lower())
    return [{"type": kind, "count": slot.accelerator_count}]
