"""The neutral role of every azure-native (and random/tls) type this plugin renders or reads."""

from __future__ import annotations

from cloudorch.rendering.roles import Role

ROLES: dict[str, Role] = {
    "pulumi:providers:azure-native": Role.PROVIDER,
    "azure-native:resources:ResourceGroup": Role.RESOURCE_GROUP,
    # network
    "azure-native:network:VirtualNetwork": Role.NETWORK,
    "azure-native:network:Subnet": Role.SUBNET,
    "azure-native:network:NetworkSecurityGroup": Role.SECURITY_GROUP,
    "azure-native:network:SecurityRule": Role.FIREWALL_RULE,
    "azure-native:network:PublicIPAddress": Role.PUBLIC_IP,
    "azure-native:network:NatGateway": Role.NAT_GATEWAY,
    "azure-native:network:NetworkInterface": Role.NETWORK_INTERFACE,
    # links
    "azure-native:network:VirtualNetworkPeering": Role.LINK,
    "azure-native:network:VirtualNetworkGateway": Role.VPN_GATEWAY,
    "azure-native:network:LocalNetworkGateway": Role.PEER_GATEWAY,
    "azure-native:network:VirtualNetworkGatewayConnection": Role.LINK,
    "azure-native:privatedns:PrivateZone": Role.DNS_ZONE,
    "azure-native:privatedns:VirtualNetworkLink": Role.DNS_LINK,
    # serving
    "azure-native:network:ApplicationGateway": Role.BALANCER,
    "azure-native:network:LoadBalancer": Role.BALANCER,
    "azure-native:network:WebApplicationFirewallPolicy": Role.WEB_FIREWALL,
    "azure-native:managedidentity:UserAssignedIdentity": Role.IDENTITY,
    "azure-native:dns:Zone": Role.DNS_ZONE,
    "azure-native:dns:RecordSet": Role.DNS_RECORD,
    # a profile answers the name's queries (a steered record); each endpoint is monitored (a health check)
    "azure-native:trafficmanager:Profile": Role.DNS_RECORD,
    "azure-native:trafficmanager:Endpoint": Role.HEALTH_CHECK,
    # compute
    "azure-native:compute:VirtualMachine": Role.INSTANCE,
    "azure-native:compute:VirtualMachineScaleSet": Role.INSTANCE_GROUP,
    "azure-native:compute:Disk": Role.DISK,
    # identity, keys and secrets
    "azure-native:keyvault:Vault": Role.KEY_STORE,
    "azure-native:keyvault:Key": Role.KEY,
    # binds scale-set disks to a key: what the disks' encryption is granted through
    "azure-native:compute:DiskEncryptionSet": Role.IDENTITY_GRANT,
    "random:index/randomPassword:RandomPassword": Role.SECRET,
    "tls:index/privateKey:PrivateKey": Role.SECRET,
    # data
    "azure-native:dbforpostgresql:Server": Role.DATABASE,
    "azure-native:dbformysql:Server": Role.DATABASE,
    "azure-native:storage:StorageAccount": Role.BUCKET,
    "azure-native:storage:BlobContainer": Role.BUCKET_CONTAINER,
    "azure-native:storage:BlobServiceProperties": Role.BUCKET_SETTING,
    # cloudorch renders diagnostic settings only for a storage account's blob access logs
    "azure-native:monitor:DiagnosticSetting": Role.BUCKET_SETTING,
    "azure-native:storage:ManagementPolicy": Role.BUCKET_SETTING,
}
