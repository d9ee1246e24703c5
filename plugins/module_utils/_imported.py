# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ory Talos imported API keys: keys an organisation already handed out, imported so that Ory verifies them.

The key id is computed, not assigned: the lowercase hex SHA-512/256 of ``<network id> NUL <raw key>``, where the
network id is the project's ID. So a raw key is found without listing by name, and a rerun is idempotent.
The raw key is sent only in the import request; it is never returned, logged or kept.

Bulk import plans every key against one listing of the project's imported keys (all pages, 1000 per page), then
imports the missing ones with ``:batchCreate`` in batches of at most 1000. A failing key is reported, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

from ansible_collections.ory.network.plugins.module_utils._api_keys import UsageError
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, redact
from ansible_collections.ory.network.plugins.module_utils._options import OptionError
from ansible_collections.ory.network.plugins.module_utils._talos import REVOKED, Desired, revoke_reason_value

IMPORTED_PATH = '/v2alpha1/admin/importedApiKeys'
BATCH_PATH = IMPORTED_PATH + ':batchCreate'
MAX_BATCH = 1000
MAX_RAW_KEY_BYTES = 8192
KEY_ID_RE = re.compile(r'^[0-9a-f]{64}$')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')

# The fields one element of ``keys`` may have.
KEY_ITEM_FIELDS = ('raw_key', 'name', 'actor_id', 'scopes', 'metadata', 'ttl', 'ip_allowlist', 'rate_limit')


def network_id(project_id):
    """The network id used in the key id hash: the project's ID, which must be its UUID (a slug cannot be used)."""
    if not project_id:
        raise OptionError('project_id is required for imported keys (or set ORY_PROJECT_ID): the key id is computed from '
                          'the project ID and the raw key.')
    if not UUID_RE.match(str(project_id)):
        raise OptionError("project_id must be the project's ID (a UUID), not its slug: the imported key id is computed from it.")
    return str(project_id).lower()


def imported_key_id(network, raw_key):
    """The key id Ory gives an imported raw key: hex SHA-512/256 of network id + NUL + raw key."""
    data = network.encode('utf-8') + b'\x00' + raw_key.encode('utf-8')
    return hashlib.new('sha512_256', data).hexdigest()


def check_raw_key(raw_key, what='raw_key'):
    """Refuse what Ory would refuse, before any request: empty, too long, an issued Ory key, a JWT."""
    if not isinstance(raw_key, str) or not raw_key:
        raise OptionError('%s must be a non-empty string.' % what)
    if len(raw_key.encode('utf-8')) > MAX_RAW_KEY_BYTES:
        raise OptionError('%s is longer than %d bytes.' % (what, MAX_RAW_KEY_BYTES))
    if re.match(r'^[A-Za-z0-9_]{1,16}_v1_[1-9A-HJ-NP-Za-km-z]+_[1-9A-HJ-NP-Za-km-z]+$', raw_key):
        raise OptionError('%s looks like a key Ory issued (<prefix>_v1_...); only keys from other systems can be imported.' % what)
    if raw_key.startswith('eyJ') and raw_key.count('.') == 2:
        raise OptionError('%s looks like a JWT; derived tokens cannot be imported.' % what)


class Wanted:
    """One key to import, with the attributes the task declares (None: leave alone)."""

    def __init__(self, params, network, index=None):
        self.index = index
        what = 'raw_key' if index is None else 'keys[%d].raw_key' % index
        check_raw_key(params.get('raw_key'), what)
        for field in ('name', 'actor_id'):
            if not params.get(field) or not isinstance(params.get(field), str):
                raise OptionError('%s is required%s.' % (field, '' if index is None else ' in keys[%d]' % index))
        self.raw_key = params['raw_key']
        self.key_id = imported_key_id(network, self.raw_key)
        self.name = params['name']
        self.desired = Desired(dict((k, params.get(k)) for k in KEY_ITEM_FIELDS if k != 'raw_key'))

    def import_body(self, request_id=None):
        body = self.desired.issue_body()
        body['raw_key'] = self.raw_key
        if request_id:
            body['request_id'] = request_id
        return body

    def predicted(self):
        key = self.desired.predicted()
        key['key_id'] = self.key_id
        return key


def parse_keys(items, network, add_metadata=None):
    """Validate the elements of ``keys``. Returns (wanted list, failures) — a bad element is a failure, not fatal.

    ``add_metadata`` is merged over each key's own metadata (the bootstrap role's marker).
    """
    wanted, failures, seen = [], [], {}
    for index, item in enumerate(items or []):
        try:
            if not isinstance(item, dict):
                raise OptionError('keys[%d] must be a mapping.' % index)
            unknown = sorted(set(item) - set(KEY_ITEM_FIELDS))
            if unknown:
                raise OptionError('keys[%d] has unknown fields: %s.' % (index, ', '.join(unknown)))
            if add_metadata:
                if item.get('metadata') is not None and not isinstance(item['metadata'], dict):
                    raise OptionError('keys[%d].metadata must be a mapping.' % index)
                item = dict(item, metadata=dict(item.get('metadata') or {}, **add_metadata))
            one = Wanted(item, network, index)
            if one.key_id in seen:
                raise OptionError('keys[%d] repeats the raw key of keys[%d].' % (index, seen[one.key_id]))
            seen[one.key_id] = index
            wanted.append(one)
        except OptionError as exc:
            name = item.get('name') if isinstance(item, dict) else None
            failures.append(failure(index, name, None, str(exc)))
    return wanted, failures


def failure(index, name, key_id, error):
    return {'index': index, 'name': name if isinstance(name, str) else None, 'key_id': key_id, 'error': redact(error)}


def plan(wanted, live):
    """Decide per key: 'import' (missing), 'patch' (mutable fields differ), None (as declared) or a failure text."""
    live = live or {}
    if live.get('status') == REVOKED:
        return 'failure', 'imported key %s is revoked; delete it (state: absent) before importing the raw key again' % wanted.key_id
    if not live:
        return 'import', {}
    immutable = wanted.desired.immutable_changes(live)
    if immutable:
        return 'failure', 'imported key %s differs in %s, which cannot be changed; delete it (state: absent) and import it again' % (
            wanted.key_id, ' and '.join(immutable))
    changes = wanted.desired.mutable_changes(live, rename=True)
    return ('patch', changes) if changes else (None, {})


class ImportedKeys:
    """The imported-key endpoints of one project."""

    def __init__(self, client):
        self.client = client

    def get(self, key_id):
        try:
            return self.client.request('GET', '%s/%s' % (IMPORTED_PATH, key_id))
        except OryApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, actor_id=None):
        params = None
        if actor_id is not None:
            params = {'filter': 'actor_id="%s"' % actor_id.replace('\\', '\\\\').replace('"', '\\"')}
        return list(self.client.paginate(IMPORTED_PATH, 'imported_api_keys', params=params))

    def import_one(self, wanted):
        """Import one key. A request_id makes a re-send after a lost response return the original key."""
        return self.client.request('POST', IMPORTED_PATH, body=wanted.import_body(str(uuid.uuid4())), expected=(200, 201),
                                   idempotent=True) or {}

    def batch(self, wanted):
        """Import up to 1000 keys in one call; return {key_id: (key or None, error text or None)}."""
        keys = list(wanted)

        def recover():
            # The response was lost: whatever the server imported is now listed; the rest is reported, not re-sent.
            found = dict((k.get('key_id'), k) for k in self.list())
            return {'recovered': found}

        try:
            response = self.client.request('POST', BATCH_PATH, body={'requests': [w.import_body() for w in keys]},
                                           expected=(200,), recover=recover) or {}
        except OryApiError as exc:
            # Every item failed (the call answers with the dominant error), or the call failed as a whole.
            return dict((w.key_id, (None, str(exc))) for w in keys)
        if 'recovered' in response:
            found = response['recovered']
            return dict((w.key_id, (found[w.key_id], None) if w.key_id in found else
                         (None, 'the batch response was lost and the key is not listed; run again')) for w in keys)
        outcome = {}
        for position, item in enumerate(response.get('results') or []):
            index = item.get('index', position)
            if not isinstance(index, int) or not 0 <= index < len(keys):
                continue
            code = item.get('error_code') or ''
            if item.get('imported_api_key') and code in ('', 'BATCH_CREATE_IMPORTED_API_KEYS_ERROR_UNSPECIFIED'):
                outcome[keys[index].key_id] = (item['imported_api_key'], None)
            else:
                text = '%s: %s' % (code.replace('BATCH_CREATE_IMPORTED_API_KEYS_ERROR_', ''), item.get('error_message') or 'failed')
                outcome[keys[index].key_id] = (None, text)
        for w in keys:
            outcome.setdefault(w.key_id, (None, 'the batch response has no result for this key'))
        return outcome

    def patch(self, key_id, changes):
        paths = [p for p in ('name', 'scopes', 'metadata', 'rate_limit_policy', 'ip_restriction') if p in changes]
        body = dict((p, changes[p]) for p in paths if changes[p] is not None)
        return self.client.request('PATCH', '%s/%s' % (IMPORTED_PATH, key_id), params={'update_mask': ','.join(paths)},
                                   body=body, expected=(200,), idempotent=True)

    def revoke(self, key_id, reason, description=None):
        body = {'reason': revoke_reason_value(reason)}
        if description:
            body['description'] = description

        def recover():
            key = self.get(key_id)
            return {'already': True} if key is None or key.get('status') == REVOKED else None

        try:
            self.client.request('POST', '%s/%s:revoke' % (IMPORTED_PATH, key_id), body=body, expected=(200, 204), recover=recover)
        except OryApiError as exc:
            if exc.status == 409:
                return
            raise

    def delete(self, key_id):
        try:
            self.client.request('DELETE', '%s/%s' % (IMPORTED_PATH, key_id), expected=(200, 204))
        except OryApiError as exc:
            if exc.status != 404:    # a re-sent delete whose first response was lost
                raise


def bulk_import(imported, wanted, failures, check_mode, batch_size=MAX_BATCH):
    """Import the keys that are missing, patch those that differ; return the result of the task."""
    live = dict((k.get('key_id'), k) for k in imported.list()) if wanted else {}
    to_import, to_patch, unchanged = [], [], 0
    for one in wanted:
        action, detail = plan(one, live.get(one.key_id))
        if action == 'failure':
            failures.append(failure(one.index, one.name, one.key_id, detail))
        elif action == 'import':
            to_import.append(one)
        elif action == 'patch':
            to_patch.append((one, detail))
        else:
            unchanged += 1
    imported_count = updated = 0
    if check_mode:
        imported_count, updated = len(to_import), len(to_patch)
    else:
        for start in range(0, len(to_import), batch_size):
            chunk = to_import[start:start + batch_size]
            outcome = imported.batch(chunk)
            for one in chunk:
                key, error = outcome[one.key_id]
                if key is not None:
                    imported_count += 1
                else:
                    failures.append(failure(one.index, one.name, one.key_id, error))
        for one, changes in to_patch:
            try:
                imported.patch(one.key_id, changes)
                updated += 1
            except OryApiError as exc:
                failures.append(failure(one.index, one.name, one.key_id, str(exc)))
    failures.sort(key=lambda f: (f['index'] if f['index'] is not None else -1))
    summary = {'total': len(wanted) + len([f for f in failures if f['key_id'] is None]), 'imported': imported_count,
               'updated': updated, 'unchanged': unchanged, 'failed': len(failures)}
    return dict(changed=bool(imported_count or updated), summary=summary, failures=failures)


def decode_payload(text):
    """The ``keys`` list the action plugin packed into one string (so that only one no_log value is masked)."""
    try:
        items = json.loads(text)
    except ValueError:
        raise OptionError('keys_payload is not valid JSON; it is set by the action plugin, do not set it yourself.') from None
    if not isinstance(items, list):
        raise OptionError('keys_payload must hold a list of keys.')
    return items


def check_single(params):
    """A single-key task must say which key: its raw key, or (to revoke or delete) its key id."""
    if params.get('raw_key') is None and not params.get('key_id'):
        raise UsageError('raw_key is required (or key_id with state: absent or revoked), or give keys / keys_file for a bulk import.')
    if params.get('key_id') and not KEY_ID_RE.match(params['key_id']):
        raise OptionError('key_id must be the 64 lowercase hex characters of an imported key id.')
