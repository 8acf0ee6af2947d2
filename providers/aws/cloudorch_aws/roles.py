"""The neutral role of every pulumi-aws type this plugin renders or reads."""

from __future__ import annotations

from cloudorch.rendering.roles import Role

ROLES: dict[str, Role] = {
    "pulumi:providers:aws": Role.PROVIDER,
    # network
    "aws:ec2/vpc:Vpc": Role.NETWORK,
    "aws:ec2/subnet:Subnet": Role.SUBNET,
    "aws:ec2/internetGateway:InternetGateway": Role.INTERNET_GATEWAY,
    "aws:ec2/eip:Eip": Role.PUBLIC_IP,
    "aws:ec2/natGateway:NatGateway": Role.NAT_GATEWAY,
    "aws:ec2/routeTable:RouteTable": Role.ROUTE_TABLE,
    "aws:ec2/route:Route": Role.ROUTE,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Role.ROUTE_TABLE_ASSOCIATION,
    "aws:ec2/securityGroup:SecurityGroup": Role.SECURITY_GROUP,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Role.SECURITY_GROUP,
    "aws:ec2/securityGroupRule:SecurityGroupRule": Role.FIREWALL_RULE,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": Role.FIREWALL_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": Role.FIREWALL_RULE,
    "aws:ec2/flowLog:FlowLog": Role.FLOW_LOG,
    "aws:cloudwatch/logGroup:LogGroup": Role.LOG_GROUP,
    "aws:lb/loadBalancer:LoadBalancer": Role.BALANCER,
    # links
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": Role.LINK,
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": Role.LINK,
    "aws:ec2/vpnConnection:VpnConnection": Role.LINK,
    "aws:ec2/vpnGateway:VpnGateway": Role.VPN_GATEWAY,
    "aws:ec2/customerGateway:CustomerGateway": Role.PEER_GATEWAY,
    "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation": Role.ROUTE_PROPAGATION,
    "aws:lb/listener:Listener": Role.BALANCER_LISTENER,
    # serving
    "aws:lb/targetGroup:TargetGroup": Role.BALANCER_BACKEND,
    "aws:acm/certificate:Certificate": Role.CERTIFICATE,
    "aws:acm/certificateValidation:CertificateValidation": Role.CERTIFICATE,
    "aws:wafv2/webAcl:WebAcl": Role.WEB_FIREWALL,
    "aws:wafv2/webAclAssociation:WebAclAssociation": Role.WEB_FIREWALL_ATTACHMENT,
    "aws:route53/zone:Zone": Role.DNS_ZONE,
    "aws:route53/record:Record": Role.DNS_RECORD,
    "aws:route53/healthCheck:HealthCheck": Role.HEALTH_CHECK,
    # compute
    "aws:ec2/instance:Instance": Role.INSTANCE,
    "aws:ec2/launchTemplate:LaunchTemplate": Role.INSTANCE_TEMPLATE,
    "aws:autoscaling/group:Group": Role.INSTANCE_GROUP,
    "aws:ebs/volume:Volume": Role.DISK,
    # identity and keys
    "aws:iam/role:Role": Role.IDENTITY,
    "aws:iam/instanceProfile:InstanceProfile": Role.IDENTITY,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Role.IDENTITY_GRANT,
    "aws:kms/key:Key": Role.KEY,
    # data
    "aws:rds/instance:Instance": Role.DATABASE,
    "aws:rds/subnetGroup:SubnetGroup": Role.DATABASE_SUBNETS,
    "aws:rds/parameterGroup:ParameterGroup": Role.DATABASE_SETTING,
    "aws:s3/bucket:Bucket": Role.BUCKET,
    "aws:s3/bucketV2:BucketV2": Role.BUCKET,
    "aws:s3/bucketPolicy:BucketPolicy": Role.BUCKET_POLICY,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Role.BUCKET_SETTING,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Role.BUCKET_SETTING,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": Role.BUCKET_SETTING,
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": Role.BUCKET_SETTING,
    "aws:s3/bucketVersioning:BucketVersioning": Role.BUCKET_SETTING,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": Role.BUCKET_SETTING,
    "aws:s3/bucketLogging:BucketLogging": Role.BUCKET_SETTING,
    "aws:s3/bucketLoggingV2:BucketLoggingV2": Role.BUCKET_SETTING,
}
