#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name (plugins/action/ory_api_key_bootstrap.py) on the controller;
# this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_api_key_bootstrap
short_description: Bring one environment's Ory Network API keys to the declared state, secrets in Ansible Vault
version_added: 0.2.0
description:
  - The engine of the role C(ory.network.api_key_bootstrap). One task
    handles all keys of one environment, however many.
  - Reads the project API keys (console) and the issued API keys (project API, Talos, all pages) once each, decrypts the
    environment's vault file once, decides per key (create, update, rotate, replace, retire, prune, or stop) and makes only
    the calls that change something.
  - New secrets go to the vault file, encrypted with the run's vault secrets, and never to the output. Each new secret is
    written (atomically) before the key it replaces is deleted or revoked. The vault file's lock is held from the first read
    to the last write, so two runs for one environment never both create a key.
  - Every declaration is checked before the first call. Keys the engine will not touch on its own (a lost secret with
    O(on_missing_secret=fail), a key with a declared name that this environment did not issue) stop the run before any change.
  - Runs on the controller; give each environment its own inventory host so that forks run them in parallel.
options:
  environment:
    description:
      - Name of the environment. Marks its keys (project key names start with O(name_prefix); issued keys carry the metadata
        C(managed_by=ory.network) and C(environment)) and names the default vault file.
      - Letters, digits, C(.), C(_) and C(-); it starts with a letter or digit.
    type: str
    required: true
  project_id:
    description:
      - ID or slug of the project on the console API. Without it, O(project_slug) is used, then E(ORY_PROJECT_ID).
    type: str
  name_prefix:
    description: Prefix of the key names in Ory Network. Default C(<environment>:).
    type: str
  project_api_keys:
    description:
      - Project API keys of the environment, each with C(name) (required), C(expires_at) (RFC 3339) or C(expires_in) (a
        duration, at create), C(rotate_before) (a duration), C(retire_after) (a duration, see O(retire_after)) and
        C(vault_var) (default C(ory_project_api_key_<name>)).
    type: list
    elements: dict
    default: []
  issued_api_keys:
    description:
      - Issued API keys of the environment, each with C(name) and C(actor_id) (required), C(scopes), C(metadata), C(ttl),
        C(ip_allowlist), C(rate_limit) (C(quota), C(window)), C(rotate_before), C(retire_after), C(retire_when_used) (see
        O(retire_after) and O(retire_when_used)) and C(vault_var) (default C(ory_issued_api_key_<name>)).
      - C(scopes), C(metadata), C(ip_allowlist) and C(rate_limit) are declarative (left out means none) and updated in place.
        A changed C(actor_id) replaces the key. C(ttl) applies when a key is issued.
    type: list
    elements: dict
    default: []
  imported_api_keys:
    description:
      - Legacy API keys of the environment to import into Ory (Talos imported keys) so that Ory verifies them, each with
        C(raw_key), C(name) and C(actor_id) (required), C(scopes), C(metadata), C(ttl), C(ip_allowlist) and C(rate_limit), as for
        M(ory.network.ory_imported_api_key). Give them from a vault-encrypted variable; a raw key is never returned or shown.
      - One list read and C(:batchCreate) batches of 1000 with the project API key of the run (O(talos_key)); each key is marked
        with the environment in its metadata (C(managed_by), C(environment)). Needs the project ID as a UUID (O(project_id), or the
        project of a listed project key).
      - A key that cannot be imported fails the task after all others are imported.
    type: list
    elements: dict
    default: []
  talos_key:
    description:
      - Name (without prefix) of the key in O(project_api_keys) whose secret authenticates the issued-key calls, while the
        vault file holds the secret of its live key (a key created in this run is used at once).
      - Otherwise O(project_api_key) (or E(ORY_PROJECT_API_KEY)) is used.
    type: str
  vault_dest:
    description:
      - The Ansible-Vault-encrypted YAML vars file of the environment. Relative paths are relative to the playbook.
      - Default C(<inventory dir>/group_vars/<environment>/vault.yml).
    type: str
  vault_id:
    description: The loaded vault secret that encrypts the vault file. Default the one that decrypts it, else the run's default.
    type: str
  on_missing_secret:
    description:
      - A live key whose secret is not in the vault file (or is stored for another key id).
      - V(rotate) gives it a successor (issued keys) or replaces it (project keys) and stores the new secret; several such keys
        of one name are replaced by one new key. V(fail) stops before any change and names the keys.
    type: str
    choices: [rotate, fail]
    default: rotate
  verify:
    description:
      - V(stored) verifies the secrets stored in this run with C(apiKeys:batchVerify) (100 per call) and checks every other
        stored secret offline (the key id inside an issued key's secret, the last characters of a project key's), so that
        verification does not mark every key as used.
      - V(all) verifies every stored issued secret online; V(none) skips the checks. V(true) means V(all), V(false) V(none).
    type: raw
    default: stored
  prune:
    description: Delete project keys named with O(name_prefix) and revoke issued keys marked for this environment that are not declared.
    type: bool
    default: false
  retire_after:
    description:
      - A grace period, such as V(24h) or V(7d), for every key that does not set its own C(retire_after) (V(0) turns it off).
      - When a key whose secret is stored is replaced (rotate_before, a changed expiry or C(actor_id)), the new secret is
        stored and the old key stays live, recorded in the vault file as the variable's C(previous) key (its id, name,
        C(replaced_at) and C(retire_after) time, never its secret), so that services still holding the old secret keep
        working until they are deployed with the new one.
      - The first run after the grace period (counted from the new key's creation, on Ory Network's clock) deletes or
        revokes the previous key. O(retire_previous) retires it earlier; O(retire_when_used) when the new key is used.
      - A key replaced because its secret is lost never gets a grace period (nobody holds its secret). One previous key per
        variable - a replacement that comes due while the previous key still waits (rotate_before, a changed expiry or
        C(actor_id)) is deferred until that key is retired, since replacing now would retire a key services may still use.
      - Without O(retire_after) and O(retire_when_used), a replaced key is retired in the run that replaces it.
    type: str
  retire_previous:
    description:
      - Retire every previous key that is waiting in its grace period now, whatever its C(retire_after) time, for example in
        the last play of a deploy, once every service has the new secrets. Keys replaced in this same run still wait.
    type: bool
    default: false
  retire_when_used:
    description:
      - Default of the issued keys' C(retire_when_used). With it, a replaced issued key is also retired once its
        successor shows a C(last_used_time), that is once a service has verified the new secret at least once.
      - Ory sets C(last_used_time) at most once a day and asynchronously; on a new key it appears shortly after its first
        verification. It proves that one service uses the new secret, not that all do; combine it with O(retire_after)
        when several services share a key. The engine then never verifies the new secret online (a verify would count as
        its first use); it is checked offline.
      - Project API keys have no last use on the console API; giving C(retire_when_used) on a project key is an error.
    type: bool
    default: false
extends_documentation_fragment:
  - ory.network.connection
  - ory.network.attributes
attributes:
  action:
    description: Runs on the controller, with the run's vault secrets.
    support: full
  check_mode:
    description: Reads and plans; reports what would be done without any write to Ory Network or the vault file.
    support: full
  diff_mode:
    description: Not supported; the result lists every key with its action and reason.
    support: none
notes:
  - An unchanged environment costs one console list and one paged Talos list, and no verify call.
  - Progress is shown per changed key (name, id, action, reason) while the task runs; RV(summary) has a line for every key.
seealso:
  - module: ory.network.ory_project_api_key
  - module: ory.network.ory_issued_api_key
author:
  - ory.network collection maintainers (@ory-network-ansible)
"""

EXAMPLES = r"""
# project_id and project_slug come from the ORY_PROJECT_ID / ORY_PROJECT_SLUG environment variables here; the role
# ory.network.api_key_bootstrap passes them from ory_bootstrap_project_id / ory_bootstrap_project_slug.
- name: Bootstrap the keys of the staging environment
  ory.network.ory_api_key_bootstrap:
    environment: staging
    talos_key: talos
    project_api_keys:
      - {name: talos, expires_in: 90d, rotate_before: 14d}
    issued_api_keys:
      - name: checkout
        actor_id: svc-checkout
        scopes: [orders:read]
        ttl: 30d
        rotate_before: 7d
    vault_dest: group_vars/staging/vault.yml
  register: bootstrap

- name: Show what the environment has now
  ansible.builtin.debug:
    msg: "{{ bootstrap.summary }}"
"""

RETURN = r"""
api_keys:
  description: One entry per key the run looked at, never a secret.
  returned: always
  type: list
  elements: dict
  contains:
    plane:
      description: V(project) or V(issued).
      type: str
      sample: issued
    name:
      description: Name of the key in Ory Network.
      type: str
      sample: "staging:checkout"
    id:
      description: ID of the key after the run (null for a key that would be created in check mode).
      type: str
      sample: 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b
    old_id:
      description: ID of the key that was replaced, retired or pruned, or is kept in its grace period.
      type: str
      returned: for rotate, replace, retire, prune and grace
      sample: 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10
    action:
      description:
        - V(none), V(create), V(update), V(rotate), V(replace), V(retire), V(prune), or V(grace) (a previous key kept live
          in its grace period, see O(retire_after)).
      type: str
      sample: create
    reason:
      description: Why, in one line.
      type: str
      sample: new key
    expires_at:
      description: Expiry of the key (RFC 3339), or null.
      type: str
      sample: "2027-01-31T10:00:00Z"
    days_to_expiry:
      description: Whole days left, or null.
      type: int
      sample: 29
    vault_var:
      description: The variable of the vault file that holds its secret (empty for retired, pruned and previous keys).
      type: str
      sample: ory_issued_api_key_checkout
    retire_after:
      description: When a key in its grace period is retired (RFC 3339), or null when only another trigger retires it.
      type: str
      returned: for a previous key superseded in this run
      sample: "2027-01-02T10:00:00Z"
previous_keys:
  description: The keys kept live in their grace period after the run, each the C(previous) key of a vault variable.
  returned: success
  type: list
  elements: dict
  sample: [{plane: project, name: "staging:talos", id: 0b5d3f0e-1c1e-4c8e-9c44-3c5f7d3c2a10, vault_var: ory_project_api_key_talos,
            retire_after: "2027-01-02T10:00:00Z", retire_when_used: false,
            reason: "previous key in its grace period: kept live until 2027-01-02T10:00:00Z, or a run with retire_previous"}]
  contains:
    plane:
      description: V(project) or V(issued).
      type: str
    name:
      description: Name of the key in Ory Network.
      type: str
    id:
      description: ID of the previous key.
      type: str
    vault_var:
      description: The vault variable whose current secret replaced it.
      type: str
    retire_after:
      description: When the first run after it retires the key (RFC 3339), or null.
      type: str
    retire_when_used:
      description: Whether the first use of the new key retires it.
      type: bool
    reason:
      description: What it waits for, in one line.
      type: str
summary:
  description: One line per key (plane, name, id, expiry, where the secret is stored, what was done).
  returned: always
  type: list
  elements: str
  sample:
    - "issued key staging:checkout | id 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b | expires 2027-01-31T10:00:00Z (29 days left)
      | stored in /inv/group_vars/staging/vault.yml as ory_issued_api_key_checkout | created"
counts:
  description: How many keys got each action.
  returned: success
  type: dict
  sample: {none: 3, create: 1}
vault:
  description: The vault file, and whether it was (or would be) written.
  returned: success
  type: dict
  contains:
    path:
      description: Absolute path of the vault file.
      type: str
      sample: /inv/group_vars/staging/vault.yml
    changed:
      description: Whether the file was (or in check mode would be) written.
      type: bool
      sample: true
requests:
  description: API requests the run sent.
  returned: always
  type: int
  sample: 2
verified:
  description: Secrets verified online (apiKeys:batchVerify) in this run.
  returned: success
  type: int
  sample: 1
verify_calls:
  description: apiKeys:batchVerify calls made.
  returned: success
  type: int
  sample: 1
imported:
  description: What the import of O(imported_api_keys) did (empty without legacy keys); C(total), C(imported), C(updated),
    C(unchanged) and C(failed) keys.
  returned: success
  type: dict
  sample: {total: 2, imported: 2, updated: 0, unchanged: 0, failed: 0}
rate_limit:
  description:
    - How long the run waited for Ory Network's rate limits, over all its API calls. The engine paces itself from the
      C(x-ratelimit-*) response headers; at C(-v) it shows a line per wait with the writes left and the expected wait
      ahead (see the R(rate limits guide,ansible_collections.ory.network.docsite.rate_limits)).
  returned: when the run waited for a rate limit or was answered HTTP 429
  type: dict
  sample: {waits: 12, waited_seconds: 41.0, throttled: 0}
  contains:
    waits:
      description: How many times the run waited before sending a request.
      type: int
    waited_seconds:
      description: Seconds spent waiting, in total.
      type: float
    throttled:
      description: Requests answered with HTTP 429; each was sent again after the wait and none counts toward O(retries).
      type: int
"""
