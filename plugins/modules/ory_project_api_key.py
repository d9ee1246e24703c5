#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_project_api_key
short_description: Create, replace and delete Ory Network project API keys
version_added: 0.1.0
description:
  - Manages the API keys of an Ory Network project (C(ory_pat_...)) through the console API, authenticated with a
    workspace API key (O(workspace_api_key)).
  - The console API cannot change a key in place and does not keep key names unique. This module finds the key by
    O(id), or else by O(name), creates it when it is missing and replaces it (creates a new key, then deletes the old
    one) when it has expired, is due for rotation (O(rotate_before)) or differs from the task and O(recreate) allows it.
  - The secret of a key is shown by the API only once, in the answer to the create. The module returns it in RV(value)
    only when it created a key; the action plugin of this module then hides it from the output (unless
    O(reveal_secret=true)) and stores it in Ansible Vault when O(vault_dest) is set.
  - A task that would create a key whose secret would be lost (neither registered, stored with O(vault_dest) nor
    revealed) fails before anything is written.
options:
  name:
    description:
      - Name of the key. Names are not unique in Ory Network; when two keys of the project have this name, the module
        fails and lists their ids, so that you can pick one with O(id).
      - Required with O(state=present). With O(state=absent), give O(name) or O(id).
    type: str
  project_id:
    description:
      - ID or slug of the project whose keys are managed.
      - If not set, the environment variable E(ORY_PROJECT_ID) is used.
    type: str
    required: true
  id:
    description:
      - ID of the one key to manage. When set, the key is matched by its id instead of its name.
      - With O(state=present), a key with this id must exist.
    type: str
  expires_at:
    description:
      - When the key expires, as an RFC 3339 timestamp such as V(2027-01-01T00:00:00Z).
      - Normalised to whole seconds in UTC (C(Z)), the precision the API keeps.
      - When the live key expires at another time, O(recreate) decides what happens.
      - Without O(expires_at) and O(expires_in), the expiry of an existing key is not checked, and a new key never
        expires (a replacement keeps the lifetime of the key it replaces, see O(rotate_before)).
      - Mutually exclusive with O(expires_in).
    type: str
  expires_in:
    description:
      - Lifetime of a new key, as a duration such as V(90d), V(12h), V(1w) or V(1y).
      - Applied only when a key is created or replaced; the expiry of an existing key is not compared with it. Use it
        with O(rotate_before) for keys that rotate themselves.
      - Mutually exclusive with O(expires_at).
    type: str
  state:
    description:
      - V(present) makes sure the key exists; V(absent) deletes it.
      - With V(absent), the key is matched by O(id), else by O(name) (and two keys with that name are an error).
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - What to do when the live key differs from the task (its O(expires_at), or its name when matched by O(id)). Keys
        cannot be changed in place, so a change means a new key with a new secret.
      - V(never) fails and names the live and the wanted value.
      - V(on_change) replaces the key.
      - V(always) replaces the key on every run.
      - An expired key, or a key within O(rotate_before) of its expiry, is replaced whatever this option says.
    type: str
    choices: [never, on_change, always]
    default: never
  rotate_before:
    description:
      - Replace the key when it expires within this duration, such as V(30d) or V(12h). An expired key is always
        replaced.
      - The new key gets O(expires_at), else O(expires_in) from now, else the lifetime of the key it replaces (its
        expiry minus its creation time), else no expiry.
    type: str
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.secret
  - ory.network.grace
  - ory.network.attributes
  - ory.network.attributes.ACTIONS
attributes:
  action:
    description: An action plugin runs on the controller; it hides the new secret and stores it in Ansible Vault.
    support: full
notes:
  - One run lists the project's keys once; when nothing has to change, nothing else is sent.
  - The create is never sent twice blindly. When its answer is lost, the module lists the keys again; a key with this
    name that appeared meanwhile holds a secret nobody has, so it is deleted and the create is sent again. A create that
    gets no answer within O(timeout) may still be running on the server, so the keys are re-read with backoff (for twice
    O(timeout), at least 10 seconds) until it shows up, before anything is sent again; when the task gives up, it has
    deleted every key it created without receiving the secret, or its message says which key to delete.
  - Reads and deletes are retried after HTTP 500 too (sending them again is safe); a create only after re-reading.
  - A replacement creates the new key first and deletes the old one afterwards. With O(retire_replaced=false) the old
    key stays live and its id is returned in RV(old_key_id), so that it can be deleted once the new secret is stored.
  - If the old key cannot be deleted after a replacement (after the retries), the module still succeeds (so the new secret
    in the result is not lost), warns, and returns RV(old_key_retired=false). With O(vault_dest), where the new secret is
    already stored, the task fails instead and names the old key; the next run with the same O(vault_dest) deletes it
    (RV(retired_key_ids)).
seealso:
  - module: ory.network.ory_project_api_key_info
  - module: ory.network.ory_workspace_api_key_info
author:
  - ory.network collection maintainers (@ory-network-ansible)
"""

EXAMPLES = r"""
# The connection (workspace_api_key, console_api_url) and project_id come from module_defaults for
# group/ory.network.ory or from the ORY_* environment variables.

- name: Create a project API key for CI, keep its secret in an Ansible Vault file, renew it 14 days before it expires
  ory.network.ory_project_api_key:
    name: ci-deploy
    expires_in: 90d
    rotate_before: 14d
    vault_dest: vault/ory_ci_key.yml
    vault_var: ory_ci_project_api_key

- name: Renew the CI key before it expires, but keep the old key live for a day so that running services can catch up
  ory.network.ory_project_api_key:
    name: ci-deploy
    expires_in: 90d
    rotate_before: 14d
    retire_after: 24h
    vault_dest: vault/ory_ci_key.yml
    vault_var: ory_ci_project_api_key

- name: After the deploy play gave every service the new secret, retire the previous key now
  ory.network.ory_project_api_key:
    name: ci-deploy
    expires_in: 90d
    rotate_before: 14d
    retire_previous: true
    vault_dest: vault/ory_ci_key.yml
    vault_var: ory_ci_project_api_key

- name: Create a key that expires at a fixed time, and replace it when that time changes
  ory.network.ory_project_api_key:
    name: reporting
    expires_at: "2030-01-01T00:00:00Z"
    recreate: on_change
  register: reporting_key

- name: Use the new secret (only set when the key was created just now)
  ansible.builtin.copy:
    dest: "{{ playbook_dir }}/reporting.key"
    content: "{{ reporting_key.value }}"
    mode: "0600"
  no_log: true
  when: reporting_key.value is defined

- name: Delete the key named legacy-deploy
  ory.network.ory_project_api_key:
    name: legacy-deploy
    state: absent

- name: Delete one of two keys that share a name, by id
  ory.network.ory_project_api_key:
    id: 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10
    state: absent
"""

RETURN = r"""
api_key:
  description:
    - Metadata of the key (never its secret).
    - With O(state=present), the key as it is after the run (in check mode, the key as it would be; the fields that
      only the server sets are then null for a new key).
    - With O(state=absent), the key that was (or would be) deleted.
  returned: success, unless O(state=absent) and no key matched
  type: dict
  contains:
    id:
      description: ID of the key (null in check mode for a key that would be created).
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
      description: When the key expires, RFC 3339 in UTC with whole seconds; null when it never expires.
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
value:
  description:
    - The secret of the key created by this run. The API shows it only once.
    - The action plugin hides it (C(no_log)) unless O(reveal_secret=true), and removes it from the result once it is
      stored with O(vault_dest).
  returned: when a key was created or replaced, and only then (never in check mode)
  type: str
old_key_id:
  description: ID of the key that was (or in check mode would be) replaced by the new one.
  returned: when a key was replaced
  type: str
  sample: 3c9e1a52-8d55-4d1c-a0d9-64cb0b3a1f4e
deferred:
  description:
    - Why a replacement that is due did not happen in this run - the previous key of O(vault_var) is still in its grace period,
      and replacing the key now would retire a key services may still use. The first run after the previous key is retired
      makes the replacement.
  returned: when a replacement was deferred
  type: str
  sample: >-
    due for replacement (rotate_before); waits while its previous key 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10 is in its
    grace period (replaced once that key is retired)
retired_key_ids:
  description:
    - IDs of the other keys with this name when O(vault_dest) holds the secret of one of them, which an interrupted run left live
      (a replaced key it did not delete, or a new key whose secret never reached the file), and the previous key of O(vault_var)
      once it is retired (see RV(previous_key)), deleted by this run (in check mode, that would be deleted).
  returned: when such keys were found
  type: list
  elements: str
  sample: [3c9e1a52-8d55-4d1c-a0d9-64cb0b3a1f4e]
old_key_retired:
  description:
    - Whether the replaced key was deleted. V(false) with O(retire_replaced=false), or when deleting it failed (see the
      warning, or with O(vault_dest) the failure message); that key then stays live until it is deleted.
  returned: when a key was replaced
  type: bool
  sample: true
previous_key:
  description:
    - The previous key of O(vault_var) - a key that a replacement kept live in its grace period (see O(retire_after)) - and what
      became of it in this run. The action plugin records it in C(<vault_var>_meta.previous) in O(vault_dest) while it waits,
      and drops the record once it is retired or gone. Never a secret.
  returned: with O(vault_dest), when a replacement kept the old key live, or the vault file records a previous key
  type: dict
  contains:
    key_id:
      description: ID of the previous key.
      returned: always
      type: str
      sample: 3c9e1a52-8d55-4d1c-a0d9-64cb0b3a1f4e
    name:
      description: Name of the previous key.
      returned: always
      type: str
      sample: ci-deploy
    replaced_at:
      description: When the key that replaced it was created, as Ory Network reports it (RFC 3339 in UTC).
      returned: always
      type: str
      sample: "2026-07-01T10:00:00Z"
    retire_after:
      description: When its grace period ends (RFC 3339 in UTC), or null when only another trigger retires it.
      returned: always
      type: str
      sample: "2026-07-02T10:00:00Z"
    retire_when_used:
      description: Whether it is retired once the new key is used (issued keys only).
      returned: always
      type: bool
      sample: false
    state:
      description:
        - V(waiting) - it stays live (a key replaced in this run, or one whose grace period has not ended).
        - V(retired) - this run deleted it (in check mode, would delete it).
        - V(gone) - it is no longer live, or no longer the previous key of O(vault_var) (the key whose secret the vault file
          holds is not live); its record is dropped.
      returned: always
      type: str
      choices: [waiting, retired, gone]
      sample: waiting
    reason:
      description: Why, in one sentence.
      returned: always
      type: str
      sample: "previous key in its grace period: kept live until 2026-07-02T10:00:00Z, or a run with retire_previous"
vault:
  description:
    - Where the action plugin stored the new secret. The secret itself is then removed from the result.
  returned: when O(vault_dest) is set and a key was created or replaced
  type: dict
  contains:
    path:
      description: Absolute path of the vault file.
      returned: always
      type: str
      sample: /srv/ansible/group_vars/all/ory_ci_key.yml
    var:
      description: Name of the variable that holds the secret (O(vault_var)).
      returned: always
      type: str
      sample: ory_ci_project_api_key
    changed:
      description: Whether the vault file was (or in check mode would be) written.
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

import datetime  # noqa: E402

from ansible.module_utils.basic import env_fallback  # noqa: E402

from ansible_collections.ory.network.plugins.module_utils._api_keys import (  # noqa: E402
    UsageError, check_identifier, check_name, expires_within, format_time, leftovers_beside, match_one, normalize_time, now,
    parse_duration, parse_time, run_module,
)
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, console_client, redact  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._console import (  # noqa: E402
    create_project_key, delete_project_key, key_facts, list_project_keys,
)
from ansible_collections.ory.network.plugins.module_utils._grace import Grace, server_now  # noqa: E402
from ansible_collections.ory.network.plugins.module_utils._options import (  # noqa: E402
    OryModule, connection_argument_spec, grace_argument_spec, secret_argument_spec,
)
from ansible_collections.ory.network.plugins.module_utils._planner import lost_secret_action, lost_secret_reason  # noqa: E402


def argument_spec():
    spec = connection_argument_spec(
        name=dict(type='str'),
        project_id=dict(type='str', required=True, fallback=(env_fallback, ['ORY_PROJECT_ID'])),
        id=dict(type='str'),
        expires_at=dict(type='str'),
        expires_in=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        recreate=dict(type='str', default='never', choices=['never', 'on_change', 'always']),
        rotate_before=dict(type='str'),
    )
    spec.update(secret_argument_spec())
    spec.update(grace_argument_spec())
    return spec


def _shown(value):
    return value if value else 'never'


def _diff_view(key):
    if not key:
        return {}
    view = dict(name=key.get('name'), expires_at=key.get('expires_at'))
    if key.get('id'):
        view['id'] = key['id']
    return view


def _label(key):
    return "project API key '%s' (id %s)" % (key.get('name'), key.get('id'))


def _differences(live, name, expires_at):
    """Sentences naming what differs between the live key and the task (both values)."""
    found = []
    if name is not None and live.get('name') != name:
        found.append("is named '%s' but name is '%s'" % (live.get('name'), name))
    if expires_at is not None and live.get('expires_at') != expires_at:
        found.append('expires at %s but expires_at is %s' % (_shown(live.get('expires_at')), expires_at))
    return found


def _new_expiry(params, expires_at, expires_in, rotate_before, old):
    """Expiry of the key about to be created, checked so that a run never creates a key due for replacement."""
    current = now()
    if expires_at is not None:
        stamp, option = parse_time(expires_at), 'expires_at'
    elif expires_in is not None:
        stamp, option = current + datetime.timedelta(seconds=expires_in), 'expires_in'
    elif old and old.get('expires_at') and old.get('created_at'):
        lifetime = parse_time(old['expires_at']) - parse_time(old['created_at'])
        stamp, option = current + lifetime, 'the lifetime of the replaced key'
    else:
        return None
    if stamp <= current:
        raise UsageError('%s gives the new key an expiry in the past (%s), so it would be unusable; give a later time.'
                         % (option, format_time(stamp)))
    if rotate_before is not None and (stamp - current).total_seconds() <= rotate_before:
        raise UsageError('%s gives the new key an expiry (%s) within rotate_before (%s), so it would be replaced again on the next run.'
                         % (option, format_time(stamp), params['rotate_before']))
    return format_time(stamp)


def run(module, connection):
    params = module.params
    name = check_name(params['name'])
    project = params['project_id']
    key_id = check_identifier(params['id'], 'id')
    check_identifier(project, 'project_id')
    state = params['state']
    expires_at = normalize_time(params['expires_at'], 'expires_at', require_offset=True)
    expires_in = parse_duration(params['expires_in'], 'expires_in')
    rotate_before = parse_duration(params['rotate_before'], 'rotate_before')
    grace = Grace(params)

    client = console_client(connection)
    keys = list_project_keys(client, project)
    named = [k for k in keys if k.get('name') == name]
    if state == 'present' and not key_id:
        # the vault variable's previous key (in its grace period) is neither the task's key nor a leftover
        named = grace.set_aside(named, 'id')
    leftovers = [] if key_id or state != 'present' else leftovers_beside(named, params['stored_key_id'], 'id')
    if leftovers:
        # An interrupted replacement left a key live beside the stored one (the old key, or a new one whose secret was lost).
        if not module.check_mode:
            for old in leftovers:
                delete_project_key(client, project, old['id'])
        keys = [k for k in keys if k not in leftovers]
    if key_id:
        live = match_one([k for k in keys if k.get('id') == key_id], 'The id %s' % key_id, 'id')
    else:
        live = match_one([k for k in named if k not in leftovers], "The name '%s'" % name, 'id')
    before = key_facts(live) if live else None
    result = dict(changed=False)
    if leftovers:
        result.update(changed=True, retired_key_ids=[k['id'] for k in leftovers])

    if state == 'absent':
        if before:
            result['changed'] = True
            result['api_key'] = before
            if not module.check_mode:
                delete_project_key(client, project, live['id'])
        if module._diff:
            result['diff'] = dict(before=_diff_view(before), after={})
        return result

    if live is None and key_id:
        raise UsageError("Project %s has no API key with id %s; omit id to create a key named '%s'." % (project, key_id, name))

    replace_reasons = []
    if before:
        if before['expired']:
            replace_reasons.append('expired')
        elif rotate_before is not None and expires_within(before['expires_at'], rotate_before):
            replace_reasons.append('rotate_before')
        lost = lost_secret_reason(before['id'], params['stored_key_id']) if params.get('stored_key_id') is not None else None
        if lost and not before['expired']:
            # vault_dest does not hold this key's secret: replace it, the new secret is stored (the planner's rule)
            if lost_secret_action('project', params['on_missing_secret']) == 'fail':
                raise UsageError('The live %s: %s (vault_dest); set on_missing_secret: rotate to replace it with a key whose secret is stored.'
                                 % (_label(before), lost))
            replace_reasons.append('lost secret')
        if params['recreate'] == 'always':
            replace_reasons.append('always')
        differences = _differences(before, name, expires_at)
        if differences and not replace_reasons:
            if params['recreate'] == 'never':
                raise UsageError('The live %s %s, and keys cannot be changed in place; set recreate: on_change to replace it.'
                                 % (_label(before), ' and '.join(differences)))
            replace_reasons.append('on_change')
        if replace_reasons and not before['expired'] and 'lost secret' not in replace_reasons:
            # one previous key per variable: while it waits, a replacement would retire a key services may still use
            deferred = grace.defers(server_now(client), 'due for replacement (%s)' % ', '.join(replace_reasons))
            if deferred:
                result['deferred'] = deferred
                replace_reasons = []
        if not replace_reasons:
            result['api_key'] = before
            _settle_previous(module, client, project, grace, result)
            if module._diff:
                result['diff'] = dict(before=_diff_view(before), after=_diff_view(before))
            return result

    # A key is created (new, or replacing ``live``): refuse before any write when its secret would be lost.
    new_expiry = _new_expiry(params, expires_at, expires_in, rotate_before, before)
    if params['secret_sink'] == 'none':
        raise UsageError("Refusing to create project API key '%s' because the new secret would be lost; register the result, "
                         "set vault_dest and vault_var, or set reveal_secret: true." % name)
    result['changed'] = True
    if module.check_mode:
        created = dict(name=name, project_id=before.get('project_id') if before else project, expires_at=new_expiry)
        after = key_facts(created)
    else:
        created = create_project_key(client, project, name, new_expiry, known_ids={k.get('id') for k in keys}) or {}
        after = key_facts(created)
        if not after.get('project_id'):
            after['project_id'] = before.get('project_id') if before else project
        if created.get('value'):
            result['value'] = created['value']
    result['api_key'] = after
    if before:
        result['old_key_id'] = before['id']
        result['old_key_retired'] = bool(params['retire_replaced'])
        # a new key replaces one whose secret is stored: with a grace period, the replaced key stays live as the previous key
        kept = grace.wanted and not before['expired'] and 'lost secret' not in replace_reasons
        _settle_previous(module, client, project, grace, result, superseded=True, created=not module.check_mode)
        if kept:
            at = server_now(client)
            result['previous_key'] = grace.record(before['id'], before.get('name'), after.get('created_at'), at)
            result['old_key_retired'] = False
        elif params['retire_replaced'] and not module.check_mode:
            try:
                delete_project_key(client, project, before['id'])
            except OryApiError as exc:
                result['old_key_retired'] = False
                module.warn('The new key %s was created, but deleting the replaced key %s failed (%s); delete it later with state: absent and id: %s.'
                            % (after.get('id'), before['id'], redact(str(exc)).rstrip('.'), before['id']))
    else:
        _settle_previous(module, client, project, grace, result, created=not module.check_mode)
    if module._diff:
        result['diff'] = dict(before=_diff_view(before), after=_diff_view(after))
    return result


def _settle_previous(module, client, project, grace, result, superseded=False, created=False):
    """Retire the vault variable's previous key when it is due (or superseded by this run's replacement), and say so in
    RV(previous_key). After a new key was created, a failed delete only warns (the new secret must reach the result)."""
    settled = grace.settle(server_now(client), superseded=superseded, expired=bool(grace.live and key_facts(grace.live)['expired']))
    if settled is None:
        return
    state, reason = settled
    if state == 'retire':
        state = 'retired'
        if not module.check_mode:
            try:
                delete_project_key(client, project, grace.previous['key_id'])
            except OryApiError as exc:
                if not created:
                    raise
                state = 'waiting'
                module.warn('The new key was created, but deleting the previous key %s failed (%s); the next run deletes it.'
                            % (grace.previous['key_id'], redact(str(exc)).rstrip('.')))
        if state == 'retired':
            result['changed'] = True
            result['retired_key_ids'] = result.get('retired_key_ids', []) + [grace.previous['key_id']]
    result['previous_key'] = grace.outcome(state, reason)


def main():
    module = OryModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('expires_at', 'expires_in')],
        required_if=[('state', 'present', ('name',))],
        required_one_of=[('name', 'id')],
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
