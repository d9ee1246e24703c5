#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_project_api_key_info
short_description: List the API keys of an Ory Network project
version_added: 0.1.0
description:
  - Lists the project API keys (C(ory_pat_...)) of an Ory Network project through the console API, authenticated with
    a workspace API key (O(workspace_api_key)).
  - Returns metadata only. The API never returns the secret of an existing key.
  - Tells which key is the O(project_api_key) in use (RV(api_keys[].is_current)), for example to avoid deleting the key
    a playbook runs with.
options:
  project_id:
    description:
      - ID or slug of the project whose keys are listed.
      - If not set, the environment variable E(ORY_PROJECT_ID) is used.
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
  - The project's keys are listed with one request; the filters are applied locally.
seealso:
  - module: ory.network.ory_project_api_key
author:
  - ory.network collection maintainers (@ory-network-ansible)
"""

EXAMPLES = r"""
# The connection (workspace_api_key, console_api_url) and project_id come from module_defaults for
# group/ory.network.ory or from the ORY_* environment variables.

- name: List every API key of the project
  ory.network.ory_project_api_key_info:
  register: project_keys

- name: Show the keys that expire within 30 days
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.id }}) expires at {{ item.expires_at }}"
  loop: "{{ project_keys.api_keys | selectattr('days_to_expiry', 'ne', None) | selectattr('days_to_expiry', 'lt', 30) }}"
  loop_control:
    label: "{{ item.id }}"

- name: Look up the keys named ci-deploy in a project given by its slug
  ory.network.ory_project_api_key_info:
    project_id: "{{ lookup('ansible.builtin.env', 'ORY_PROJECT_SLUG') }}"
    name: ci-deploy
  register: ci_keys
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
      sample: 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10
    name:
      description: Name of the key.
      returned: always
      type: str
      sample: ci-deploy
    project_id:
      description: ID of the project the key belongs to.
      returned: always
      type: str
      sample: 6f1c2b9e-52a4-4d38-9f3a-0d6f0f6a1c55
    owner_id:
      description: ID of the user or identity that created the key.
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
      sample: Xy12
    expired:
      description: Whether the key has expired.
      returned: always
      type: bool
      sample: false
    days_to_expiry:
      description: Whole days until the key expires (negative once expired); null when it never expires.
      returned: always
      type: int
      sample: 89
    is_current:
      description:
        - Whether this is the project API key in use (O(project_api_key)), that is, whether its
          RV(api_keys[].last_characters) are the end of that credential. Always V(false) when no project API key is set.
      returned: always
      type: bool
      sample: false
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
from ansible_collections.ory.network.plugins.module_utils._client import console_client  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._console import PROJECT_KEY_FIELDS, filter_keys, key_facts, list_project_keys  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._options import OryModule, connection_argument_spec  # noqa: E402


def argument_spec():
    return connection_argument_spec(
        project_id=dict(type='str', required=True, fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        id=dict(type='str'),
        name=dict(type='str'),
    )


def run(module, connection):
    params = module.params
    client = console_client(connection)
    keys = filter_keys(list_project_keys(client, params['project_id']), params['id'], params['name'])
    credential = params.get('project_api_key')
    return dict(changed=False, api_keys=[key_facts(k, PROJECT_KEY_FIELDS, with_current=True, credential=credential) for k in keys])


def main():
    module = OryModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
