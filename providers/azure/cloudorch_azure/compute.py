"""Compute on Azure: one Flexible virtual machine scale set per slot, plus the resource's ingress rules.

Ingress rules go on the network's subnet security group rather than a group per scale set: Azure
evaluates the subnet's group and a NIC's group in turn, so a per-resource group would still need every
rule mirrored on the subnet. Narrowing a rule to one resource's VMs inside a shared subnet would need
application security groups, which the pinned schema subset does not include; give resources that must
not share ingress their own network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cloudorch.placement.model import Slot
from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.rendering.roles import Role
from cloudorch.spec.models import Compute, Ingress

from cloudorch_azure import keys
from cloudorch_azure.balancer import backend_pool, backend_rules, front_name
from cloudorch_azure.images import image_reference
from cloudorch_azure.naming import CLOUD, balancer_prefix, logical, make, rg_ref, slug
from cloudorch_azure.network import DENY_PRIORITY, FIRST_INGRESS_PRIORITY, nsg_name, port_range, security_rule, subnet_name

VMSS = "azure-native:compute:VirtualMachineScaleSet"
SSH_KEY = "tls:index/privateKey:PrivateKey"
ADMIN_USER = "azureuser"
# Azure's Linux marketplace images ship a 30 GiB OS disk; a smaller diskSizeGB is rejected.
MIN_OS_DISK_GB = 30

# Size names read Standard_<family><vcpus>[-<constrained>]<features>_v<n>; an "s" feature means the
# size takes premium SSDs.
_SIZE = re.compile(r"^Standard_[A-Z]+\d+(?:-\d+)?([a-z]*)")


def os_disk_type(instance_type: str) -> str:
    match = _SIZE.match(instance_type)
    return "Premium_LRS" if match and "s" in match.group(1) else "StandardSSD_LRS"


def ingress_priorities(ctx: RenderContext, network: str, region: str) -> dict[tuple[str, int, str], int]:
    """(resource, rule index, cidr) -> priority, for every compute resource sharing this subnet group.

    Numbered in name order over the whole subnet so two resources never collide on a priority.
    """
    return ctx.memo(("azure-ingress-priorities", network, region), lambda: _number_rules(ctx, network, region))


def _number_rules(ctx: RenderContext, network: str, region: str) -> dict[tuple[str, int, str], int]:
    out: dict[tuple[str, int, str], int] = {}
    priority = FIRST_INGRESS_PRIORITY
    for name, placement in ctx.placed(Compute):
        spec = ctx.stack.resources[name]
        if spec.network != network or (CLOUD, region) not in placement.locations:
            continue
        for index, rule in enumerate(spec.ingress):
            for cidr in ctx.source_cidrs(rule):
                if priority >= DENY_PRIORITY:
                    raise ValueError(f"too many ingress rules on network {network!r} in azure/{region}")
                out[(name, index, cidr)] = priority
                priority += 1
    return out


def _ingress(ctx: RenderContext, name: str, spec: Compute, region: str) -> Iterator[RenderedResource]:
    priorities = ingress_priorities(ctx, spec.network, region)
    nsg = nsg_name(spec.network, region)
    # Named by position within the resource, not by priority: another resource's new rule may shift
    # priorities (an in-place update) but must not rename, and so replace, this one.
    count = 0
    for index, rule in enumerate(spec.ingress):
        for cidr in ctx.source_cidrs(rule):
            priority = priorities[(name, index, cidr)]
            count += 1
            yield security_rule(
                logical(name, region, f"ingress-{count}"), region, name, ctx.stack.stack, nsg,
                priority=priority, source_prefix=cidr, ports=port_range(rule.port, rule.to_port),
                protocol=rule.protocol.capitalize(), description=_describe(name, rule),
            )


def _describe(name: str, rule: Ingress) -> str:
    return f"{name}: {rule.protocol} {port_range(rule.port, rule.to_port)} from {rule.from_}"


def _vmss_name(name: str, region: str, slot: Slot, slots_here: int) -> str:
    if slots_here == 1:
        return logical(name, region, "vmss")
    return logical(name, region, f"vmss-{slug(slot.instance_type)}" + ("-spot" if slot.spot else ""))


def _scale_set(ctx: RenderContext, name: str, spec: Compute, slot: Slot, vmss: str, key: str) -> RenderedResource:
    region = slot.region
    ip_config: dict = {"name": "ipconfig", "primary": True, "subnet": {"id": ref(subnet_name(spec.network, region), "id")}}
    balancer = ctx.balancer_of(name, region)
    if balancer is not None:  # replicas join their balancer's backend pool
        ip_config |= backend_pool(ctx, balancer)
    # One rule for all clouds: a public address exactly when something outside private space must reach in.
    if ctx.public_facing(spec):
        # Standard public IPs are closed until a security rule admits traffic; Basic ones are retired.
        ip_config["publicIPAddressConfiguration"] = {
            "name": "public", "sku": {"name": "Standard", "tier": "Regional"}, "deleteOption": "Delete",
        }
    profile: dict = {
        "osProfile": {
            "computerNamePrefix": name,
            "adminUsername": ADMIN_USER,
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "provisionVMAgent": True,
                "ssh": {"publicKeys": [{
                    "path": f"/home/{ADMIN_USER}/.ssh/authorized_keys",
                    "keyData": ref(key, "publicKeyOpenssh"),
                }]},
            },
        },
        "storageProfile": {
            "imageReference": image_reference(spec.image, spec.arch, region),
            "osDisk": {
                "createOption": "FromImage",
                "caching": "ReadWrite",
                "osType": "Linux",
                "deleteOption": "Delete",
                "diskSizeGB": max(spec.disk_gb, MIN_OS_DISK_GB),
                # Managed disks are always encrypted at rest (server-side encryption), with platform-managed
                # keys unless the resource asks for its own. No securityProfile.encryptionAtHost: it fails
                # on any subscription that has not registered the Microsoft.Compute/EncryptionAtHost feature.
                "managedDisk": {"storageAccountType": os_disk_type(slot.instance_type), **_disk_key(spec, region)},
            },
        },
        "networkProfile": {
            "networkApiVersion": "2020-11-01",
            "networkInterfaceConfigurations": [{
                "name": "nic", "primary": True, "deleteOption": "Delete", "ipConfigurations": [ip_config],
            }],
        },
        # Azure has no instance-metadata v1/v2 switch like EC2's IMDSv2: its metadata endpoint always
        # demands the Metadata header and is unreachable from outside the VM, so there is nothing to set.
        "priority": "Spot" if slot.spot else "Regular",
    }
    if slot.spot:
        # maxPrice -1: pay up to the on-demand price, be evicted only for capacity, never for price.
        profile |= {"evictionPolicy": "Delete", "billingProfile": {"maxPrice": -1}}
    inputs: dict = {
        "resourceGroupName": rg_ref(ctx.stack.stack, region),
        "location": region,
        # Flexible is Azure's recommended mode for new scale sets and the only one whose per-VM public IPs
        # can be Standard SKU.
        "orchestrationMode": "Flexible",
        "platformFaultDomainCount": 1,
        "singlePlacementGroup": False,
        "sku": {"name": slot.instance_type, "capacity": slot.count},
        # Manual: a changed model reaches running VMs when they are upgraded or replaced, never in an
        # all-at-once reimage; rolling upgrades would need a health probe cloudorch does not render.
        "upgradePolicy": {"mode": "Manual"},
        "virtualMachineProfile": profile,
        "tags": ctx.tags(name),
    }
    if slot.zones:
        inputs["zones"] = list(slot.zones)
    # the backend pool is a part of the gateway: it must exist before a scale set names it
    depends = (front_name(balancer),) if balancer is not None else ()
    return make(vmss, VMSS, region, name, inputs, depends_on=depends)


def _disk_key(spec: Compute, region: str) -> dict:
    """With ``customer_managed_key``, the disks are encrypted through the site's disk encryption set
    (keys.py), which holds the site's Key Vault key; otherwise with platform-managed keys."""
    return {"diskEncryptionSet": keys.disk_encryption(spec.network, region)} if spec.customer_managed_key else {}


def render_compute(ctx: RenderContext) -> list[RenderedResource]:
    out: list[RenderedResource] = []
    for name, placement in ctx.placed(Compute):
        spec = ctx.stack.resources[name]
        slots = sorted(
            (s for s in placement.slots if s.cloud == ctx.cloud),
            key=lambda s: (s.region, s.instance_type, s.spot),
        )
        for region in sorted({s.region for s in slots}):
            here = [s for s in slots if s.region == region]
            key = logical(name, region, "ssh-key")
            # RSA rather than Ed25519: Azure documents only ssh-rsa keys of 2048+ bits for its VM API.
            out.append(RenderedResource(
                name=key, type=SSH_KEY, role=Role.SECRET, cloud=ctx.cloud, region=region, source=name,
                inputs={"algorithm": "RSA", "rsaBits": 4096},
                secret_outputs=("privateKeyPem", "privateKeyOpenssh"),
            ))
            out.extend(_ingress(ctx, name, spec, region))
            balancer = ctx.balancer_of(name, region)
            if balancer is not None:
                gateway = balancer.protocol != "tcp"  # a Standard Load Balancer has no subnet of its own
                out += backend_rules(ctx, balancer, balancer_prefix(ctx.block_for(spec.network, region).cidr) if gateway else "")
            for slot in here:
                out.append(_scale_set(ctx, name, spec, slot, _vmss_name(name, region, slot, len(here)), key))
    return out
