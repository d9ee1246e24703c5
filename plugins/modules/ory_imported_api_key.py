#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_imported_api_key
short_description: Import existing (legacy) API keys into an Ory Network project, one or thousands at a time
version_added: 0.1.0
description:
  - Brings API keys your organisation already handed out under Ory Network (Ory Talos imported keys), so that Ory verifies
    them like the keys it issues. The raw key is sent once, in the import request; Ory keeps only a hash of it.
  - The key is identified by its key id, which Ory computes from the raw key and the project ID (the lowercase hex
    SHA-512/256 of C(<project id> NUL <raw key>)). The module computes the same id, so a rerun finds every key without
    a lookup by name, and imports nothing twice.
  - One key with O(raw_key); or many with O(keys) or O(keys_file) (bulk migration). A bulk run reads the project's imported keys
    once (all pages), imports the missing ones with C(:batchCreate) in batches of at most 1000, updates the ones whose
    O(keys[].name), O(keys[].scopes), O(keys[].metadata), O(keys[].ip_allowlist) or O(keys[].rate_limit) differ, and reports each key that fails
    without stopping the others.
  - O(state=revoked) revokes the key (Ory keeps it for audit; it no longer verifies). O(state=absent) deletes it for good
    (imported keys, unlike issued keys, can be deleted); the raw key can then be imported again.
  - The raw keys never appear in the result, diff, logs or error messages.
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.ACTIONS
attributes:
  action:
    description: An action plugin runs on the controller. It reads O(keys_file) with the run's vault secrets, and hands the keys
      to the module as one hidden value.
    support: full
options:
  raw_key:
    description:
      - The key to import, exactly as your clients send it. Take it from a vault-encrypted variable.
      - Keys shaped like an Ory issued key (C(<prefix>_v1_...)) or like a JWT cannot be imported.
      - Required for O(state=present) with a single key. For O(state=absent) or O(state=revoked), O(key_id) may be given instead.
    type: str
  key_id:
    description:
      - The imported key's id (64 hex characters), to revoke or delete a key whose raw key you no longer have.
    type: str
  project_id:
    description:
      - The project's ID (a UUID, not the slug). Ory computes imported key ids from it.
      - If not set, the environment variable E(ORY_PROJECT_ID) is used.
    type: str
  name:
    description:
      - Name of the key. Required with O(raw_key) and O(state=present). A different name on an existing key renames it.
    type: str
  actor_id:
    description:
      - The user or service the key belongs to. Required with O(raw_key) and O(state=present). Cannot be changed on an imported key.
    type: str
  scopes:
    description:
      - Scopes of the key. Not set leaves them as they are; V([]) removes every scope.
    type: list
    elements: str
  metadata:
    description:
      - Free-form metadata of the key, compared as a whole. V({}) removes it.
    type: dict
  ttl:
    description:
      - Lifetime given to the key when it is imported, such as V(90d) or V(1y). Not set, the project's default lifetime applies.
        An imported key keeps its expiry afterwards.
    type: str
  ip_allowlist:
    description:
      - IPv4 and IPv6 CIDRs the key may be used from. V([]) removes the restriction.
    type: list
    elements: str
  rate_limit:
    description:
      - Rate limit policy recorded on the key. V({}) removes it.
    type: dict
    suboptions:
      quota:
        description: Requests allowed per O(rate_limit.window).
        type: int
      window:
        description: The window, a duration such as V(1m) (whole seconds).
        type: str
  keys:
    description:
      - Bulk import. Each element describes one key like the single-key options. Elements that are invalid or fail are listed
        in RV(failures); the others are imported.
      - Only O(state=present) applies to a bulk import.
    type: list
    elements: dict
    suboptions:
      raw_key:
        description: The key to import. Required; a key without it is reported in RV(failures).
        type: str
      name:
        description: Name of the key. Required; a key without it is reported in RV(failures).
        type: str
      actor_id:
        description: The user or service the key belongs to. Required; a key without it is reported in RV(failures).
        type: str
      scopes:
        description: Scopes of the key.
        type: list
        elements: str
      metadata:
        description: Metadata of the key.
        type: dict
      ttl:
        description: Lifetime given at import.
        type: str
      ip_allowlist:
        description: CIDRs the key may be used from.
        type: list
        elements: str
      rate_limit:
        description: Rate limit policy (C(quota), C(window)).
        type: dict
  keys_file:
    description:
      - Bulk import from an Ansible Vault encrypted YAML vars file on the controller, decrypted with the run's vault secrets
        (C(--vault-id), C(--vault-password-file) or an AWX Vault credential). The variable O(keys_var) in it holds the list, in
        the form of O(keys). A relative path is relative to the playbook.
      - Read by the action plugin, so the keys never pass through task arguments or host variables.
    type: path
  keys_var:
    description:
      - The variable in O(keys_file) that holds the keys.
    type: str
    default: legacy_api_keys
  keys_payload:
    description:
      - Set by the action plugin (the keys of O(keys) or O(keys_file), as one hidden value). Do not set it yourself.
    type: str
  add_metadata:
    description:
      - Metadata added to every key of O(keys) or O(keys_file), over the key's own, for example the bootstrap role's
        marker (C(managed_by) V(ory.network) and C(environment)). Sets the keys' metadata as declared.
    type: dict
  batch_size:
    description:
      - Keys per C(:batchCreate) request in a bulk import (at most 1000).
    type: int
    default: 1000
  fail_on_key_errors:
    description:
      - Whether a bulk import that could not import every key fails the task, after all other keys have been imported.
        V(false) reports the failures in RV(failures) and a warning only.
    type: bool
    default: true
  state:
    description:
      - V(present) imports the key (or keeps it as declared); V(revoked) revokes it; V(absent) deletes it.
    type: str
    choices: [present, revoked, absent]
    default: present
  revoke_reason:
    description:
      - Reason recorded when O(state=revoked).
    type: str
    choices: [key_compromise, affiliation_changed, superseded, privilege_withdrawn]
    default: superseded
  revoke_description:
    description:
      - Free-text explanation recorded with the revocation. Only allowed with O(revoke_reason=privilege_withdrawn).
    type: str
notes:
  - A single import sends a C(request_id), so a retry after a lost response cannot fail as a duplicate.
  - A bulk run that changes nothing costs one list request per 1000 imported keys of the project, and no write.
seealso:
  - module: ory.network.ory_imported_api_key_info
  - module: ory.network.ory_api_key_verify
  - module: ory.network.ory_api_key_audit
"""

EXAMPLES = r"""
# project_id (the project's UUID) comes from ORY_PROJECT_ID here; the raw keys from vault-encrypted variables.
- name: Import the key the billing partner already uses
  ory.network.ory_imported_api_key:
    raw_key: "{{ vault_legacy_billing_key | default('sk_live_example_billing_0001') }}"
    name: billing-partner
    actor_id: partner-billing
    scopes: [invoices:read]
    ttl: 365d

- name: Migrate legacy keys in bulk (with thousands of keys, give keys_file, an Ansible Vault file, instead)
  ory.network.ory_imported_api_key:
    keys:
      - {raw_key: "{{ vault_acme_key | default('sk_live_example_acme_0001') }}", name: acme, actor_id: customer-acme}
      - {raw_key: "{{ vault_globex_key | default('sk_live_example_globex_0001') }}", name: globex, actor_id: customer-globex}
  register: migration

- name: Show what the migration did
  ansible.builtin.debug:
    msg: "{{ migration.summary }} {{ migration.failures }}"

- name: Revoke a legacy key that leaked (nothing to do when it was never imported)
  ory.network.ory_imported_api_key:
    raw_key: "{{ vault_leaked_key | default('sk_live_example_leaked_0001') }}"
    state: revoked
    revoke_reason: key_compromise
"""

RETURN = r"""
api_key:
  description: The imported key after the task (single-key mode), never the raw key; empty when it does not exist.
  returned: when O(keys), O(keys_file) are not used
  type: dict
  sample: {key_id: 9c1e..., name: billing-partner, actor_id: partner-billing, status: KEY_STATUS_ACTIVE, expire_time: "2027-11-29T10:00:00Z"}
key_id:
  description: The key id computed from the raw key (or given), 64 hex characters.
  returned: when O(keys), O(keys_file) are not used
  type: str
  sample: 0d1f3c5e7a9b0d1f3c5e7a9b0d1f3c5e7a9b0d1f3c5e7a9b0d1f3c5e7a9b0d1f
summary:
  description: Bulk import counts. C(total) keys given, C(imported) this run, C(updated) in place, C(unchanged), C(failed).
  returned: with O(keys) or O(keys_file)
  type: dict
  sample: {total: 5000, imported: 0, updated: 0, unchanged: 5000, failed: 0}
failures:
  description: One entry per key that was not imported or updated (C(index) in the list, C(name), C(key_id), C(error)).
  returned: with O(keys) or O(keys_file)
  type: list
  elements: dict
  sample: [{index: 7, name: old-partner, key_id: null, error: "actor_id is required in keys[7]."}]
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.ory.network.plugins.module_utils._api_keys import UsageError, run_module
from ansible_collections.ory.network.plugins.module_utils._client import project_client
from ansible_collections.ory.network.plugins.module_utils._imported import (
    MAX_BATCH, ImportedKeys, Wanted, bulk_import, check_raw_key, check_single, decode_payload, imported_key_id, network_id,
    parse_keys, plan,
)
from ansible_collections.ory.network.plugins.module_utils._options import OptionError, connection_argument_spec
from ansible_collections.ory.network.plugins.module_utils._talos import REVOKE_REASONS, REVOKED, diff_view, present_key, revoke_reason_value

KEY_SUBOPTIONS = dict(
    raw_key=dict(type='str', no_log=True),
    name=dict(type='str'),
    actor_id=dict(type='str'),
    scopes=dict(type='list', elements='str'),
    metadata=dict(type='dict'),
    ttl=dict(type='str'),
    ip_allowlist=dict(type='list', elements='str'),
    rate_limit=dict(type='dict'),
)


def argument_spec():
    return connection_argument_spec(
        raw_key=dict(type='str', no_log=True),
        key_id=dict(type='str'),
        project_id=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        name=dict(type='str'),
        actor_id=dict(type='str'),
        scopes=dict(type='list', elements='str'),
        metadata=dict(type='dict'),
        ttl=dict(type='str'),
        ip_allowlist=dict(type='list', elements='str'),
        rate_limit=dict(type='dict', options=dict(quota=dict(type='int'), window=dict(type='str'))),
        keys=dict(type='list', elements='dict', options=KEY_SUBOPTIONS, no_log=False),
        keys_file=dict(type='path'),
        keys_var=dict(type='str', default='legacy_api_keys', no_log=False),
        keys_payload=dict(type='str', no_log=True),
        add_metadata=dict(type='dict'),
        batch_size=dict(type='int', default=MAX_BATCH),
        fail_on_key_errors=dict(type='bool', default=True),
        state=dict(type='str', default='present', choices=['present', 'revoked', 'absent']),
        revoke_reason=dict(type='str', default='superseded', choices=list(REVOKE_REASONS)),
        revoke_description=dict(type='str'),
    )


def run(module, connection):
    params = module.params
    if params['keys_file']:
        raise UsageError('keys_file is read by the action plugin of ory.network.ory_imported_api_key; run the module as a task.')
    if params['keys'] is not None or params['keys_payload'] is not None:
        return run_bulk(module, connection)
    return run_single(module, connection)


def run_bulk(module, connection):
    params = module.params
    if params['state'] != 'present':
        raise UsageError('keys and keys_file only import keys (state: present); revoke or delete keys one at a time.')
    if not 1 <= params['batch_size'] <= MAX_BATCH:
        raise OptionError('batch_size must be between 1 and %d.' % MAX_BATCH)
    items = decode_payload(params['keys_payload']) if params['keys_payload'] is not None else params['keys']
    network = network_id(params['project_id'])
    wanted, failures = parse_keys(items, network, params['add_metadata'])
    imported = ImportedKeys(project_client(connection))
    result = bulk_import(imported, wanted, failures, module.check_mode, params['batch_size'])
    if result['failures']:
        text = '%d of %d keys could not be imported or updated (see failures); the others were.' % (
            len(result['failures']), result['summary']['total'])
        if params['fail_on_key_errors']:
            result.update(failed=True, msg=text)
        else:
            module.warn(text)
    return result


def run_single(module, connection):
    params = module.params
    check_single(params)
    if params['revoke_description'] and params['revoke_reason'] != 'privilege_withdrawn':
        raise OptionError('revoke_description is only allowed with revoke_reason: privilege_withdrawn.')
    wanted = None
    if params['raw_key'] is not None:
        if params['state'] == 'present':
            wanted = Wanted(params, network_id(params['project_id']))
            key_id = wanted.key_id
        else:
            check_raw_key(params['raw_key'])
            key_id = imported_key_id(network_id(params['project_id']), params['raw_key'])
    else:
        if params['state'] == 'present':
            raise UsageError('raw_key is required with state: present.')
        key_id = params['key_id']
    imported = ImportedKeys(project_client(connection))
    key = imported.get(key_id)
    if params['state'] == 'absent':
        if key is None:
            return dict(changed=False, key_id=key_id, api_key={})
        if not module.check_mode:
            imported.delete(key_id)
        return dict(changed=True, key_id=key_id, api_key={}, diff=dict(before=diff_view(key), after={}))
    if params['state'] == 'revoked':
        if key is None or key.get('status') == REVOKED:
            return dict(changed=False, key_id=key_id, api_key=present_key(key) if key else {})
        if module.check_mode:
            after = dict(key, status=REVOKED, revocation_reason=revoke_reason_value(params['revoke_reason']))
        else:
            imported.revoke(key_id, params['revoke_reason'], params['revoke_description'])
            after = imported.get(key_id) or dict(key, status=REVOKED)
        return dict(changed=True, key_id=key_id, api_key=present_key(after), diff=dict(before=diff_view(key), after=diff_view(after)))
    action, detail = plan(wanted, key)
    if action == 'failure':
        raise UsageError(detail[0].upper() + detail[1:] + '.')
    if action is None:
        return dict(changed=False, key_id=key_id, api_key=present_key(key))
    if action == 'import':
        after = wanted.predicted() if module.check_mode else imported.import_one(wanted)
    else:
        after = dict(key, **detail) if module.check_mode else imported.patch(key_id, detail)
    return dict(changed=True, key_id=key_id, api_key=present_key(after), diff=dict(before=diff_view(key), after=diff_view(after)))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('raw_key', 'keys', 'keys_file', 'keys_payload'), ('raw_key', 'key_id')],
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
