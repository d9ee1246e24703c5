#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_workspace_api_key_info
short_description: List the API keys of an Ory Network workspace
version_added: 0.1.0
description:
  - Lists the workspace API keys (C(ory_wak_...)) of an Ory Network workspace through the console API, authenticated
    with a workspace API key (O(workspace_api_key)).
  - Returns metadata only. The API never returns the secret of an existing key.
  - Tells which key is the O(workspace_api_key) in use (RV(api_keys[].is_current)).
  - B(Workspace API keys are read-only in this collection.) The Ory Network API does not let a workspace API key create
    or delete workspace API keys; the Ory CLI does that with a logged-in user session. Create and delete workspace API
    keys in the Ory Console or with the Ory CLI, and use this module to audit them (for example their expiry).
options:
  workspace_id:
    description:
      - ID of the workspace whose keys are listed.
      - If not set, the environment variable E(ORY_WORKSPACE_ID) is used.
    type: str
    required: true
  id:
    description:
      - Return only the key with this ID.
    type: str
  name:
    description:
      - Return only the keys with this name (names are not unique, so there can be several).
    type: str
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.INFO
notes:
  - The workspace's keys are listed with one request; the filters are applied locally.
  - When the API answers HTTP 401 or 403, the module fails with a message that names the status and the API's reason.
seealso:
  - module: ory.network.ory_project_api_key_info
author:
  - ory.network collection maintainers (@ory-network-ansible)
"""

EXAMPLES = r"""
# The connection (workspace_api_key, console_api_url) and workspace_id come from module_defaults for
# group/ory.network.ory or from the ORY_* environment variables.

- name: List the workspace API keys
  ory.network.ory_workspace_api_key_info:
  register: workspace_keys

- name: Warn about workspace API keys that expire within 14 days (renew them in the Ory Console)
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.id }}) expires in {{ item.days_to_expiry }} days"
  loop: "{{ workspace_keys.api_keys | selectattr('days_to_expiry', 'ne', None) | selectattr('days_to_expiry', 'lt', 14) }}"
  loop_control:
    label: "{{ item.id }}"

- name: Show the key this playbook runs with
  ansible.builtin.debug:
    msg: "{{ workspace_keys.api_keys | selectattr('is_current') | map(attribute='name') | list }}"
"""

RETURN = r"""
api_keys:
  description: The matching keys, oldest first. Metadata only, never a secret.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: ID of the key.
      returned: always
      type: str
      sample: 4c1d9b1e-2f0a-4a6e-8f67-1b2c3d4e5f60
    name:
      description: Name of the key.
      returned: always
      type: str
      sample: automation
    workspace_id:
      description: ID of the workspace the key belongs to.
      returned: always
      type: str
      sample: 9d2e6a7b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
    owner_id:
      description: ID of the user who created the key.
      returned: always
      type: str
      sample: 8a1f7c2d-0c3b-4a55-b1de-7d2f3c4b5a61
    created_at:
      description: When the key was created, RFC 3339 in UTC.
      returned: always
      type: str
      sample: "2026-07-01T10:00:00Z"
    updated_at:
      description: When the key was last updated, RFC 3339 in UTC.
      returned: always
      type: str
      sample: "2026-07-01T10:00:00Z"
    expires_at:
      description: When the key expires, RFC 3339 in UTC; null when it never expires.
      returned: always
      type: str
      sample: "2027-01-01T00:00:00Z"
    last_characters:
      description: The last characters of the secret, to tell keys apart. May be empty for old keys.
      returned: always
      type: str
      sample: Qw34
    expired:
      description: Whether the key has expired.
      returned: always
      type: bool
      sample: false
    days_to_expiry:
      description: Whole days until the key expires (negative once expired); null when it never expires.
      returned: always
      type: int
      sample: 180
    is_current:
      description: Whether this is the workspace API key in use (O(workspace_api_key)).
      returned: always
      type: bool
      sample: true
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

from ansible.module_utils.basic import env_fallback  # noqa: E402

from ansible_collections.ory.network.plugins.module_utils._api_keys import run_module  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, console_client  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._console import (  # noqa: E402
    WORKSPACE_KEY_FIELDS, explain_workspace_denied, filter_keys, key_facts, list_workspace_keys,
)
from ansible_collections.ory.network.plugins.module_utils._options import OryModule, connection_argument_spec  # noqa: E402


def argument_spec():
    return connection_argument_spec(
        workspace_id=dict(type='str', required=True, fallback=(env_fallback, ['ORY_WORKSPACE_ID'])),
        id=dict(type='str'),
        name=dict(type='str'),
    )


def run(module, connection):
    params = module.params
    client = console_client(connection)
    try:
        keys = list_workspace_keys(client, params['workspace_id'])
    except OryApiError as exc:
        if exc.status in (401, 403):
            raise explain_workspace_denied(exc, params['workspace_id']) from None
        raise
    keys = filter_keys(keys, params['id'], params['name'])
    credential = params.get('workspace_api_key')
    return dict(changed=False, api_keys=[key_facts(k, WORKSPACE_KEY_FIELDS, with_current=True, credential=credential) for k in keys])


def main():
    module = OryModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
