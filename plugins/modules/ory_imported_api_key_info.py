#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_imported_api_key_info
short_description: List the API keys imported into an Ory Network project
version_added: 0.1.0
description:
  - Returns the keys imported into an Ory Network project (Ory Talos imported keys), optionally narrowed by id, raw key,
    name, actor and status. Reads every page of the list.
  - Ory keeps only a hash of an imported key; the raw key is never returned.
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.INFO
options:
  key_id:
    description:
      - Return only this key (64 hex characters). An unknown id gives an empty list.
    type: str
  raw_key:
    description:
      - Return only the key imported from this raw key (its id is computed from O(project_id) and the raw key). Never returned.
    type: str
  project_id:
    description:
      - The project's ID (a UUID), needed with O(raw_key). If not set, the environment variable E(ORY_PROJECT_ID) is used.
    type: str
  name:
    description:
      - Return only keys with this exact name.
    type: str
  actor_id:
    description:
      - Return only keys of this user or service (filtered by the server).
    type: str
  status:
    description:
      - Return only keys in this state.
    type: str
    choices: [active, revoked, expired, any]
    default: any
seealso:
  - module: ory.network.ory_imported_api_key
"""

EXAMPLES = r"""
- name: List the imported keys of one partner
  ory.network.ory_imported_api_key_info:
    actor_id: partner-billing
  register: partner_keys

- name: Is this legacy key imported, and is it still active? (project_id from ORY_PROJECT_ID)
  ory.network.ory_imported_api_key_info:
    raw_key: "{{ vault_legacy_billing_key | default('sk_live_example_billing_0001') }}"
    status: active
  register: legacy
"""

RETURN = r"""
api_keys:
  description:
    - The matching imported keys, ordered by key_id, with the same fields as the issued keys of
      M(ory.network.ory_issued_api_key_info) (C(key_id) is 64 hex characters).
  returned: always
  type: list
  elements: dict
  sample: [{key_id: 9c1e..., name: billing-partner, actor_id: partner-billing, scopes: [invoices:read], status: KEY_STATUS_ACTIVE,
            expire_time: "2027-11-29T10:00:00Z", last_used_time: null, days_to_expiry: 364}]
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.ory.network.plugins.module_utils._api_keys import run_module
from ansible_collections.ory.network.plugins.module_utils._client import project_client
from ansible_collections.ory.network.plugins.module_utils._imported import ImportedKeys, check_raw_key, imported_key_id, network_id
from ansible_collections.ory.network.plugins.module_utils._options import connection_argument_spec
from ansible_collections.ory.network.plugins.module_utils._talos import STATUS_CHOICES, effective_status, present_key


def argument_spec():
    return connection_argument_spec(
        key_id=dict(type='str'),
        raw_key=dict(type='str', no_log=True),
        project_id=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        name=dict(type='str'),
        actor_id=dict(type='str'),
        status=dict(type='str', default='any', choices=['active', 'revoked', 'expired', 'any']),
    )


def run(module, connection):
    params = module.params
    imported = ImportedKeys(project_client(connection))
    key_id = params['key_id']
    if params['raw_key'] is not None:
        check_raw_key(params['raw_key'])
        key_id = imported_key_id(network_id(params['project_id']), params['raw_key'])
    if key_id:
        key = imported.get(key_id)
        keys = [key] if key else []
    else:
        keys = imported.list(actor_id=params['actor_id'])
    wanted = STATUS_CHOICES.get(params['status'])
    selected = []
    for key in keys:
        if params['name'] is not None and key.get('name') != params['name']:
            continue
        if params['actor_id'] is not None and key.get('actor_id') != params['actor_id']:
            continue
        if wanted and effective_status(key) != wanted:
            continue
        selected.append(present_key(key))
    selected.sort(key=lambda k: k.get('key_id') or '')
    return dict(changed=False, api_keys=selected)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[('key_id', 'raw_key')], supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
