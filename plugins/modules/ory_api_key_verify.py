#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_api_key_verify
short_description: Check whether an API key is valid for an Ory Network project
version_added: 0.1.0
description:
  - Asks an Ory Network project (Ory Talos) whether a credential is valid, the way a service would before accepting a request.
  - An invalid, expired or revoked key is not a task failure; see RV(is_valid) and RV(error_code).
  - Nothing is changed. The verify call is read-only, so it also runs in check mode.
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.INFO
options:
  credential:
    description:
      - The credential to verify, such as an issued API key (C(ory_ak_...)) or a token derived from one.
    type: str
    required: true
  expected_audiences:
    description:
      - Audiences the credential must name (for derived tokens). API keys themselves name none.
    type: list
    elements: str
seealso:
  - module: ory.network.ory_issued_api_key
"""

EXAMPLES = r"""
- name: Make sure a smoke-test key exists, its secret stored in Ansible Vault
  ory.network.ory_issued_api_key:
    name: smoke-test
    actor_id: svc-smoke
    scopes: [smoke]
    ttl: 7d
    rotate_before: 1d
    vault_dest: vault/smoke-test.yml
    vault_var: smoke_api_key

- name: Load the stored secret
  ansible.builtin.include_vars:
    file: "{{ playbook_dir }}/vault/smoke-test.yml"
  no_log: true

- name: Verify the key as a service would
  ory.network.ory_api_key_verify:
    credential: "{{ smoke_api_key }}"
  register: verified

- name: Fail unless the key is valid and has the expected scope
  ansible.builtin.assert:
    that:
      - verified.is_valid
      - "'smoke' in verified.scopes"
    fail_msg: "The key is not valid: {{ verified.error_code }}"
"""

RETURN = r"""
is_valid:
  description: Whether the credential is valid (it parses, is known, active, not expired and passes its restrictions).
  returned: always
  type: bool
  sample: true
error_code:
  description: Why the credential is not valid, such as V(VERIFICATION_ERROR_REVOKED), V(VERIFICATION_ERROR_EXPIRED) or
    V(VERIFICATION_ERROR_NOT_FOUND); null when valid.
  returned: always
  type: str
  sample: null
error_message:
  description: A sentence explaining RV(error_code); null when valid.
  returned: always
  type: str
  sample: null
key_id:
  description: ID of the verified key; may be null when not valid.
  returned: always
  type: str
  sample: 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b
actor_id:
  description: The user or service the key belongs to; may be null when not valid.
  returned: always
  type: str
  sample: svc-billing
scopes:
  description: Scopes of the key; may be empty when not valid.
  returned: always
  type: list
  elements: str
  sample: [invoices:read]
expire_time:
  description: When the key expires (RFC 3339); may be null when not valid.
  returned: always
  type: str
  sample: "2026-09-29T10:00:00Z"
rate_limit:
  description:
    - How long the task waited for Ory Network's rate limits. The modules pace themselves from the C(x-ratelimit-*) response
      headers (see the R(rate limits guide,ansible_collections.ory.network.docsite.rate_limits)).
  returned: when the task waited for a rate limit or was answered HTTP 429
  type: dict
  sample: {waits: 2, waited_seconds: 5.0, throttled: 0}
  contains:
    waits:
      description: How many times the task waited before sending a request.
      type: int
    waited_seconds:
      description: Seconds spent waiting, in total.
      type: float
    throttled:
      description: Requests answered with HTTP 429; each was sent again after the wait and none counts toward O(retries).
      type: int
"""

from ansible_collections.ory.network.plugins.module_utils._api_keys import run_module
from ansible_collections.ory.network.plugins.module_utils._client import project_client
from ansible_collections.ory.network.plugins.module_utils._options import OryModule, connection_argument_spec
from ansible_collections.ory.network.plugins.module_utils._talos import Talos


def argument_spec():
    return connection_argument_spec(
        credential=dict(type='str', required=True, no_log=True),
        expected_audiences=dict(type='list', elements='str'),
    )


def run(module, connection):
    params = module.params
    response = Talos(project_client(connection)).verify(params['credential'], params['expected_audiences'])
    valid = bool(response.get('is_valid'))
    return dict(
        changed=False,
        is_valid=valid,
        error_code=None if valid else (response.get('error_code') or 'VERIFICATION_ERROR_UNSPECIFIED'),
        error_message=None if valid else response.get('error_message'),
        key_id=response.get('key_id'),
        actor_id=response.get('actor_id'),
        scopes=list(response.get('scopes') or []),
        expire_time=response.get('expire_time'),
    )


def main():
    module = OryModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
