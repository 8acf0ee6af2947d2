"""Customer-managed keys on Azure: what cloudorch would render, and why it renders none yet.

A key would live in a Key Vault per network site (purge protection and soft delete on, as Azure requires
before a service may use a key), with a rotation policy, and a user-assigned identity granted wrap / unwrap
on it through the vault's access policies; storage accounts (``encryption.keySource: Microsoft.Keyvault``)
and flexible servers (``dataEncryption``) would name the key and the identity, and scale-set disks a disk
encryption set. The vault, the access policies, the identity and both consumers' fields are in the
azure-native 3.29.0 schema subset cloudorch renders against, but the key itself (``keyvault:Key``) is not,
nor is ``compute:DiskEncryptionSet``: rendering around a key that nothing creates would be a fake, so each
kind keeps a gap with its reason, and placement keeps keyed resources off Azure (``plan --explain``).
"""

from __future__ import annotations

#: the types a keyed resource of each kind needs that the schema subset lacks
MISSING = {
    "compute": ("azure-native:keyvault:Key", "azure-native:compute:DiskEncryptionSet"),
    "database": ("azure-native:keyvault:Key",),
    "bucket": ("azure-native:keyvault:Key",),
}

_WHAT = {
    "compute": "scale-set disks use a key only through a disk encryption set",
    "database": "a flexible server's dataEncryption names a Key Vault key",
    "bucket": "a storage account's Microsoft.Keyvault encryption names a Key Vault key",
}

#: resource kinds that cannot ask for a key on Azure, and why (placement keeps them off Azure)
UNSUPPORTED = {
    kind: f"the azure plugin cannot render customer-managed keys for a {kind} resource: {_WHAT[kind]}, and "
          f"{' and '.join(t.removeprefix('azure-native:') for t in types)} "
          f"{'are' if len(types) > 1 else 'is'} outside the azure-native schema subset it renders against"
    for kind, types in MISSING.items()
}
