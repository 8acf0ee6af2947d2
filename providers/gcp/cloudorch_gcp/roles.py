"""The neutral role of every pulumi-gcp (and random) type this plugin renders or reads."""

from __future__ import annotations

from cloudorch.rendering.roles import Role

ROLES: dict[str, Role] = {
    "pulumi:providers:gcp": Role.PROVIDER,
    # network
    "gcp:compute/network:Network": Role.NETWORK,
    "gcp:compute/subnetwork:Subnetwork": Role.SUBNET,
    "gcp:compute/firewall:Firewall": Role.FIREWALL_RULE,
    "gcp:compute/router:Router": Role.ROUTER,
    "gcp:compute/routerNat:RouterNat": Role.NAT_GATEWAY,
    "gcp:compute/globalAddress:GlobalAddress": Role.ADDRESS_RANGE,
    "gcp:servicenetworking/connection:Connection": Role.SERVICE_PEERING,
    "gcp:compute/networkPeeringRoutesConfig:NetworkPeeringRoutesConfig": Role.SERVICE_PEERING,
    "gcp:compute/address:Address": Role.PUBLIC_IP,
    "gcp:compute/route:Route": Role.ROUTE,
    # links
    "gcp:compute/networkPeering:NetworkPeering": Role.LINK,
    "gcp:compute/vPNTunnel:VPNTunnel": Role.LINK,
    "gcp:compute/haVpnGateway:HaVpnGateway": Role.VPN_GATEWAY,
    "gcp:compute/externalVpnGateway:ExternalVpnGateway": Role.PEER_GATEWAY,
    "gcp:compute/routerInterface:RouterInterface": Role.BGP_PEER,
    "gcp:compute/routerPeer:RouterPeer": Role.BGP_PEER,
    # compute
    "gcp:compute/instance:Instance": Role.INSTANCE,
    "gcp:compute/instanceTemplate:InstanceTemplate": Role.INSTANCE_TEMPLATE,
    "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager": Role.INSTANCE_GROUP,
    "gcp:compute/disk:Disk": Role.DISK,
    # serving (balancer.py, dns.py). A GCP load balancer is a chain of parts: the URL map is what the console
    # calls the balancer; each forwarding rule is a listener (address and port); target proxies and SSL
    # policies join a listener to the balancer, as does a URL map that only redirects (roles set per resource)
    "gcp:compute/uRLMap:URLMap": Role.BALANCER,
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": Role.BALANCER_LISTENER,
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": Role.BALANCER_ATTACHMENT,
    "gcp:compute/targetHttpProxy:TargetHttpProxy": Role.BALANCER_ATTACHMENT,
    "gcp:compute/sSLPolicy:SSLPolicy": Role.BALANCER_ATTACHMENT,
    "gcp:compute/backendService:BackendService": Role.BALANCER_BACKEND,
    # a passthrough network balancer is its regional forwarding rule and a regional backend service
    "gcp:compute/forwardingRule:ForwardingRule": Role.BALANCER,
    "gcp:compute/regionBackendService:RegionBackendService": Role.BALANCER_BACKEND,
    "gcp:compute/healthCheck:HealthCheck": Role.HEALTH_CHECK,
    "gcp:compute/regionHealthCheck:RegionHealthCheck": Role.HEALTH_CHECK,
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": Role.CERTIFICATE,
    "gcp:compute/securityPolicy:SecurityPolicy": Role.WEB_FIREWALL,
    "gcp:dns/managedZone:ManagedZone": Role.DNS_ZONE,
    "gcp:dns/recordSet:RecordSet": Role.DNS_RECORD,
    # identity, keys and secrets
    "gcp:serviceaccount/account:Account": Role.IDENTITY,
    "gcp:kms/cryptoKey:CryptoKey": Role.KEY,
    "gcp:kms/keyRing:KeyRing": Role.KEY_STORE,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": Role.IDENTITY_GRANT,
    "gcp:projects/serviceIdentity:ServiceIdentity": Role.IDENTITY,
    "random:index/randomPassword:RandomPassword": Role.SECRET,
    # data
    "gcp:sql/databaseInstance:DatabaseInstance": Role.DATABASE,
    "gcp:sql/user:User": Role.DATABASE_USER,
    "gcp:sql/database:Database": Role.LOGICAL_DATABASE,
    "gcp:storage/bucket:Bucket": Role.BUCKET,
    "gcp:storage/bucketIAMBinding:BucketIAMBinding": Role.BUCKET_POLICY,
}
