#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_issued_api_key_info
short_description: List the API keys an Ory Network project has issued
version_added: 0.1.0
description:
  - Returns the API keys an Ory Network project (Ory Talos) has issued, optionally narrowed by id, name, actor and status.
  - Reads every page of the list. Secrets are never returned; Ory Network does not keep them readable.
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.INFO
options:
  key_id:
    description:
      - Return only this key. An unknown id gives an empty list.
    type: str
  name:
    description:
      - Return only keys with this exact name.
    type: str
  actor_id:
    description:
      - Return only keys of this user or service.
    type: str
  status:
    description:
      - Return only keys in this state. V(active) keys are usable; V(expired) keys have passed their expiry without being revoked.
    type: str
    choices: [active, revoked, expired, any]
    default: any
seealso:
  - module: ory.network.ory_issued_api_key
"""

EXAMPLES = r"""
- name: List the active keys of the billing service
  ory.network.ory_issued_api_key_info:
    actor_id: svc-billing
    status: active
  register: billing_keys

- name: Show the keys that expire within two weeks
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.key_id }}) expires in {{ item.days_to_expiry }} days"
  loop: "{{ billing_keys.api_keys | selectattr('days_to_expiry', 'le', 14) }}"
  loop_control:
    label: "{{ item.key_id }}"
"""

RETURN = r"""
api_keys:
  description: The matching keys, without secrets, ordered by key_id.
  returned: always
  type: list
  elements: dict
  contains:
    key_id:
      description: ID of the key (a UUID).
      type: str
      sample: 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b
    name:
      description: Name of the key.
      type: str
      sample: billing-service
    actor_id:
      description: The user or service the key belongs to.
      type: str
      sample: svc-billing
    scopes:
      description: Scopes of the key.
      type: list
      elements: str
      sample: [invoices:read]
    metadata:
      description: Metadata of the key.
      type: dict
      sample: {team: payments}
    status:
      description: V(KEY_STATUS_ACTIVE), V(KEY_STATUS_REVOKED) or V(KEY_STATUS_EXPIRED).
      type: str
      sample: KEY_STATUS_ACTIVE
    visibility:
      description: V(KEY_VISIBILITY_SECRET) or V(KEY_VISIBILITY_PUBLIC).
      type: str
      sample: KEY_VISIBILITY_SECRET
    create_time:
      description: When the key was issued (RFC 3339).
      type: str
      sample: "2026-07-01T10:00:00Z"
    update_time:
      description: When the key was last changed (RFC 3339).
      type: str
      sample: "2026-07-01T10:00:00Z"
    expire_time:
      description: When the key expires (RFC 3339).
      type: str
      sample: "2026-09-29T10:00:00Z"
    last_used_time:
      description: When the key was last verified (updated at most once a day), or null.
      type: str
      sample: null
    revocation_reason:
      description: Why the key was revoked, such as V(REVOCATION_REASON_SUPERSEDED), or null.
      type: str
      sample: null
    revocation_description:
      description: The explanation recorded with a V(privilege_withdrawn) revocation, or null.
      type: str
      sample: null
    rate_limit_policy:
      description: The rate limit policy (C(quota) as an integer, C(window), C(unit)), or null.
      type: dict
      sample: {quota: 600, window: 60s, unit: requests}
    ip_restriction:
      description: Where the key may be used from (C(allowed_cidrs); empty means no restriction).
      type: dict
      sample: {allowed_cidrs: [10.0.0.0/8]}
    days_to_expiry:
      description: Whole days until the key expires (negative once expired).
      type: int
      sample: 89
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
from ansible_collections.ory.network.plugins.module_utils._talos import (
    ACTIVE, REVOKED, STATUS_CHOICES, Talos, effective_status, present_key,
)


def argument_spec():
    return connection_argument_spec(
        key_id=dict(type='str'),
        name=dict(type='str'),
        actor_id=dict(type='str'),
        status=dict(type='str', default='any', choices=['active', 'revoked', 'expired', 'any']),
    )


def run(module, connection):
    params = module.params
    talos = Talos(project_client(connection))
    wanted = STATUS_CHOICES.get(params['status'])
    if params['key_id']:
        key = talos.get(params['key_id'])
        keys = [key] if key else []
    else:
        # The server filters by actor (and stored status, which needs an actor); expiry is checked here.
        server_status = wanted if wanted in (ACTIVE, REVOKED) else None
        keys = talos.list(actor_id=params['actor_id'], status=server_status)
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
    module = OryModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
