"""What a rendered resource is, in words no cloud owns: the role policies and later stages target.

A type token (``aws:ec2/securityGroup:SecurityGroup``) names a resource in one provider's schema; a role
(``security-group``) names what it does on any cloud. Every provider sets the role on everything it
renders, so a rule written once against ``firewall-rule`` judges a fourth cloud's firewall rules as well
as the built-in three's, and the provider reads its own resources into neutral facts for the roles that
have them (``facts.py``). The vocabulary is closed: a role outside it is a validation error, and a new
one is added here (the links, balancers and DNS work will add theirs).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    # -- the deployment itself ---------------------------------------------------------------------------
    #: an explicit Pulumi provider (one per cloud and region)
    PROVIDER = "provider"
    #: a container every resource of a region lives in (an Azure resource group)
    RESOURCE_GROUP = "resource-group"

    # -- networks and how traffic flows ------------------------------------------------------------------
    NETWORK = "network"
    SUBNET = "subnet"
    #: a set of firewall rules applied together (an AWS security group, an Azure network security group)
    SECURITY_GROUP = "security-group"
    #: one rule admitting or denying traffic, in either direction (its facts say which)
    FIREWALL_RULE = "firewall-rule"
    ROUTE_TABLE = "route-table"
    ROUTE = "route"
    #: which route table a subnet uses
    ROUTE_TABLE_ASSOCIATION = "route-table-association"
    INTERNET_GATEWAY = "internet-gateway"
    #: outbound-only internet access for private addresses (NAT gateways, Cloud NAT)
    NAT_GATEWAY = "nat-gateway"
    #: a cloud router (BGP, NAT configuration)
    ROUTER = "router"
    PUBLIC_IP = "public-ip"
    #: what joins two sites of a stack network: a peering, or one VPN connection / tunnel (facts: ``LinkFacts``)
    LINK = "link"
    #: a site's own VPN gateway (AWS virtual private gateway, Azure virtual network gateway, GCP HA VPN gateway)
    VPN_GATEWAY = "vpn-gateway"
    #: a site's record of the other side's VPN gateway (customer / local network / external VPN gateway)
    PEER_GATEWAY = "peer-gateway"
    #: a BGP session or interface of a cloud router
    BGP_PEER = "bgp-peer"
    #: routes learned over a link installed in a route table (AWS route propagation)
    ROUTE_PROPAGATION = "route-propagation"
    #: a reserved range of private addresses (for a peered service network)
    ADDRESS_RANGE = "address-range"
    #: a private connection to the cloud's managed-service network (GCP private service access)
    SERVICE_PEERING = "service-peering"
    DNS_ZONE = "dns-zone"
    #: a DNS zone made visible to a network
    DNS_LINK = "dns-link"
    #: a zone's record set (a global name's records, a certificate's validation record)
    DNS_RECORD = "dns-record"
    #: an internet-facing load balancer (facts: ``BalancerFacts``)
    BALANCER = "balancer"
    #: a port a balancer listens on, and what it does with a request (facts: ``ListenerFacts``)
    BALANCER_LISTENER = "balancer-listener"
    #: the replicas a balancer sends to, with its health check (target group, backend pool; ``BackendFacts``)
    BALANCER_BACKEND = "balancer-backend"
    #: replicas (an instance group) joined to a balancer's backend
    BALANCER_ATTACHMENT = "balancer-attachment"
    #: a DNS health check of a balancer (Route 53 health check, Traffic Manager endpoint monitor)
    HEALTH_CHECK = "health-check"
    #: a TLS certificate the cloud issues and renews (ACM, Google-managed)
    CERTIFICATE = "certificate"
    #: a web application firewall's rules (WAFv2 web ACL, Azure WAF policy, Cloud Armor policy)
    WEB_FIREWALL = "web-firewall"
    #: a web firewall attached to a balancer
    WEB_FIREWALL_ATTACHMENT = "web-firewall-attachment"
    FLOW_LOG = "flow-log"
    LOG_GROUP = "log-group"

    # -- compute ---------------------------------------------------------------------------------------
    INSTANCE = "instance"
    #: how to build instances (AWS launch template, GCP instance template)
    INSTANCE_TEMPLATE = "instance-template"
    #: a fixed number of like instances (AWS auto scaling group, GCP managed instance group, Azure scale set)
    INSTANCE_GROUP = "instance-group"
    NETWORK_INTERFACE = "network-interface"
    DISK = "disk"

    # -- identity and secrets --------------------------------------------------------------------------
    #: what a workload runs as (AWS IAM role and instance profile, GCP service account)
    IDENTITY = "identity"
    #: permissions granted to an identity
    IDENTITY_GRANT = "identity-grant"
    #: an encryption key
    KEY = "key"
    #: a store of keys and secrets (Azure key vault)
    KEY_STORE = "key-store"
    #: a secret generated inside the engine's encrypted state (a password, a private key)
    SECRET = "secret"

    # -- data ------------------------------------------------------------------------------------------
    DATABASE = "database"
    #: the subnets a managed database may use
    DATABASE_SUBNETS = "database-subnets"
    DATABASE_USER = "database-user"
    #: a database's settings held in a resource of its own (an RDS parameter group)
    DATABASE_SETTING = "database-setting"
    #: a database inside a database server
    LOGICAL_DATABASE = "logical-database"
    #: an object store with its settings (an S3 or GCS bucket, an Azure storage account)
    BUCKET = "bucket"
    #: a container of objects inside a bucket-like account (an Azure blob container)
    BUCKET_CONTAINER = "bucket-container"
    #: who may access a bucket's objects (a bucket policy, an IAM binding on a bucket)
    BUCKET_POLICY = "bucket-policy"
    #: one of a bucket's settings held in a resource of its own (public-access block, encryption, versioning)
    BUCKET_SETTING = "bucket-setting"
