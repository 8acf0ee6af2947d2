"""Customer-managed keys on GCP: a Cloud KMS key ring and key per network site (network and region) whose
disks or databases ask for one (``customer_managed_key``), rotated every 90 days, and the grants that let
each user of the key encrypt and decrypt with it.

Who is granted, and why not the usual service agents:

- disks: Compute Engine makes a disk's key requests as the service account named in ``kmsKeyServiceAccount``
  (the Compute Engine service agent when absent). The agent's address is ``service-<project number>@...``,
  and nothing rendered knows the project number, so each keyed compute resource names its own service
  account there and that account is granted the key;
- Cloud SQL: its service agent exists only once generated (``gcloud beta services identity create
  --service=sqladmin.googleapis.com``), which ``projects.ServiceIdentity`` does and whose ``member`` output
  names it; one for the stack, granted every key a database uses;
- Cloud Storage: its agent is found only through ``storage.getProjectServiceAccount``, a function call
  (data source) that cloudorch's rendering cannot express, and ``projects.ServiceIdentity`` does not serve
  ``storage.googleapis.com``; a keyed bucket is therefore not placed on GCP (``UNSUPPORTED``).

The grant type (``kms.CryptoKeyIAMMember``) and ``projects.ServiceIdentity`` are pulumi-gcp 10.2.0 types
outside the schema subset in ../shared: the subset has no IAM member of a crypto key, and a key nobody may
use would encrypt nothing.
"""

from __future__ import annotations

from cloudorch.rendering import RenderContext, RenderedResource, ref
from cloudorch.spec.models import Compute, Database

from cloudorch_gcp.naming import CLOUD, account_name, labels, resource

KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"

#: the narrowest role that lets a service wrap and unwrap data keys with the key
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
ROTATION_DAYS = 90
#: the longest period encryption.key-rotation accepts (CIS GCP 1.10)
ROTATION_PERIOD = f"{ROTATION_DAYS * 86400}s"
#: how long a destroyed key version can still be restored: time to notice a mistake (KMS's own default)
DESTROY_DELAY = f"{30 * 86400}s"
SQL_AGENT = f"{CLOUD}-cloudsql-agent"
#: the grant of Cloud SQL's agent in a key's grant name; a compute resource's is its account's name
#: (``<name>-gcp-sa``), which never equals it
SQL_GRANTEE = "cloudsql"

#: resource kinds that cannot ask for a key on GCP, and why (placement keeps them off GCP)
UNSUPPORTED = {
    "bucket": "the gcp plugin cannot grant Cloud Storage's service agent a Cloud KMS key: its address is found only "
              "by a function call (storage.getProjectServiceAccount), which cloudorch's rendering cannot express",
}


def key_name(network: str, region: str) -> str:
    """The crypto key of one network site: its keyed disks and databases use it."""
    return f"{network}-{CLOUD}-{region}-key"


def grant_name(network: str, region: str, user: str) -> str:
    return f"{key_name(network, region)}-{user}-grant"


def disk_key(network: str, region: str, account: str) -> dict:
    """An instance template disk's ``diskEncryptionKey``: the site's key, used as the resource's own account."""
    return {"kmsKeySelfLink": ref(key_name(network, region), "id"), "kmsKeyServiceAccount": ref(account, "email")}


def render_keys(ctx: RenderContext) -> list[RenderedResource]:
    """The key ring, key and grants of every site a keyed resource on GCP uses."""
    users: dict[tuple[str, str], set[str]] = {}
    for kind in (Compute, Database):
        for name, placement in ctx.placed(kind):
            spec = ctx.stack.resources[name]
            if not spec.customer_managed_key:
                continue
            for slot in placement.slots:
                if slot.cloud == CLOUD:
                    users.setdefault((spec.network, slot.region), set()).add(name)
    out: list[RenderedResource] = []
    if any(isinstance(ctx.stack.resources[n], Database) for names in users.values() for n in names):
        # global: one identity per project, whatever the region
        out.append(resource(SQL_AGENT, SERVICE_IDENTITY, None, None, {"service": "sqladmin.googleapis.com"}))
    for (network, region), names in sorted(users.items()):
        out += _site_key(ctx, network, region)
        key = key_name(network, region)
        members = {}
        for name in sorted(names):
            if isinstance(ctx.stack.resources[name], Database):
                members[SQL_GRANTEE] = ref(SQL_AGENT, "member")
            else:
                members[account_name(name)] = ref(account_name(name), "member")
        out += [resource(grant_name(network, region, user), KEY_MEMBER, region, network, {
            "cryptoKeyId": ref(key, "id"), "role": ENCRYPTER, "member": member,
        }) for user, member in sorted(members.items())]
    return out


def _site_key(ctx: RenderContext, network: str, region: str) -> list[RenderedResource]:
    ring, key = f"{network}-{CLOUD}-{region}-keyring", key_name(network, region)
    return [
        # no names: key rings and keys can never be deleted on GCP (destroying one only forgets it), so a
        # fixed name would collide when the stack is created again; Pulumi's suffixed names do not
        resource(ring, KEY_RING, region, network, {"location": region}),
        resource(key, CRYPTO_KEY, region, network, {
            "keyRing": ref(ring, "id"),
            "purpose": "ENCRYPT_DECRYPT",
            "rotationPeriod": ROTATION_PERIOD,
            "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
            "destroyScheduledDuration": DESTROY_DELAY,
            "labels": labels(ctx, None),
        }),
    ]
