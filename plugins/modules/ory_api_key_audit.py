#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_api_key_audit
short_description: Audit every API key of an Ory Network environment (read-only)
version_added: 0.1.0
description:
  - Lists the keys of one environment on every plane it can read, and flags what needs attention. Changes nothing, never
    returns a secret.
  - "Planes: project API keys (with O(workspace_api_key) and O(project_id)), workspace API keys (with O(workspace_api_key)
    and O(workspace_id)), issued and imported keys (with a project API key: O(project_api_key), or the one stored in
    O(vault_file) under O(project_api_key_var)). Issued keys are read on all pages, active and revoked within O(revoked_within)."
  - "Flags, each with a count and the list of keys: V(expired) (expired but still listed); V(expiring) (within
    O(expiring_within)); V(rotate_due) (within the C(rotate_before) of O(declared_project_api_keys) or O(declared_issued_api_keys));
    V(never_used) and V(unused)
    (C(last_used_time) older than O(unused_after); issued and imported keys only); V(unmarked) (not made by the bootstrap role:
    project keys without the C(<environment>:) name prefix, issued and imported keys without the C(managed_by)/C(environment)
    metadata); V(duplicate_name) (two live keys with one name on one plane); V(no_stored_secret) (a live project or issued key
    whose id is in no C(*_meta) entry of O(vault_file)); V(no_expiry); V(retiring) (a key the bootstrap replaced and keeps live
    in its grace period: O(vault_file) records it as the C(previous) key of a variable, see the bootstrap role's C(retire_after);
    such a key is not flagged V(no_stored_secret), V(rotate_due) or V(duplicate_name))."
  - "A V(retiring) key has C(retire_after) (when the next bootstrap run after it retires the key), C(retire_due) (whether the
    next run retires it, by the planner's rule on the audit time) and C(previous_of) (the variable that holds its successor's
    secret)."
  - Run it once per environment (inventory host) and write one report for all of them with M(ory.network.ory_api_key_report).
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
  - ory.network.attributes.INFO
attributes:
  action:
    description: An action plugin runs on the controller and reads O(vault_file) with the run's vault secrets; only the key ids and
      names stored there (and the project API key named by O(project_api_key_var)) go to the module.
    support: full
options:
  environment:
    description:
      - Name of the environment, as the bootstrap role names it (C(ory_bootstrap_environment), by default the inventory host).
    type: str
    required: true
  project_id:
    description:
      - Project ID or slug on the console, to list project API keys. If not set, the environment variable E(ORY_PROJECT_ID) is used.
    type: str
  workspace_id:
    description:
      - Workspace ID, to list workspace API keys. If not set, the environment variable E(ORY_WORKSPACE_ID) is used.
    type: str
  vault_file:
    description:
      - The environment's Ansible Vault file (as the bootstrap role writes it). Its C(<var>_meta) entries tell which keys have a
        stored secret. Not set, the V(no_stored_secret) flag is not computed. A file that does not exist stores nothing.
    type: path
  project_api_key_var:
    description:
      - A variable in O(vault_file) that holds a project API key (C(ory_pat_...)) to read the issued and imported keys with,
        such as the bootstrap role's Talos key C(ory_project_api_key_talos). Used instead of O(project_api_key) when present.
    type: str
  stored_secrets:
    description:
      - Set by the action plugin from O(vault_file) (variable, key id, name, expiry of each stored secret, and the C(previous)
        key a replacement keeps live in its grace period; never a secret).
        Do not set it yourself.
    type: list
    elements: dict
  declared_project_api_keys:
    description:
      - The project API keys the environment declares, for the V(rotate_due) flag; the bootstrap role's
        C(ory_bootstrap_project_api_keys) can be given as it is. Only C(name) and C(rotate_before) of each entry are read.
        A name matches the key with or without the environment's name prefix.
    type: list
    elements: dict
  declared_issued_api_keys:
    description:
      - The issued API keys the environment declares (C(ory_bootstrap_issued_api_keys)), like O(declared_project_api_keys).
    type: list
    elements: dict
  expiring_within:
    description:
      - Flag live keys that expire within this duration.
    type: str
    default: 30d
  unused_after:
    description:
      - Flag live keys not used for this long (by C(last_used_time), which Ory updates at most once a day).
    type: str
    default: 90d
  revoked_within:
    description:
      - Include revoked keys revoked within this duration (older ones are left out of the report).
    type: str
    default: 30d
  name_prefix:
    description:
      - Name prefix that marks a project key made by the bootstrap role. Default C(<environment>:).
    type: str
  audit_time:
    description:
      - The time the audit is made for (RFC 3339), for reproducible reports. Default now.
    type: str
  planes:
    description:
      - Which planes to read. A plane whose credentials are not given is left out and listed as not read.
    type: list
    elements: str
    choices: [project, workspace, issued, imported]
    default: [project, workspace, issued, imported]
seealso:
  - module: ory.network.ory_api_key_report
  - module: ory.network.ory_imported_api_key
"""

EXAMPLES = r"""
# In a play over one inventory host per environment (see the playbook ory.network.audit); here project and
# workspace come from ORY_PROJECT_ID, ORY_PROJECT_SLUG and ORY_WORKSPACE_ID.
- name: Audit the keys of the environment, as of today (reruns on the same day give the same report)
  ory.network.ory_api_key_audit:
    environment: "{{ inventory_hostname }}"
    vault_file: "group_vars/{{ inventory_hostname }}/vault.yml"
    project_api_key_var: ory_project_api_key_talos
    declared_project_api_keys:
      - {name: talos, rotate_before: 14d}
    declared_issued_api_keys:
      - {name: checkout, rotate_before: 7d}
    audit_time: "{{ now(utc=true).strftime('%Y-%m-%dT00:00:00Z') }}"
  register: key_audit

- name: Write one report for all environments of the play
  ory.network.ory_api_key_report:
    audits: "{{ ansible_play_hosts | map('extract', hostvars, ['key_audit', 'audit']) | list }}"
    dest: reports/
  run_once: true
"""

RETURN = r"""
audit:
  description: The environment's audit. Sorted, so the same input gives the same output.
  returned: always
  type: dict
  contains:
    environment:
      description: The environment.
      type: str
      sample: production
    audited_at:
      description: The audit time (RFC 3339).
      type: str
      sample: "2026-11-29T12:00:00Z"
    planes_read:
      description: The planes that were read.
      type: list
      elements: str
      sample: [issued, imported, project, workspace]
    settings:
      description: The thresholds used.
      type: dict
      sample: {expiring_within_days: 30, unused_after_days: 90, revoked_within_days: 30, name_prefix: "production:", vault_file_read: true}
    summary:
      description: Counts of keys, per plane, per status, and flagged.
      type: dict
      sample: {key_count: 9, by_plane: {project: 3, workspace: 1, issued: 4, imported: 1}, by_status: {active: 8, expired: 0, revoked: 1},
               flagged: 3}
    flags:
      description: Per flag, its title, count and the keys (labels) that have it.
      type: dict
      sample: {expiring: {title: Expiring within the window, count: 1, keys: ["issued production:checkout (3f2b8c1e)"]}}
    api_keys:
      description: One entry per key, sorted by plane, name and id.
      type: list
      elements: dict
      contains:
        plane:
          description: V(project), V(workspace), V(issued) or V(imported).
          type: str
          returned: always
        id:
          description: The key's id.
          type: str
          returned: always
        name:
          description: The key's name.
          type: str
          returned: always
        actor_id:
          description: The actor of an issued or imported key (null for console keys).
          type: str
          returned: always
        status:
          description: V(active), V(expired) or V(revoked).
          type: str
          returned: always
        created:
          description: When the key was made (as the API reports it).
          type: str
          returned: always
        expires:
          description: When the key expires, or null.
          type: str
          returned: always
        last_used:
          description: The key's C(last_used_time) (issued and imported keys), or null.
          type: str
          returned: always
        days_to_expiry:
          description: Whole days left (negative when expired), or null for keys that never expire.
          type: int
          returned: always
        rotate_before_days:
          description: The declared C(rotate_before) in days, or null.
          type: int
          returned: always
        marker:
          description: Whether the bootstrap role made the key (name prefix, or metadata).
          type: bool
          returned: always
        stored:
          description: Whether O(vault_file) holds the key's secret; null without O(vault_file).
          type: bool
          returned: always
        vault_var:
          description: The variable of O(vault_file) that holds its secret, or null.
          type: str
          returned: always
        previous_of:
          description: For a key in its grace period (flag V(retiring)), the variable of O(vault_file) whose C(previous) key it is
            (the variable holds its successor's secret); else null.
          type: str
          returned: always
        retire_after:
          description: For a V(retiring) key, when the first bootstrap run after it retires the key (RFC 3339; null when only
            C(retire_previous) or the successor's first use retires it); else null.
          type: str
          returned: always
        retire_due:
          description: For a V(retiring) key, whether the next bootstrap run retires it (its C(retire_after) has passed at the audit
            time, or with C(retire_when_used) its successor shows a C(last_used_time)); else null.
          type: bool
          returned: always
        flags:
          description: The key's flags, in the order of RV(audit.flags).
          type: list
          elements: str
          returned: always
        label:
          description: How reports name the key (plane, name, short id; never any part of a secret).
          type: str
          returned: always
      sample:
        - {plane: issued, id: 9ff75a4e-4567-48ce-8ed1-209e74390a7b, name: "production:worker", actor_id: svc-worker, status: active,
           created: "2026-11-04T10:00:00Z", expires: "2026-12-14T10:00:00Z", last_used: "2026-11-28T10:00:00Z", days_to_expiry: 14,
           rotate_before_days: 30, marker: true, stored: false, vault_var: null, previous_of: ory_issued_api_key_worker,
           retire_after: "2026-11-30T10:00:00Z", retire_due: false, flags: [retiring, expiring],
           label: "issued production:worker (9ff75a4e)"}
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.ory.network.plugins.module_utils._api_keys import now, parse_time, run_module
from ansible_collections.ory.network.plugins.module_utils._audit import audit_environment, declared_keys
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, console_client, project_client
from ansible_collections.ory.network.plugins.module_utils._console import explain_workspace_denied, list_project_keys, list_workspace_keys
from ansible_collections.ory.network.plugins.module_utils._imported import ImportedKeys
from ansible_collections.ory.network.plugins.module_utils._options import connection_argument_spec
from ansible_collections.ory.network.plugins.module_utils._talos import Talos

PLANE_CHOICES = ['project', 'workspace', 'issued', 'imported']


def argument_spec():
    return connection_argument_spec(
        environment=dict(type='str', required=True),
        project_id=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        workspace_id=dict(type='str', fallback=(env_fallback, ['ORY_WORKSPACE_ID'])),
        vault_file=dict(type='path'),
        project_api_key_var=dict(type='str', no_log=False),
        stored_secrets=dict(type='list', elements='dict', no_log=False),
        declared_project_api_keys=dict(type='list', elements='dict', no_log=False),
        declared_issued_api_keys=dict(type='list', elements='dict', no_log=False),
        expiring_within=dict(type='str', default='30d'),
        unused_after=dict(type='str', default='90d'),
        revoked_within=dict(type='str', default='30d'),
        name_prefix=dict(type='str'),
        audit_time=dict(type='str'),
        planes=dict(type='list', elements='str', choices=PLANE_CHOICES, default=PLANE_CHOICES),
    )


def read_planes(params, connection):
    """{plane: keys} for every plane asked for whose credentials are given; the others are left out."""
    planes = {}
    wanted = set(params['planes'])
    if params.get('workspace_api_key'):
        client = None
        if 'project' in wanted and params['project_id']:
            client = console_client(connection)
            planes['project'] = list_project_keys(client, params['project_id'])
        if 'workspace' in wanted and params['workspace_id']:
            client = client or console_client(connection)
            try:
                planes['workspace'] = list_workspace_keys(client, params['workspace_id'])
            except OryApiError as exc:
                if exc.status in (401, 403):
                    raise explain_workspace_denied(exc, params['workspace_id']) from None
                raise
    if params.get('project_api_key') and wanted & {'issued', 'imported'}:
        client = project_client(connection)
        if 'issued' in wanted:
            planes['issued'] = Talos(client).list()
        if 'imported' in wanted:
            planes['imported'] = ImportedKeys(client).list()
    return planes


def run(module, connection):
    params = module.params
    at = parse_time(params['audit_time'], 'audit_time') if params['audit_time'] else now()
    planes = read_planes(params, connection)
    stored = params['stored_secrets'] if params['vault_file'] else None
    declared = declared_keys(project=params['declared_project_api_keys'], issued=params['declared_issued_api_keys'])
    audit = audit_environment(params['environment'], planes, stored, declared, at, params['expiring_within'],
                              params['unused_after'], params['revoked_within'], params['name_prefix'])
    return dict(changed=False, audit=audit)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run)


if __name__ == '__main__':
    main()
