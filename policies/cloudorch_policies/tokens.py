"""Pulumi type tokens from the providers' schemas, in one place: for the rules about one cloud's own features
(IMDSv2, Azure storage accounts, ...) and for the fixtures. Rules about neutral matters (network exposure,
databases, buckets) target roles instead, and see every cloud's resources."""

# AWS
AWS_SG = "aws:ec2/securityGroup:SecurityGroup"
AWS_DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
AWS_SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AWS_INSTANCE = "aws:ec2/instance:Instance"
AWS_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_EBS = "aws:ebs/volume:Volume"
AWS_VPC = "aws:ec2/vpc:Vpc"
AWS_SUBNET = "aws:ec2/subnet:Subnet"
AWS_FLOW_LOG = "aws:ec2/flowLog:FlowLog"
AWS_RDS = "aws:rds/instance:Instance"
AWS_RDS_PARAMETERS = "aws:rds/parameterGroup:ParameterGroup"
AWS_S3 = "aws:s3/bucket:Bucket"
AWS_S3_V2 = "aws:s3/bucketV2:BucketV2"
AWS_BUCKETS = (AWS_S3, AWS_S3_V2)
AWS_S3_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
AWS_S3_SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
AWS_S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
AWS_S3_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
AWS_KMS_KEY = "aws:kms/key:Key"
AWS_LB_LISTENER = "aws:lb/listener:Listener"
AWS_LB = "aws:lb/loadBalancer:LoadBalancer"
AWS_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
AWS_IAM_ROLE = "aws:iam/role:Role"
AWS_IAM_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

# Azure (azure-native)
AZ_NSG = "azure-native:network:NetworkSecurityGroup"
AZ_SECURITY_RULE = "azure-native:network:SecurityRule"
AZ_VM = "azure-native:compute:VirtualMachine"
AZ_VMSS = "azure-native:compute:VirtualMachineScaleSet"
AZ_DISK = "azure-native:compute:Disk"
AZ_NIC = "azure-native:network:NetworkInterface"
AZ_POSTGRES = "azure-native:dbforpostgresql:Server"
AZ_MYSQL = "azure-native:dbformysql:Server"
AZ_DATABASES = (AZ_POSTGRES, AZ_MYSQL)
AZ_STORAGE = "azure-native:storage:StorageAccount"
AZ_CONTAINER = "azure-native:storage:BlobContainer"
AZ_BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
AZ_VAULT = "azure-native:keyvault:Vault"
AZ_KEY = "azure-native:keyvault:Key"
AZ_DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
AZ_MANAGEMENT_POLICY = "azure-native:storage:ManagementPolicy"

# GCP
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
GCP_INSTANCE = "gcp:compute/instance:Instance"
GCP_TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
GCP_DISK = "gcp:compute/disk:Disk"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
GCP_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
GCP_BUCKET = "gcp:storage/bucket:Bucket"
GCP_BUCKET_IAM = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
GCP_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"

