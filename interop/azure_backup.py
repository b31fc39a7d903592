"""Azure's own Python clients for full backup and restore, unchanged but for
the endpoint: azure-keyvault-administration's KeyVaultBackupClient backs the
emulated HSM up into Azurite and restores it (whole, and one key), and
azure-storage-blob lists what the backup wrote. Run by
interop/azure-backup.sh, which starts Azurite and the emulator and activates it.

    python azure_backup.py HSM_URL CA_PEM TOKEN_FILE ADMIN_OBJECT_ID CONTAINER_URL PATH_STYLE_URL SAS_FILE

CONTAINER_URL is the "production style" URL the HSM is given
(http://devstoreaccount1.blob.localhost:PORT/CONTAINER: the client reads the
container from its path, as from a real account's); PATH_STYLE_URL is the
same container as http://127.0.0.1:PORT/devstoreaccount1/CONTAINER, for the
storage client, whose resolver does not know .localhost names.
"""
import sys
import uuid

from azure.core.exceptions import HttpResponseError
from azure.keyvault.administration import (
    KeyVaultAccessControlClient,
    KeyVaultBackupClient,
    KeyVaultRoleScope,
)
from azure.keyvault.keys import KeyClient
from azure.storage.blob import ContainerClient
from emulator import StaticToken, client_options

url, ca, token_file, admin, container_url, path_style_url, sas_file = sys.argv[1:8]
sas = open(sas_file).read().strip()
common = client_options(ca)
credential = StaticToken(token_file)
# The clients' own poll interval is 5 s; the emulator's jobs take a fraction of that.
fast = dict(_polling_interval=0.3)

access = KeyVaultAccessControlClient(url, credential, **common)
definitions = {d.role_name: d for d in access.list_role_definitions(KeyVaultRoleScope.GLOBAL)}
# Crypto User to make keys, Crypto Officer to purge them (the disaster below).
for role in ("Managed HSM Crypto User", "Managed HSM Crypto Officer"):
    access.create_role_assignment(KeyVaultRoleScope.GLOBAL, definitions[role].id, admin, name=str(uuid.uuid4()))
keys = KeyClient(url, credential, **common)
keys.create_rsa_key("sdk-backup-rsa", size=3072, hardware_protected=True)
keys.create_oct_key("sdk-backup-aes", size=256, hardware_protected=True)
before = {k.name: k.version for k in keys.list_properties_of_keys()}
print(f"keys before the backup: {sorted(before)}")

backup = KeyVaultBackupClient(url, credential, **common)
check = backup.begin_pre_backup(container_url, sas_token=sas, **fast).result()
print(f"begin_pre_backup: {check}")
result = backup.begin_backup(container_url, sas_token=sas, **fast).result()
folder_url = result.folder_url
folder = folder_url.rstrip("/").rsplit("/", 1)[1]
assert folder_url.startswith(container_url + "/mhsm-"), folder_url
print(f"begin_backup: folder_url {folder_url}")

# What storage holds, as Azure's storage client lists it.
blobs = sorted(b.name for b in ContainerClient.from_container_url(f"{path_style_url}?{sas}").list_blobs(name_starts_with=folder + "/"))
for name in ("backup.json", "keys/sdk-backup-rsa", "keys/sdk-backup-aes", "role-assignments"):
    assert f"{folder}/{name}" in blobs, blobs
print(f"azure-storage-blob lists {len(blobs)} blobs in {folder}")

# The keys go; the backup brings them back, whole and one by one.
for name in before:
    keys.begin_delete_key(name, **fast).wait()
    keys.purge_deleted_key(name)
assert not list(keys.list_properties_of_keys())
backup.begin_pre_restore(folder_url, sas_token=sas, **fast).wait()
backup.begin_restore(folder_url, sas_token=sas, key_name="sdk-backup-aes", **fast).wait()
assert [k.name for k in keys.list_properties_of_keys()] == ["sdk-backup-aes"]
print("begin_restore(key_name=sdk-backup-aes): one key back")
backup.begin_restore(folder_url, sas_token=sas, **fast).wait()
after = {k.name: k.version for k in keys.list_properties_of_keys()}
assert after == before, (before, after)
print(f"begin_restore: every key back, same versions: {sorted(after)}")

# A folder that is not there fails the job, and the client says so.
try:
    backup.begin_restore(f"{container_url}/mhsm-nowhere-20250101000000", sas_token=sas, **fast).wait()
    raise SystemExit("a restore of a missing folder succeeded")
except HttpResponseError as e:
    assert "FolderNotFound" in str(e) or "Failed" in str(e), e
    print(f"begin_restore of a missing folder fails: {type(e).__name__}")
print("azure-keyvault-administration backup and restore: OK")
