"""Azure's own Python management clients against the emulator's Resource
Manager, unchanged but for base_url: a resource group (azure-mgmt-resource),
then a Managed HSM created, read, listed, deleted, found among the deleted,
its name checked, purged, and gone (azure-mgmt-keyvault). Run by
interop/azure-mgmt.sh.

    python azure_mgmt.py ARM_URL CA_PEM TOKEN_FILE ADMIN_OBJECT_ID
"""
import sys
import time

from azure.core.credentials import AccessToken
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import (
    CheckMhsmNameAvailabilityParameters,
    ManagedHsm,
    ManagedHsmProperties,
    ManagedHsmSku,
)
try:  # azure-mgmt-resource 26 moved the client one package down
    from azure.mgmt.resource.resources import ResourceManagementClient
except ImportError:
    from azure.mgmt.resource import ResourceManagementClient

arm_url, ca, token_file, admin = sys.argv[1:5]
token = open(token_file).read().strip()
SUB = "00000000-5555-4666-8777-888888888888"
TENANT = "00000000-0000-0000-0000-000000000000"


class StaticToken:
    """The emulator's bearer token, as a credential (never printed)."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken(token, int(time.time()) + 3600)


common = dict(base_url=arm_url, connection_verify=ca, polling_interval=0.2)
resources = ResourceManagementClient(StaticToken(), SUB, **common)
group = resources.resource_groups.create_or_update("sdk-rg", {"location": "westeurope"})
assert group.name == "sdk-rg" and group.properties.provisioning_state == "Succeeded", group
print(f"azure-mgmt-resource: resource group {group.name} in {group.location}")

kv = KeyVaultManagementClient(StaticToken(), SUB, **common)
name = "sdk-hsm"
assert kv.managed_hsms.check_mhsm_name_availability(CheckMhsmNameAvailabilityParameters(name=name)).name_available
hsm = kv.managed_hsms.begin_create_or_update(
    "sdk-rg",
    name,
    ManagedHsm(
        location="westeurope",
        sku=ManagedHsmSku(family="B", name="Standard_B1"),
        properties=ManagedHsmProperties(
            tenant_id=TENANT, initial_admin_object_ids=[admin], soft_delete_retention_in_days=7
        ),
    ),
).result()
p = hsm.properties
assert p.provisioning_state == "Succeeded", p
assert p.security_domain_properties.activation_status == "NotActivated", p.security_domain_properties
assert p.soft_delete_retention_in_days == 7 and p.initial_admin_object_ids == [admin]
print(f"azure-mgmt-keyvault: created {hsm.name}: {p.provisioning_state}, {p.status_message} ({p.hsm_uri})")
assert [h.name for h in kv.managed_hsms.list_by_resource_group("sdk-rg")] == [name]
assert name in [h.name for h in kv.managed_hsms.list_by_subscription()]
assert kv.managed_hsms.get("sdk-rg", name).name == name

kv.managed_hsms.begin_delete("sdk-rg", name).result()
deleted = kv.managed_hsms.get_deleted(name, "westeurope")
assert deleted.properties.scheduled_purge_date > deleted.properties.deletion_date, deleted.properties
assert name in [d.name for d in kv.managed_hsms.list_deleted()]
taken = kv.managed_hsms.check_mhsm_name_availability(CheckMhsmNameAvailabilityParameters(name=name))
assert not taken.name_available and taken.reason == "AlreadyExists", taken
print(f"azure-mgmt-keyvault: deleted (soft): scheduled purge {deleted.properties.scheduled_purge_date}; name taken")

kv.managed_hsms.begin_purge_deleted(name, "westeurope").result()
assert name not in [d.name for d in kv.managed_hsms.list_deleted()]
assert kv.managed_hsms.check_mhsm_name_availability(CheckMhsmNameAvailabilityParameters(name=name)).name_available
print("azure-mgmt-keyvault: purged; the name is free again")
print("AZURE MANAGEMENT SDK INTEROP PASSED")
