"""Azure's own Python clients against the emulator, unchanged: the key client
(RSA and oct keys, CryptographyClient operations, backup, delete, purge,
restore) and the access-control client (role definitions, assignments).
Run by interop/azure-sdk.sh, which starts and activates the emulator.

    python azure_sdk.py HSM_URL CA_PEM TOKEN_FILE ADMIN_OBJECT_ID
"""
import hashlib
import sys
import uuid

from azure.keyvault.administration import KeyVaultAccessControlClient, KeyVaultRoleScope
from azure.keyvault.keys import KeyClient
from emulator import StaticToken, client_options
from azure.keyvault.keys.crypto import (
    CryptographyClient,
    EncryptionAlgorithm,
    KeyWrapAlgorithm,
    SignatureAlgorithm,
)

url, ca, token_file, admin = sys.argv[1:5]
common = client_options(ca)
credential = StaticToken(token_file)

# Local RBAC: what the quickstart does right after activation.
access = KeyVaultAccessControlClient(url, credential, **common)
definitions = {d.role_name: d for d in access.list_role_definitions(KeyVaultRoleScope.GLOBAL)}
assert "Managed HSM Crypto User" in definitions and len(definitions) == 9, sorted(definitions)
for role in ("Managed HSM Crypto User", "Managed HSM Crypto Officer"):
    a = access.create_role_assignment(KeyVaultRoleScope.GLOBAL, definitions[role].id, admin, name=str(uuid.uuid4()))
    assert a.properties.principal_id == admin, a
print(f"access control: {len(definitions)} role definitions; Crypto User and Crypto Officer assigned to {admin}")
app = str(uuid.uuid4())
scoped = access.create_role_assignment("/keys/sdk-rsa", definitions["Managed HSM Crypto User"].id, app)
listed = [x.name for x in access.list_role_assignments("/keys/sdk-rsa")]
assert scoped.name in listed, listed
access.delete_role_assignment("/keys/sdk-rsa", scoped.name)
assert scoped.name not in [x.name for x in access.list_role_assignments("/keys/sdk-rsa")]
print("access control: a key-scoped assignment created, listed and deleted")

keys = KeyClient(url, credential, **common)
rsa = keys.create_rsa_key("sdk-rsa", size=3072, hardware_protected=True)
assert rsa.key_type == "RSA-HSM" and rsa.properties.recoverable_days == 7, rsa
oct_key = keys.create_oct_key("sdk-aes", size=256, hardware_protected=True)
assert oct_key.key_type == "oct-HSM", oct_key
assert {k.name for k in keys.list_properties_of_keys()} == {"sdk-rsa", "sdk-aes"}
print(f"keys: {rsa.name} ({rsa.key_type}, {rsa.properties.recovery_level}), {oct_key.name} ({oct_key.key_type})")

crypto = CryptographyClient(rsa, credential, **common)
for alg in (EncryptionAlgorithm.rsa_oaep, EncryptionAlgorithm.rsa_oaep_256):
    sealed = crypto.encrypt(alg, b"from Azure's own client")
    assert crypto.decrypt(alg, sealed.ciphertext).plaintext == b"from Azure's own client"
wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == b"k" * 32
digest = hashlib.sha256(b"signed by the HSM").digest()
for alg in (SignatureAlgorithm.ps256, SignatureAlgorithm.rs256):
    sig = crypto.sign(alg, digest).signature
    assert crypto.verify(alg, digest, sig).is_valid
    assert not crypto.verify(alg, hashlib.sha256(b"other").digest(), sig).is_valid
print("CryptographyClient (RSA-HSM): RSA-OAEP, RSA-OAEP-256, wrap/unwrap, PS256, RS256")

aes = CryptographyClient(oct_key, credential, **common)
sealed = aes.encrypt(EncryptionAlgorithm.a256_gcm, b"with context", additional_authenticated_data=b"aad")
opened = aes.decrypt(
    EncryptionAlgorithm.a256_gcm,
    sealed.ciphertext,
    iv=sealed.iv,
    authentication_tag=sealed.tag,
    additional_authenticated_data=b"aad",
)
assert opened.plaintext == b"with context"
sealed = aes.encrypt(EncryptionAlgorithm.a256_cbcpad, b"padded plaintext", iv=b"\x01" * 16)
assert aes.decrypt(EncryptionAlgorithm.a256_cbcpad, sealed.ciphertext, iv=sealed.iv).plaintext == b"padded plaintext"
print("CryptographyClient (oct-HSM): A256GCM with AAD, A256CBCPAD")

backup = keys.backup_key("sdk-rsa")
keys.begin_delete_key("sdk-rsa").wait()
assert [d.name for d in keys.list_deleted_keys()] == ["sdk-rsa"]
keys.purge_deleted_key("sdk-rsa")
restored = keys.restore_key_backup(backup)
assert restored.id.split("/")[-1] == rsa.id.split("/")[-1], (restored.id, rsa.id)
print("keys: backup, delete, list deleted, purge, restore (same version)")
print("AZURE SDK INTEROP PASSED")
