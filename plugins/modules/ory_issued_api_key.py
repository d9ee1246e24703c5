#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_issued_api_key
short_description: Issue, update, rotate and revoke the API keys an Ory Network project issues
version_added: 0.1.0
description:
  - Manages one API key issued by an Ory Network project (Ory Talos) to its users or services.
  - The key is found by O(key_id), or else by O(name) (and O(actor_id) when given) among the project's active keys, across all pages.
    Names are not unique in Ory Network; when two active keys share the name, the module fails and names both ids.
  - Differences in O(name) (when the key is found by O(key_id)), O(scopes), O(metadata), O(ip_allowlist) and O(rate_limit) are
    changed in place. O(actor_id) and O(visibility) cannot be changed; see O(recreate).
  - A new or rotated key's secret is returned once, in RV(secret). The action plugin of this module keeps it out of the logs unless
    O(reveal_secret=true), and can store it in Ansible Vault (O(vault_dest)).
  - O(state=absent) revokes the key. Ory Network keeps revoked keys for audit; they cannot be used or reactivated.
author:
  - ory.network collection maintainers (@ory-network-ansible)
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.secret
  - ory.network.grace
  - ory.network.attributes
  - ory.network.attributes.ACTIONS
attributes:
  action:
    description: An action plugin runs on the controller; it hides the secret, stores it in Ansible Vault, and refuses to issue a key
      whose secret would be lost.
    support: full
options:
  name:
    description:
      - Name of the key. Required unless O(key_id) is given.
      - Without O(key_id), the key is looked up by this name. With O(key_id), a different name renames the key.
    type: str
  key_id:
    description:
      - ID of the key to manage. When given, the key must exist (or O(state=absent)).
    type: str
  actor_id:
    description:
      - The user or service the key belongs to. Narrows the lookup by name.
      - Cannot be changed on an existing key; see O(recreate).
    type: str
  scopes:
    description:
      - Scopes of the key. The order does not matter. V([]) removes every scope.
    type: list
    elements: str
  metadata:
    description:
      - Free-form metadata of the key, compared as a whole. V({}) removes it.
    type: dict
  ttl:
    description:
      - Lifetime of a newly issued key, such as V(720h), V(30d), V(1w) or V(1y6mo). Applied only when a key is issued
        (including replacements); an existing key keeps its expiry.
      - When not set, the project's default lifetime applies. Ory Network never issues keys that do not expire.
    type: str
  visibility:
    description:
      - Whether the key is a secret key or a public key (public keys need a public key prefix configured in the project).
      - Cannot be changed on an existing key; see O(recreate).
    type: str
    choices: [secret, public]
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
        description: The window, a duration such as V(1m), V(1h) or V(3600s) (whole seconds).
        type: str
  state:
    description:
      - V(present) makes sure an active key exists as described; V(absent) revokes it.
    type: str
    choices: [present, absent]
    default: present
  revoke_reason:
    description:
      - Reason recorded when O(state=absent) revokes the key. Replaced keys are always revoked as V(superseded).
    type: str
    choices: [key_compromise, affiliation_changed, superseded, privilege_withdrawn]
    default: superseded
  revoke_description:
    description:
      - Free-text explanation recorded with the revocation. Only allowed with O(revoke_reason=privilege_withdrawn).
    type: str
  rotate:
    description:
      - V(always) rotates the key on every run with Ory's rotate call, which returns a new key and secret with the same
        attributes and expiry and revokes the old key at once.
      - With O(retire_replaced=false), V(always) issues the successor itself (same attributes, the old key's remaining
        lifetime unless O(ttl) is set) and leaves the old key active, so that it can be revoked after the new secret is stored.
      - With O(vault_dest), the action plugin always works that way, and revokes the old key once the new secret is stored
        (unless O(retire_replaced=false)).
    type: str
    choices: [never, always]
    default: never
  rotate_before:
    description:
      - Replace the key when it expires within this duration, such as V(7d). A key that has already expired is always replaced.
      - The replacement is a newly issued key with the same attributes and a fresh O(ttl) (Ory's rotate call would keep the
        old expiry). The old key is then revoked as V(superseded), unless O(retire_replaced=false).
    type: str
  retire_when_used:
    description:
      - With a grace period (see O(retire_after)), also retire the previous key once the new key shows a C(last_used_time).
      - Ory Network sets C(last_used_time) on a key's first verification, asynchronously and at most once a day, so the retire
        waits for a run after that; it proves that one consumer uses the new secret, not that all do.
      - Without O(retire_after), the previous key then waits only for this (or O(retire_previous=true)).
      - Requires O(vault_dest) and O(vault_var).
    type: bool
    default: false
  recreate:
    description:
      - What to do when O(actor_id) or O(visibility) differ from the existing key, which cannot be changed in place.
      - V(never) fails and names the difference. V(on_change) issues a replacement key and revokes the old one as
        V(superseded) (unless O(retire_replaced=false)).
    type: str
    choices: [never, on_change]
    default: never
notes:
  - Issuing sends a C(request_id), so a retry after a lost response cannot create a second key. If the original response (and so the
    secret) was lost, the orphaned key is revoked and a new one is issued; the module never leaves a live key whose secret nobody has.
    When every answer is lost, the request is replayed once more, and then every key it may have issued is revoked; the failure
    message names the revoked key ids (or, if the keys could not be read, what to revoke).
  - Reads, revocations and issues (with their C(request_id)) are retried after HTTP 500 too, since sending them again is safe.
  - Replacing a key issues the new key first and revokes the old one afterwards, so there is no moment without a working key.
    The plan's key quota must leave room for one more active key meanwhile.
  - A key that has expired but was never revoked is found by name and replaced when O(state=present).
seealso:
  - module: ory.network.ory_issued_api_key_info
  - module: ory.network.ory_api_key_verify
"""

EXAMPLES = r"""
- name: Issue an API key for the billing service and store its secret in Ansible Vault
  ory.network.ory_issued_api_key:
    name: billing-service
    actor_id: svc-billing
    scopes: [invoices:read, invoices:write]
    metadata:
      team: payments
    ttl: 90d
    rotate_before: 14d
    vault_dest: vault/billing.yml
    vault_var: billing_api_key

- name: Rotate the billing key before it expires; keep the old key active until the new one is used or 7 days have passed
  ory.network.ory_issued_api_key:
    name: billing-service
    actor_id: svc-billing
    scopes: [invoices:read, invoices:write]
    metadata:
      team: payments
    ttl: 90d
    rotate_before: 14d
    retire_after: 7d
    retire_when_used: true
    vault_dest: vault/billing.yml
    vault_var: billing_api_key

- name: Last play of the deploy - every billing service has the new secret, so revoke the previous key now
  ory.network.ory_issued_api_key:
    name: billing-service
    actor_id: svc-billing
    scopes: [invoices:read, invoices:write]
    metadata:
      team: payments
    ttl: 90d
    rotate_before: 14d
    retire_previous: true
    vault_dest: vault/billing.yml
    vault_var: billing_api_key

- name: Issue a key and keep the secret in a registered variable (hidden from the output)
  ory.network.ory_issued_api_key:
    name: ci-runner
    actor_id: svc-ci
    scopes: [deploy]
    ip_allowlist: [10.0.0.0/8]
    rate_limit:
      quota: 600
      window: 1m
  register: ci_key

- name: Change the metadata of that key in place (same key, same secret)
  ory.network.ory_issued_api_key:
    key_id: "{{ ci_key.api_key.key_id }}"
    metadata:
      owner: platform-team

- name: Rotate the key on demand (ansible-playbook -e rotate_ci_key=true); Ory revokes the old key
  ory.network.ory_issued_api_key:
    name: ci-runner
    actor_id: svc-ci
    rotate: always
  register: rotated_ci_key
  when: rotate_ci_key | default(false) | bool

- name: Revoke the key of a decommissioned service
  ory.network.ory_issued_api_key:
    name: legacy-reporting
    actor_id: svc-reporting
    state: absent
    revoke_reason: affiliation_changed
"""

RETURN = r"""
api_key:
  description:
    - The key after the task, without its secret. In check mode, the predicted key (a key about to be issued has no RV(api_key.key_id) yet).
    - Empty when O(state=absent) found no key.
  returned: always
  type: dict
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
      description: When the key expires (RFC 3339). Revoking a key moves its expiry to at least 30 days after the revocation.
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
      description: The rate limit policy, or null.
      type: dict
      sample: {quota: 600, window: 60s, unit: requests}
      contains:
        quota:
          description: Requests allowed per window.
          type: int
        window:
          description: The window, in seconds with an C(s) suffix.
          type: str
        unit:
          description: Always V(requests).
          type: str
    ip_restriction:
      description: Where the key may be used from.
      type: dict
      sample: {allowed_cidrs: [10.0.0.0/8]}
      contains:
        allowed_cidrs:
          description: Allowed CIDRs; empty means no restriction.
          type: list
          elements: str
    days_to_expiry:
      description: Whole days until the key expires (negative once expired).
      type: int
      sample: 89
secret:
  description:
    - The secret of the key just issued or rotated. It is shown only this once and cannot be read again.
    - The action plugin hides it from the log unless O(reveal_secret=true), and removes it from the result after storing it
      with O(vault_dest).
  returned: when a key was issued or rotated (not in check mode)
  type: str
  sample: ory_ak_v1_...
old_key_id:
  description:
    - ID of the key that was replaced (by rotation, expiry replacement or O(recreate)).
    - With O(retire_replaced=false) it is still active, and is revoked by the action plugin once the new secret is stored.
  returned: when a key was replaced
  type: str
  sample: 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10
deferred:
  description:
    - Why a replacement that is due did not happen in this run - the previous key of O(vault_var) is still in its grace period,
      and replacing the key now would retire a key services may still use. The first run after the previous key is retired
      makes the replacement.
  returned: when a replacement was deferred
  type: str
  sample: >-
    due for replacement (replace); waits while its previous key 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10 is in its
    grace period (replaced once that key is retired)
retired_key_ids:
  description:
    - IDs of the other active keys with this name (and actor) when O(vault_dest) holds the secret of one of them, which an
      interrupted run left live (a replaced key it did not revoke, or a new key whose secret never reached the file), and the
      previous key of O(vault_var) once it is retired (see RV(previous_key)), revoked as V(superseded) by this run (in check mode,
      that would be revoked).
  returned: when such keys were found
  type: list
  elements: str
  sample: [0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10]
old_key_retired:
  description:
    - Whether the replaced key is revoked (in check mode, whether it would be).
    - V(false) with O(retire_replaced=false), or when revoking it failed after the new key was issued (the task then warns and
      still returns the new secret; with O(vault_dest), where the new secret is already stored, the task fails and names the old key,
      which the next run with the same O(vault_dest) revokes, see RV(retired_key_ids)).
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
        - V(retired) - this run revoked it (in check mode, would revoke it).
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
    - Where the action plugin stored the new secret (O(vault_dest)). The secret itself is then removed from the result.
  returned: when O(vault_dest) is set and a key was issued, rotated or replaced
  type: dict
  contains:
    path:
      description: Absolute path of the vault file.
      returned: always
      type: str
      sample: /srv/ansible/group_vars/all/billing.yml
    var:
      description: Name of the variable that holds the secret (O(vault_var)).
      returned: always
      type: str
      sample: billing_api_key
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

from ansible_collections.ory.network.plugins.module_utils._api_keys import (
    UsageError, check_identifier, check_name, expires_within, parse_duration, run_module,
)
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, project_client, redact
from ansible_collections.ory.network.plugins.module_utils._grace import Grace, server_now
from ansible_collections.ory.network.plugins.module_utils._options import (
    OptionError, OryModule, connection_argument_spec, grace_argument_spec, secret_argument_spec,
)
from ansible_collections.ory.network.plugins.module_utils._planner import lost_secret_action, lost_secret_reason
from ansible_collections.ory.network.plugins.module_utils._talos import (
    EXPIRED, REVOKE_REASONS, REVOKED, Desired, Talos, diff_view, effective_status, present_key, remaining_ttl,
    revoke_reason_value,
)

LOST_SECRET = ('The new secret would be lost: register the result, set vault_dest and vault_var, or set reveal_secret: true.')


def argument_spec():
    spec = connection_argument_spec(
        name=dict(type='str'),
        key_id=dict(type='str'),
        actor_id=dict(type='str'),
        scopes=dict(type='list', elements='str'),
        metadata=dict(type='dict'),
        ttl=dict(type='str'),
        visibility=dict(type='str', choices=['secret', 'public']),
        ip_allowlist=dict(type='list', elements='str'),
        rate_limit=dict(type='dict', options=dict(quota=dict(type='int'), window=dict(type='str'))),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        revoke_reason=dict(type='str', default='superseded', choices=list(REVOKE_REASONS)),
        revoke_description=dict(type='str'),
        rotate=dict(type='str', default='never', choices=['never', 'always']),
        rotate_before=dict(type='str'),
        recreate=dict(type='str', default='never', choices=['never', 'on_change']),
    )
    spec.update(secret_argument_spec())
    spec.update(grace_argument_spec(retire_when_used=dict(type='bool', default=False)))
    return spec


def run(module, connection):
    params = module.params
    check_name(params['name'])
    check_name(params['actor_id'], 'actor_id')
    check_identifier(params['key_id'], 'key_id')
    if params['revoke_description'] and params['revoke_reason'] != 'privilege_withdrawn':
        raise OptionError('revoke_description is only allowed with revoke_reason: privilege_withdrawn.')
    rotate_before = parse_duration(params['rotate_before'], 'rotate_before')
    desired = Desired(params)
    grace = Grace(params, when_used=params['retire_when_used'])
    talos = Talos(project_client(connection))
    leftovers = []

    if params['key_id']:
        key = talos.get(params['key_id'])
        if key is None and params['state'] == 'present':
            raise UsageError("key_id '%s' is not an issued API key of this project." % params['key_id'])
    else:
        stored = params['stored_key_id'] if params['state'] == 'present' else None
        key = talos.find_live(params['name'], params['actor_id'], stored_key_id=stored, leftovers=leftovers,
                              set_aside=grace.aside('key_id') if stored is not None else None)

    if params['state'] == 'absent':
        return absent(module, talos, key)
    if key is not None and key.get('status') == REVOKED:
        raise UsageError("Key %s is revoked and cannot be used again; leave out key_id to issue a new key." % key['key_id'])
    if leftovers and not module.check_mode:
        # An interrupted replacement left a key live beside the stored one (the old key, or a new one whose secret was lost).
        for old in leftovers:
            talos.revoke(old['key_id'], 'superseded')
    result = present(module, talos, desired, key, rotate_before, grace)
    if leftovers:
        result.update(changed=True, retired_key_ids=[k['key_id'] for k in leftovers] + result.get('retired_key_ids', []))
    return result


def absent(module, talos, key):
    """Revoke the key. An already revoked key (by key_id) or no active key with the name: nothing to do."""
    params = module.params
    if key is None or key.get('status') == REVOKED or (not params['key_id'] and effective_status(key) == EXPIRED):
        return dict(changed=False, api_key=present_key(key) if key else {})
    if module.check_mode:
        after = dict(key, status=REVOKED, revocation_reason=revoke_reason_value(params['revoke_reason']),
                     revocation_description=params['revoke_description'])
    else:
        talos.revoke(key['key_id'], params['revoke_reason'], params['revoke_description'])
        after = talos.get(key['key_id']) or dict(key, status=REVOKED)
    return dict(changed=True, api_key=present_key(after), diff=dict(before=diff_view(key), after=diff_view(after)))


def plan(params, desired, key, rotate_before):
    """Decide what to do with the key: (action, mutable changes). Actions: None, patch, issue, replace, rotate."""
    if key is None:
        return 'issue', {}
    immutable = desired.immutable_changes(key)
    changes = desired.mutable_changes(key, rename=bool(params['key_id']))
    if immutable:
        if params['recreate'] != 'on_change':
            raise UsageError('Key %s differs in %s, which cannot be changed in place; set recreate: on_change to replace the key.'
                             % (key['key_id'], ' and '.join(immutable)))
        return 'replace', changes
    if effective_status(key) == EXPIRED:
        return 'replace', changes          # even with rotate: always, whose successor would inherit the past expiry
    expiring = rotate_before is not None and expires_within(key.get('expire_time'), rotate_before)
    lost = lost_secret_reason(key['key_id'], params['stored_key_id']) if params.get('stored_key_id') is not None else None
    if lost:
        # vault_dest does not hold this key's secret: a successor whose secret is stored (the planner's rule)
        if lost_secret_action('issued', params['on_missing_secret'], expiring) == 'fail':
            raise UsageError('Key %s: %s (vault_dest); set on_missing_secret: rotate to give it a successor whose secret is stored.'
                             % (key['key_id'], lost))
        return ('replace' if expiring else 'rotate'), changes
    if params['rotate'] == 'always':
        return 'rotate', changes
    if expiring:
        return 'replace', changes
    if changes:
        return 'patch', changes
    return None, changes


def present(module, talos, desired, key, rotate_before, grace):
    params = module.params
    action, changes = plan(params, desired, key, rotate_before)
    deferred = None
    if action in ('replace', 'rotate') and effective_status(key) != EXPIRED and \
            not lost_secret_reason(key['key_id'], params['stored_key_id']):
        # one previous key per variable: while it waits, a replacement would retire a key services may still use
        deferred = grace.defers(server_now(talos.client), 'due for replacement (%s)' % action, key)
        if deferred:
            action = 'patch' if changes else None
    if action is None:
        result = dict(changed=False, api_key=present_key(key))
        if deferred:
            result['deferred'] = deferred
        settle_previous(module, talos, grace, result, key)
        return result
    if action in ('issue', 'replace', 'rotate') and params['secret_sink'] == 'none':
        raise UsageError(LOST_SECRET)

    result = dict(changed=True)
    if deferred:
        result['deferred'] = deferred
    retire = params['retire_replaced']
    secret = None
    # a successor of a key whose secret is stored: with a grace period, the replaced key stays live as the previous key
    kept = action in ('replace', 'rotate') and grace.wanted and effective_status(key) != EXPIRED and \
        not lost_secret_reason(key['key_id'], params['stored_key_id'])
    if action == 'patch':
        after = dict(key, **changes) if module.check_mode else talos.patch(key['key_id'], changes)
    elif action == 'issue':
        if module.check_mode:
            after = desired.predicted()
        else:
            after, secret = talos.issue(desired.issue_body())
    elif action == 'rotate' and retire and not kept:
        # Ory's :rotate: same attributes (overridden by the changes) and expiry; the server revokes the old key.
        overrides = dict((path, value if value is not None else {}) for path, value in changes.items())
        if module.check_mode:
            after = dict(key, key_id=None, create_time=None, update_time=None, last_used_time=None, **changes)
        else:
            after, secret, dummy = talos.rotate(key, overrides)
        result['old_key_id'] = key['key_id']
        result['old_key_retired'] = True
    else:
        # replace (immutable change, expiring or expired key), or rotate that must keep the old key active:
        # issue the successor first, then retire the old key unless retire_replaced is false.
        base = dict(key, **changes)
        ttl = desired.ttl or (remaining_ttl(key) if action == 'rotate' else None)
        if module.check_mode:
            after = desired.predicted(base, ttl)
        else:
            keep = (key['key_id'], grace.live['key_id']) if grace.live else (key['key_id'],)
            after, secret = talos.issue(desired.issue_body(base, ttl), keep_ids=keep)
            if retire and not kept:
                retire = retire_old(module, talos, key['key_id'])
        result['old_key_id'] = key['key_id']
        result['old_key_retired'] = retire and not kept

    result['api_key'] = present_key(after)
    replaced = action in ('replace', 'rotate')
    settle_previous(module, talos, grace, result, after, superseded=replaced, created=action != 'patch' and not module.check_mode)
    if kept:
        result['previous_key'] = grace.record(key['key_id'], key.get('name'), after.get('create_time'), server_now(talos.client))
    if secret is not None:
        result['secret'] = secret
    result['diff'] = dict(before=diff_view(key), after=diff_view(after))
    return result


def settle_previous(module, talos, grace, result, new_key, superseded=False, created=False):
    """Revoke the vault variable's previous key (as superseded) when it is due, or superseded by this run's replacement, and
    say so in RV(previous_key). After a key was issued, a failed revoke only warns (the new secret must reach the result)."""
    settled = grace.settle(server_now(talos.client), new_key=new_key, superseded=superseded)
    if settled is None:
        return
    state, reason = settled
    if state == 'retire':
        state = 'retired'
        if not module.check_mode:
            try:
                talos.revoke(grace.previous['key_id'], 'superseded')
            except OryApiError as exc:
                if not created:
                    raise
                state = 'waiting'
                module.warn(redact('The new key was issued, but revoking the previous key %s failed (%s); the next run revokes it.'
                                   % (grace.previous['key_id'], str(exc).rstrip('.'))))
        if state == 'retired':
            result['changed'] = True
            result['retired_key_ids'] = result.get('retired_key_ids', []) + [grace.previous['key_id']]
    result['previous_key'] = grace.outcome(state, reason)


def retire_old(module, talos, key_id):
    """Revoke the replaced key. A failure only warns: the task must still return the new key's secret."""
    try:
        talos.revoke(key_id, 'superseded')
    except OryApiError as exc:
        module.warn(redact('The new key was issued, but revoking the replaced key %s failed (%s); revoke it with state: absent '
                           'and key_id: %s.' % (key_id, str(exc).rstrip('.'), key_id)))
        return False
    return True


def main():
    module = OryModule(
        argument_spec=argument_spec(),
        required_one_of=[('name', 'key_id')],
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
