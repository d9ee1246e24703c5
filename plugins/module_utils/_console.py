# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Console plane (api.console.ory.sh): project API keys and workspace API keys.

The console has no get and no update for these keys: one list returns every key of a project or a
workspace (a bare JSON array, never with the secret), a create returns the secret once, a delete is final.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.ory.network.plugins.module_utils._api_keys import expiry_facts, normalize_time
from ansible_collections.ory.network.plugins.module_utils._client import RESEND, OryApiError
from ansible_collections.ory.network.plugins.module_utils._options import OptionError

# The metadata fields of a console key, in the order they are shown. ``value`` is never among them.
PROJECT_KEY_FIELDS = ('id', 'name', 'project_id', 'owner_id', 'created_at', 'updated_at', 'expires_at', 'last_characters')
WORKSPACE_KEY_FIELDS = ('id', 'name', 'workspace_id', 'owner_id', 'created_at', 'updated_at', 'expires_at', 'last_characters')
_TIME_FIELDS = ('created_at', 'updated_at', 'expires_at')


def _segment(value):
    return quote(str(value), safe='')


def project_tokens_path(project, key_id=None):
    path = '/projects/%s/tokens' % _segment(project)
    return path if key_id is None else '%s/%s' % (path, _segment(key_id))


def workspace_tokens_path(workspace):
    return '/workspaces/%s/tokens' % _segment(workspace)


def _as_list(body, path):
    if body is None:
        return []
    if not isinstance(body, list):
        raise OryApiError('GET', path, reason='INVALID_RESPONSE', message='expected a list of keys, got %s' % type(body).__name__)
    return [item for item in body if isinstance(item, dict)]


def list_project_keys(client, project):
    """Every API key of the project, as the API returns them (no secrets)."""
    path = project_tokens_path(project)
    return _as_list(client.request('GET', path), path)


def list_workspace_keys(client, workspace):
    """Every API key of the workspace, as the API returns them (no secrets)."""
    path = workspace_tokens_path(workspace)
    return _as_list(client.request('GET', path), path)


def key_facts(key, fields=PROJECT_KEY_FIELDS, with_current=False, credential=None):
    """The metadata of one key for a module result: normalised timestamps, expiry facts, never the secret.

    With ``with_current``, adds ``is_current``: whether ``credential`` (the key this run uses, or None) is this key.
    """
    facts = {}
    for field in fields:
        value = key.get(field)
        if field in _TIME_FIELDS and value:
            try:
                value = normalize_time(value, field)
            except OptionError:
                pass    # not a timestamp we understand: shown as the API sent it
        facts[field] = value
    try:
        facts['expired'], facts['days_to_expiry'] = expiry_facts(facts.get('expires_at'))
    except OptionError:
        facts['expired'], facts['days_to_expiry'] = False, None
    if with_current:
        facts['is_current'] = is_current(key, credential)
    return facts


def is_current(key, credential):
    """True when the key's last characters are the end of ``credential`` (the key this run uses)."""
    tail = key.get('last_characters')
    return bool(tail and credential and str(credential).endswith(str(tail)))


def filter_keys(keys, key_id=None, name=None):
    """The keys with the given id and/or name (no filter: all), in a stable order."""
    selected = [k for k in keys if (key_id is None or k.get('id') == key_id) and (name is None or k.get('name') == name)]
    return sorted(selected, key=lambda k: (str(k.get('created_at') or ''), str(k.get('id') or '')))


def create_project_key(client, project, name, expires_at, known_ids):
    """Create a project API key and return the API's answer (with ``value``), never creating two.

    The create is not idempotent, so it is never re-sent blindly. When its response is lost (or it timed out
    and may still be running), the keys are listed again: a key with this name that was not there before
    (``known_ids``) is the lost create, and its secret is gone with the response, so it is deleted and the
    create is sent once more. When the retries run out, the same clean-up has run before the error is raised;
    if it could not run, the error says which keys to delete.
    """
    path = project_tokens_path(project)
    body = {'name': name}
    if expires_at:
        body['expires_at'] = expires_at
    known = set(known_ids)
    removed = []
    failed = {}

    def recover():
        try:
            keys = list_project_keys(client, project)
            found = False
            for orphan in keys:
                if orphan.get('name') == name and orphan.get('id') not in known:
                    delete_project_key(client, project, orphan['id'])
                    known.add(orphan['id'])
                    removed.append(orphan['id'])
                    found = True
        except OryApiError as exc:
            failed['error'] = exc
            raise
        return RESEND if found else None

    try:
        return client.request('POST', path, body=body, expected=(201, 200), idempotent=False, recover=recover)
    except OryApiError as exc:
        if 'error' in failed:
            raise ExplainedApiError(exc, (
                "Creating project API key '%s' failed, and the keys could not be listed again to remove a key the create may "
                "have made without its secret (%s); delete every key named '%s' except %s with state: absent and id."
            ) % (name, str(exc).rstrip('.'), name, ', '.join(sorted(str(k) for k in known_ids)) or 'none')) from None
        if exc.maybe_done and getattr(exc, 'timed_out', False):
            raise ExplainedApiError(exc, (
                "Creating project API key '%s' got no answer in time (%s), and no new key with this name appeared while "
                "waiting for it%s; if one appears later, its secret is lost: delete it with state: absent and its id."
            ) % (name, str(exc).rstrip('.'), ' (removed without a secret: %s)' % ', '.join(removed) if removed else '')) from None
        raise


def delete_project_key(client, project, key_id):
    """Delete one project API key. A 404 after an ambiguous failure (the first delete may have landed) is success.

    A delete is safe to send again (a second one answers 404), so it is retried after 5xx, timeouts and lost answers.
    """
    ambiguous = []

    def recover():
        ambiguous.append(True)
        return RESEND

    try:
        client.request('DELETE', project_tokens_path(project, key_id), expected=(204, 200), idempotent=False, recover=recover)
    except OryApiError as exc:
        if exc.status == 404 and ambiguous:
            return
        raise


class ExplainedApiError(OryApiError):
    """An OryApiError whose sentence explains the failure (status, reason and request id are kept for the result)."""

    def __init__(self, error, sentence):
        self.sentence = sentence
        super().__init__(error.method, error.path, error.status, error.reason, error.message, error.request_id, error.body)

    def describe(self):
        return self.sentence


def explain_workspace_denied(error, workspace):
    """Turn a 401/403 on the workspace key list into a sentence that says why and what to do."""
    status = 'HTTP %s%s' % (error.status, ' %s' % error.reason if error.reason else '')
    detail = ': %s' % error.message.rstrip('.') if error.message else ''
    request = ' (request id %s)' % error.request_id if error.request_id else ''
    return ExplainedApiError(error, (
        'Ory Network refused to list the API keys of workspace %s (%s%s)%s; check that workspace_api_key is a valid key of '
        'this workspace, and note that the API does not let a workspace API key create or delete workspace API keys '
        '(the Ory CLI does that with a user session), so this collection only reads them.'
    ) % (workspace, status, detail, request))
