"""Virtual machines: public addresses and login methods."""

from __future__ import annotations

from cloudorch.policy import Policy, Violation, rendered_check
from cloudorch.policy.values import UNKNOWN, flag, get, items

from cloudorch_policies import tokens as T
from cloudorch_policies._meta import fw


@rendered_check(T.AWS_INSTANCE, T.AWS_LAUNCH_TEMPLATE, T.GCP_INSTANCE, T.GCP_TEMPLATE, T.AZ_NIC, T.AZ_VMSS)
def _public_ip(res, ctx):
    inputs = res.inputs
    if res.type == T.AZ_VMSS:
        nics = items(inputs, "virtualMachineProfile.networkProfile.networkInterfaceConfigurations")
        public = any(nic is not UNKNOWN and ip is not UNKNOWN and get(ip, "publicIPAddressConfiguration") is not None
                     for nic in nics for ip in items(nic, "ipConfigurations"))
    elif res.type == T.AWS_INSTANCE:
        public = flag(get(inputs, "associatePublicIpAddress")) is True
    elif res.type == T.AWS_LAUNCH_TEMPLATE:
        public = any(flag(get(nic, "associatePublicIpAddress")) is True for nic in items(inputs, "networkInterfaces"))
    elif res.type == T.AZ_NIC:
        public = any(nic is not UNKNOWN and get(nic, "publicIPAddress") is not None
                     for nic in items(inputs, "ipConfigurations"))
    else:  # GCP: an access config is an external IP
        public = any(nic is not UNKNOWN and bool(items(nic, "accessConfigs"))
                     for nic in items(inputs, "networkInterfaces"))
    return [Violation("instances get a public IP address")] if public else []


PUBLIC_IP = Policy(
    id="compute.public-ip",
    title="Virtual machines have no public IP address",
    severity="medium",
    enforcement="advisory",
    checks=(_public_ip,),
    description="A VM with its own public address bypasses the load balancer and NAT the stack was designed "
                "around; it is reachable wherever its firewall is open.",
    remediation="Admit only private sources in the resource's ingress (`from:` another resource or a private "
                "CIDR): cloudorch then gives it no public address and it reaches the internet through NAT; serve "
                "public traffic through a load balancer.",
    frameworks=fw(("CKV_AWS_88", "CKV_AZURE_119", "CKV_GCP_40"), gcp=("4.9",)),
    tags=("network", "compute"),
)


def _linux_password(profile):
    if profile is UNKNOWN or profile is None or get(profile, "windowsConfiguration") is not None:
        return False
    return flag(get(profile, "linuxConfiguration.disablePasswordAuthentication")) is not True and \
        get(profile, "linuxConfiguration.disablePasswordAuthentication") is not UNKNOWN


@rendered_check(T.AZ_VM, T.AZ_VMSS)
def _password_login(res, ctx):
    path = "osProfile" if res.type == T.AZ_VM else "virtualMachineProfile.osProfile"
    profile = get(res.inputs, path)
    return [Violation("Linux VMs accept password logins")] if _linux_password(profile) else []


PASSWORD_LOGIN = Policy(
    id="compute.password-login",
    title="Linux VMs allow SSH keys only, not passwords",
    severity="high",
    checks=(_password_login,),
    remediation="Set osProfile.linuxConfiguration.disablePasswordAuthentication to true and provide SSH keys.",
    frameworks=fw(("CKV_AZURE_1", "CKV_AZURE_149")),
    tags=("identity", "compute"),
)

POLICIES = (PUBLIC_IP, PASSWORD_LOGIN)
