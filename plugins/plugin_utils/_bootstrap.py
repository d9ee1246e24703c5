# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bootstrap engine of one environment (controller side): read, plan, change, store, verify, in one task.

- One read per plane (the console list, the Talos list with all pages), the vault file decrypted once.
- Every decision comes from the planner (module_utils/_planner.py); every call goes through the one client.
- The vault file's lock is held from the first read to the last write, so two runs on one environment
  never both create a key.
- No gap: each new secret is written to the vault file (atomically) before its predecessor is retired.
  A run killed in between leaves a live key whose secret is stored, or a marked key whose secret is
  stored nowhere, which the next run replaces (one new key for however many such keys).
- Grace period: with retire_after (or retire_when_used), a replaced key stays live as the ``previous`` key of its
  vault variable (recorded in the vault file's metadata, never its secret) and a later run retires it: once its
  retire-after time has passed on Ory Network's clock, when the run sets retire_previous, or (issued keys, opt-in)
  when the new key shows a last_used_time.
- Verification: the secrets stored in this run are verified with apiKeys:batchVerify (at most 100 per
  call); every other stored secret is checked offline (the key id inside an ``ory_ak_v1_`` secret, the
  last characters of a project key), so a daily run does not set every key's last_used_time.
"""

from __future__ import annotations

import datetime

from ansible_collections.ory.network.plugins.module_utils._api_keys import expiry_facts, format_time, now, parse_time
from ansible_collections.ory.network.plugins.module_utils._client import OryApiError, console_client, project_client, redact
from ansible_collections.ory.network.plugins.module_utils._console import create_project_key, delete_project_key, list_project_keys
from ansible_collections.ory.network.plugins.module_utils._grace import kept_record, server_now
from ansible_collections.ory.network.plugins.module_utils._imported import UUID_RE, ImportedKeys, bulk_import, network_id, parse_keys
from ansible_collections.ory.network.plugins.module_utils._options import CONNECTION_ARGUMENT_SPEC, Connection, OptionError
from ansible_collections.ory.network.plugins.module_utils._planner import (
    CHANGING, PlanError, Step, embedded_key_id, failures, parse_declarations, plan_plane, previous_due, stored_key,
    stored_view,
)
from ansible_collections.ory.network.plugins.module_utils._talos import Talos, remaining_ttl
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import VaultFile, VaultStoreError

BATCH_VERIFY = 100          # contract §4.9: at most 100 credentials per apiKeys:batchVerify
FLUSH_EVERY = 50            # new secrets written to the vault file at least every this many creations
BATCH_VERIFY_PATH = '/v2alpha1/admin/apiKeys:batchVerify'

DONE = {'none': 'unchanged', 'create': 'created', 'update': 'updated', 'rotate': 'rotated', 'replace': 'replaced',
        'retire': 'retired', 'prune': 'pruned', 'grace': 'kept live (grace period)', 'fail': 'stopped'}
VERIFY_CHOICES = ('stored', 'all', 'none')


class EngineError(Exception):
    """The run stops. The message is one sentence (or a list of them) without any secret."""


def verify_mode(value):
    """'stored' (the secrets stored in this run), 'all' or 'none'; booleans: true = all, false = none."""
    if isinstance(value, bool):
        return 'all' if value else 'none'
    text = str(value if value is not None else 'stored').strip().lower()
    if text in ('true', 'yes', 'on'):
        return 'all'
    if text in ('false', 'no', 'off'):
        return 'none'
    if text not in VERIFY_CHOICES:
        raise EngineError('verify must be one of stored, all, none (or a boolean), not %r.' % (value,))
    return text


class Engine:
    """One environment's run. ``report(line)`` shows progress (names, ids, actions, reasons; never a secret).

    ``progress(line)`` (the action plugin's ``-v``) gets one line per rate limit wait: the writes left and the expected
    wait ahead; ``report`` gets one summary line at the end of a run that waited.
    """

    def __init__(self, params, vault_path, vault_secrets, check_mode=False, report=None, clock=now, progress=None):
        self.params = params
        self.env = params['environment']
        self.prefix = params.get('name_prefix') if params.get('name_prefix') is not None else self.env + ':'
        self.project = params.get('project_id') or params.get('project_slug')
        self.check_mode = check_mode
        self.report = report or (lambda line: None)
        self.progress = progress or (lambda line: None)
        self.clients = []         # every client of the run (their pacers' totals make the result's rate_limit)
        self.writes_left = 0      # write requests the plan still has to send (for the rate limit progress lines)
        self.at = clock()
        self.vault = VaultFile(vault_path, vault_secrets, params.get('vault_id') or None, check_mode)
        self.conn = dict((k, params.get(k)) for k in CONNECTION_ARGUMENT_SPEC)
        self.rows = []            # per key: what was done
        self.new_secrets = {}     # var -> (plane, key id) stored in this run
        self.secrets_by_var = {}  # var -> secret stored in this run (for the issued-key calls and verification)
        self.live = {'project': None, 'issued': None}
        self.requests = 0
        self.verified = 0
        self.verify_calls = 0
        self.talos_note = ''
        self.imported = None     # the bulk import of the environment's legacy keys, when it declares any
        self.previous = {}        # var -> the previous record stored in this run (a key kept live in its grace period)
        self.forgotten = []       # vars whose previous record was dropped (the key was retired, or is gone)

    # ------------------------------------------------------------ helpers

    def _row(self, step, action=None, key=None, note=None):
        plane = step.plane
        key = key if key is not None else (step.live or {})
        expires = key.get('expires_at') if plane == 'project' else key.get('expire_time')
        try:
            expires = format_time(parse_time(expires)) if expires else None
            days = expiry_facts(expires, self.at)[1]
        except OptionError:
            days = None
        action = action or step.action
        row = {'plane': plane, 'name': step.name, 'id': (key.get('id') if plane == 'project' else key.get('key_id')) or None,
               'action': action, 'reason': note or step.reason, 'expires_at': expires, 'days_to_expiry': days,
               'vault_var': step.vault_var if action not in ('retire', 'prune', 'grace') else ''}
        if action in ('retire', 'prune', 'rotate', 'replace', 'grace'):
            row['old_id'] = step.key_id
        self.rows.append(row)
        if row['action'] != 'none':
            done = ('would be ' if self.check_mode else '') + DONE[row['action']]
            self.report('%s key %s | id %s | %s: %s' % (plane, step.name, row['id'] or '(new)', done, row['reason']))
        return row

    def _client(self, plane, project_key=None):
        conn = dict(self.conn)
        if project_key:
            conn['project_api_key'] = project_key
        client = console_client(Connection(conn)) if plane == 'project' else project_client(Connection(conn))
        client.pacing.on_wait = lambda info: self._on_wait(client, info)
        self.clients.append(client)
        return client

    def _on_wait(self, client, info):
        """One progress line per rate limit wait (bucket, writes left, expected wait; no path, no secret)."""
        left = max(0, self.writes_left)
        line = 'rate limit: waiting %.1f s (bucket "%s" %s), %d write%s left' % (
            info['seconds'], info['bucket'], 'answered 429' if info['reason'] == 'throttled' else 'used up',
            left, '' if left == 1 else 's')
        ahead = client.pacing.estimate(info['method'], info['path'], left) if left and info['method'] != 'GET' else None
        if ahead is not None:
            line += ', about %d s of waiting ahead' % round(ahead)
        self.progress(line)

    def rate_limit(self):
        """The run's rate limit waits over all its clients, or None when it never waited."""
        totals = dict(waits=0, waited_seconds=0.0, throttled=0)
        for client in self.clients:
            for name, value in (client.pacing.summary() or {}).items():
                totals[name] += value
        if not totals['waits'] and not totals['throttled']:
            return None
        totals['waited_seconds'] = round(totals['waited_seconds'], 1)
        return totals

    def _wrote(self, count=1):
        self.writes_left -= count

    def _count(self, client):
        if client is None:
            return
        self.requests += client.requests_sent
        client.requests_sent = 0

    # ------------------------------------------------------------ the run

    def run(self):
        try:
            project_decls, issued_decls = parse_declarations(
                self.env, self.prefix, self.params.get('project_api_keys') or [], self.params.get('issued_api_keys') or [],
                self.params.get('talos_key') or None, self.at,
                defaults={'retire_after': self.params.get('retire_after'), 'retire_when_used': self.params.get('retire_when_used')})
        except PlanError as exc:
            raise EngineError('Environment %s: nothing was changed: %s' % (self.env, exc)) from None
        self.verify = verify_mode(self.params.get('verify'))
        self.retire_previous = bool(self.params.get('retire_previous'))
        self.decls = {'project': project_decls, 'issued': issued_decls}
        prune = bool(self.params.get('prune'))
        on_missing = self.params.get('on_missing_secret') or 'rotate'
        self.vault.open()
        try:
            return self._run(project_decls, issued_decls, prune, on_missing)
        finally:
            try:
                self.vault.flush()
            finally:
                self.vault.close()

    def _run(self, project_decls, issued_decls, prune, on_missing):
        view = stored_view(self.vault.data)
        need_console = bool(project_decls) or prune
        need_talos = bool(issued_decls) or prune or bool(self.params.get('imported_api_keys'))
        if need_console and not self.project:
            raise EngineError('Environment %s: project_id is required (or project_slug, or ORY_PROJECT_ID).' % self.env)
        console = self._client('project') if need_console else None
        project_steps = []
        if console is not None:
            self.live['project'] = list_project_keys(console, self.project)
            self._count(console)
            project_steps = plan_plane('project', project_decls, self.live['project'], view, self.at, self.env, self.prefix,
                                       on_missing, prune, self._server_now(console), self.retire_previous)

        talos_key = self._talos_credential(project_steps, view)
        issued_steps = None
        if need_talos and (talos_key or self._fallback_project_key()):
            issued_steps = self._plan_issued(issued_decls, talos_key, view, on_missing, prune)
        stop = failures(project_steps) + failures(issued_steps or [])
        if stop:
            raise EngineError(self._stop_message(stop, 'any key'))
        if need_talos and issued_steps is None and not self.check_mode:
            talos_decl = self._talos_decl()
            talos_step = [s for s in project_steps if talos_decl is not None and s.decl is talos_decl]
            if not talos_step or talos_step[0].action not in ('create', 'replace', 'rotate'):
                raise EngineError('Environment %s: no project API key for the issued-key calls; declare one in project_api_keys '
                                  'and name it in talos_key, or set project_api_key (or ORY_PROJECT_API_KEY).' % self.env)
        if any(s.action in ('create', 'replace', 'rotate') for s in project_steps + (issued_steps or [])) or \
                (issued_steps is None and issued_decls):
            self.vault.check_writable()

        self.writes_left = planned_writes(project_steps) + planned_writes(issued_steps or [])
        # project keys: new ones first (secrets stored), then their predecessors and duplicates retired
        self._apply_project(console, project_steps)
        # the talos key may have been created or replaced (its predecessor deleted): use the key as it is now
        talos_key = self._talos_credential(project_steps, stored_view(self.vault.data), after_changes=True)

        if need_talos and issued_steps is None:
            if talos_key or self._fallback_project_key():
                issued_steps = self._plan_issued(issued_decls, talos_key, stored_view(self.vault.data), on_missing, prune)
                self.writes_left += planned_writes(issued_steps)
                stop = failures(issued_steps)
                if stop:
                    raise EngineError(self._stop_message(stop, 'any issued key'))
            else:
                # check mode on a new environment: the project key for the project API does not exist yet
                self.talos_note = ' (the project API key for the issued-key calls does not exist yet)'
                issued_steps = plan_plane('issued', issued_decls, [], {}, self.at, self.env, self.prefix, on_missing, False)
        if issued_steps:
            self._apply_issued(talos_key, issued_steps)
        for step in project_steps:
            if step.action == 'prune':
                self._retire_project(console, step)
        self._settle_previous(view)
        verify_key = talos_key if talos_key or self._fallback_project_key() else None
        if self.params.get('imported_api_keys'):
            self._import_legacy(verify_key)
        self._verify(verify_key, issued_steps or [])
        result = self._result()
        waited = self.rate_limit()
        if waited:
            result['rate_limit'] = waited
            self.report('rate limit: waited %d times, %.1f s in all (%d requests answered 429)' % (
                waited['waits'], waited['waited_seconds'], waited['throttled']))
        if self.imported is not None and self.imported['failures']:
            raise EngineError('Environment %s: %d of the legacy keys could not be imported (the others were): %s.' % (
                self.env, len(self.imported['failures']),
                '; '.join('keys[%s] %s: %s' % (f['index'], f['name'] or '', f['error'].rstrip('.')) for f in self.imported['failures'])))
        return result

    # ------------------------------------------------------------ legacy keys (Talos imported keys)

    def _import_legacy(self, talos_key):
        """Import the environment's legacy keys (one list read, batches of 1000), marked with the environment."""
        if talos_key is None and not self._fallback_project_key():
            # check mode on a new environment: nothing can be read yet; every key would be imported
            self.imported = {'changed': True, 'summary': {'total': len(self.params['imported_api_keys']),
                                                          'imported': len(self.params['imported_api_keys'])}, 'failures': []}
            return
        wanted, failed = parse_keys(self.params['imported_api_keys'], network_id(self._project_uuid()),
                                    add_metadata={'managed_by': 'ory.network', 'environment': self.env})
        client = self._client('issued', talos_key)
        self.imported = bulk_import(ImportedKeys(client), wanted, failed, self.check_mode)
        self._count(client)
        summary = self.imported['summary']
        if summary.get('imported') or summary.get('updated'):
            self.report('imported keys: %s%d imported, %d updated, %d unchanged' % (
                'would be ' if self.check_mode else '', summary['imported'], summary['updated'], summary['unchanged']))

    def _project_uuid(self):
        """The project's ID (a UUID: imported key ids are computed from it): project_id, else the project of a live key."""
        for candidate in [self.params.get('project_id')] + [k.get('project_id') for k in self.live['project'] or []]:
            if candidate and UUID_RE.match(str(candidate)):
                return str(candidate)
        return self.params.get('project_id')

    # ------------------------------------------------------------ the credential for the project API

    def _talos_decl(self):
        name = self.params.get('talos_key')
        for decl in self.decls['project']:
            if decl.name == name:
                return decl
        return None

    def _fallback_project_key(self):
        return self.conn.get('project_api_key')

    def _talos_credential(self, project_steps, view, after_changes=False):
        """The stored secret of talos_key while it belongs to a live key (or one made in this run), else None."""
        decl = self._talos_decl()
        if decl is None:
            return None
        if decl.vault_var in self.secrets_by_var:
            return self.secrets_by_var[decl.vault_var]
        stored_id, dummy = stored_key(view, decl.vault_var)
        live_ids = set(k.get('id') for k in self.live['project'] or [])
        for step in project_steps:
            if step.decl is decl and step.action in ('retire', 'prune') and after_changes:
                live_ids.discard(step.key_id)
        if stored_id and stored_id in live_ids and self.vault.data.get(decl.vault_var):
            return str(self.vault.data[decl.vault_var])
        return None

    def _plan_issued(self, decls, talos_key, view, on_missing, prune):
        talos = Talos(self._client('issued', talos_key))
        self.talos = talos
        self.live['issued'] = talos.list()
        self._count(talos.client)
        return plan_plane('issued', decls, self.live['issued'], view, self.at, self.env, self.prefix, on_missing, prune,
                          self._server_now(talos.client), self.retire_previous)

    def _server_now(self, client):
        """Ory Network's clock, which grace periods are measured on; else the run's time."""
        return server_now(client, self.at)

    def _stop_message(self, stop, what):
        hint = ''
        if any('lost secret' in line for line in stop):
            hint = ' Set on_missing_secret: rotate (ory_bootstrap_on_missing_secret) to replace keys whose secret is lost.'
        return 'Environment %s, stopped before changing %s: %s.%s' % (self.env, what, '; '.join(stop), hint)

    # ------------------------------------------------------------ changes

    def _store(self, step, plane, key, secret, client=None):
        """Keep the new secret for the vault file (written before any predecessor is retired).

        With a grace period, the replaced key is recorded as the variable's ``previous`` key (id, name, times; no secret)."""
        key_id = key.get('id') if plane == 'project' else key.get('key_id')
        meta = {'key_id': key_id, 'name': key.get('name'), 'last_characters': key.get('last_characters') or secret[-4:],
                'expires_at': key.get('expires_at') if plane == 'project' else key.get('expire_time')}
        if step.grace and step.live:
            made = key.get('created_at') if plane == 'project' else key.get('create_time')
            meta['previous'] = kept_record(step.key_id, step.live.get('name'), made, self._server_now(client), step.decl.retire_after,
                                           plane == 'issued' and step.decl.retire_when_used)
            self.previous[step.vault_var] = meta['previous']
        self.vault.put(step.vault_var, secret, meta)
        self.new_secrets[step.vault_var] = (plane, key_id)
        self.secrets_by_var[step.vault_var] = secret
        if len(self.vault.pending) >= FLUSH_EVERY:
            self.vault.flush()

    def _superseded_row(self, step, client):
        """The row of a key a replacement superseded and keeps live: the previous key of its variable, in its grace period."""
        at = self._server_now(client)
        record = self.previous.get(step.vault_var) or kept_record(
            step.key_id, step.live.get('name'), None, at, step.decl.retire_after, step.plane == 'issued' and step.decl.retire_when_used)
        kept = Step(step.plane, step.name, 'grace', previous_due(record, at)[1], decl=step.decl, live=step.live)
        row = self._row(kept)
        row['retire_after'] = record['retire_after']
        return row

    def _settle_previous(self, view):
        """Drop the ``previous`` record of every variable whose previous key was retired in this run, or is gone."""
        waiting = set(row['old_id'] for row in self.rows if row['action'] == 'grace')
        planned = set(row['vault_var'] for row in self.rows if row['vault_var'])
        for var, entry in sorted(view.items()):
            previous = entry.get('previous')
            if not previous or var not in planned or var in self.previous or previous['key_id'] in waiting:
                continue
            meta = dict(self.vault.data.get(var + '_meta') or {})
            secret = self.vault.data.get(var)
            if not isinstance(secret, str) or not secret:
                continue
            meta.pop('previous', None)
            self.vault.put(var, secret, meta)
            self.forgotten.append(var)
            gone = not any(row['old_id'] == previous['key_id'] for row in self.rows if row['action'] == 'retire')
            if gone:
                self.report('%s: the previous key %s is no longer live; its record is removed from the vault file'
                            % (var, previous['key_id']))

    def _apply_project(self, console, steps):
        creating = [s for s in steps if s.action in ('create', 'replace')]
        if self.check_mode:
            for step in steps:
                if step.action != 'prune':
                    self._row(step, key=self._predicted_project(step) if step.action in ('create', 'replace') else None)
                if step.grace:
                    self._superseded_row(step, console)
            return
        known = set(k.get('id') for k in self.live['project'] or [])
        try:
            for step in creating:
                expiry = step.decl.new_expiry(self.at) or self._inherited_expiry(step.live)
                created = create_project_key(console, self.project, step.name, expiry, known) or {}
                secret = created.pop('value', None)
                if not secret:
                    raise EngineError('Environment %s: creating project API key %s returned no secret.' % (self.env, step.name))
                self._wrote()
                known.add(created.get('id'))
                self._store(step, 'project', created, secret, console)
                self._row(step, key=created)
        finally:
            self._count(console)
            self.vault.flush()
        for step in steps:
            if step.action in ('none', 'fail', 'grace'):
                self._row(step)
            elif step.action == 'retire':
                self._retire_project(console, step)
        for step in creating:
            if step.live and step.grace:
                self._superseded_row(step, console)
            elif step.live:
                delete_project_key(console, self.project, step.key_id)
                self._wrote()
        self._count(console)

    def _inherited_expiry(self, old):
        """A replacement without expires_at/expires_in keeps the lifetime of the key it replaces (never: none)."""
        if old and old.get('expires_at') and old.get('created_at'):
            try:
                life = parse_time(old['expires_at']) - parse_time(old['created_at'])
            except OptionError:
                return None
            if life.total_seconds() > 0:
                return format_time(self.at + life)
        return None

    def _predicted_project(self, step):
        return {'id': None, 'name': step.name,
                'expires_at': step.decl.new_expiry(self.at) or self._inherited_expiry(step.live)}

    def _retire_project(self, console, step):
        if not self.check_mode:
            delete_project_key(console, self.project, step.key_id)
            self._wrote()
            self._count(console)
        self._row(step, note='%s: deleted' % step.reason if step.action == 'retire' else 'deleted: %s' % step.reason)

    def _apply_issued(self, talos_key, steps):
        if self.check_mode:
            for step in steps:
                key = None
                if step.action in ('create', 'replace', 'rotate'):
                    key = {'key_id': None, 'name': step.name, 'expire_time': None}
                    ttl = step.decl.ttl or None
                    if ttl:
                        key['expire_time'] = format_time(self.at + datetime.timedelta(seconds=ttl))
                elif step.action == 'update':
                    key = dict(step.live, **step.changes)
                self._row(step, key=key, note=(step.reason + self.talos_note) if step.action == 'create' and self.talos_note else None)
                if step.grace:
                    self._superseded_row(step, getattr(getattr(self, 'talos', None), 'client', None))
            return
        talos = Talos(self._client('issued', talos_key))
        issuing = [s for s in steps if s.action in ('create', 'replace', 'rotate')]
        # keys that were live before this run are never taken for the orphan of a lost issue (see Talos.issue)
        known = tuple(k.get('key_id') for k in self.live['issued'] or [])
        try:
            for step in issuing:
                desired = step.decl.desired
                if step.action == 'rotate':
                    # a successor with the declared attributes; ttl: declared, else what the old key had left
                    body = desired.issue_body(step.live, desired.ttl or remaining_ttl(step.live, self.at))
                else:
                    body = desired.issue_body()
                key, secret = talos.issue(body, keep_ids=known)
                self._wrote()
                self._store(step, 'issued', key, secret, talos.client)
                self._row(step, key=key)
        finally:
            self._count(talos.client)
            self.vault.flush()
        for step in steps:
            if step.action == 'update':
                key = talos.patch(step.key_id, step.changes) or {}
                self._wrote()
                key = key.get('issued_api_key', key) if isinstance(key, dict) else {}
                self._row(step, key=key or step.live)
            elif step.action in ('none', 'grace'):
                self._row(step)
        for step in steps:
            if step.action in ('replace', 'rotate') and step.live and step.grace:
                self._superseded_row(step, talos.client)
            elif step.action in ('replace', 'rotate') and step.live:
                talos.revoke(step.key_id, 'superseded')
                self._wrote()
            elif step.action == 'retire':
                talos.revoke(step.key_id, 'superseded')
                self._wrote()
                self._row(step, note='%s: revoked' % step.reason)
            elif step.action == 'prune':
                talos.revoke(step.key_id, 'privilege_withdrawn', 'No longer declared for environment %s' % self.env)
                self._wrote()
                self._row(step, note='revoked: %s' % step.reason)
        self._count(talos.client)
        self.talos = talos

    # ------------------------------------------------------------ verification

    def _verify(self, talos_key, issued_steps):
        """Check every stored secret of a declared key: online (batchVerify) or offline; raise naming the bad ones."""
        if self.verify == 'none' or self.check_mode:
            return
        bad = []
        live_ids = {}
        for row in self.rows:
            if row['action'] not in ('retire', 'prune', 'fail') and row['vault_var']:
                live_ids[row['vault_var']] = (row['plane'], row['name'], row['id'])
        online = []
        for var, (plane, name, key_id) in sorted(live_ids.items()):
            secret = self.vault.data.get(var)
            meta = self.vault.data.get(var + '_meta') or {}
            if not isinstance(secret, str) or not secret:
                bad.append('%s (no secret stored)' % name)
                continue
            if meta.get('key_id') != key_id:
                bad.append('%s (the stored secret is for key %s, the live key is %s)' % (name, meta.get('key_id'), key_id))
                continue
            if plane == 'issued':
                embedded = embedded_key_id(secret)
                if embedded and embedded != key_id:
                    bad.append('%s (the stored secret belongs to key %s, the live key is %s)' % (name, embedded, key_id))
                elif (self.verify == 'all' or var in self.new_secrets) and not (meta.get('previous') or {}).get('retire_when_used'):
                    # a verify sets last_used_time: the new key's first use by a service must retire the previous key, not ours
                    online.append((name, key_id, secret))
            else:
                live = [k for k in self.live['project'] or [] if k.get('id') == key_id]
                tail = (live[0].get('last_characters') if live else None) or meta.get('last_characters')
                if tail and not secret.endswith(str(tail)):
                    bad.append('%s (the stored secret does not end with the live key\'s last characters)' % name)
        if online:
            talos = Talos(self._client('issued', talos_key))
            for start in range(0, len(online), BATCH_VERIFY):
                chunk = online[start:start + BATCH_VERIFY]
                answer = talos.client.request('POST', BATCH_VERIFY_PATH, body={'requests': [{'credential': c[2]} for c in chunk]},
                                              expected=(200,), idempotent=True) or {}
                self.verify_calls += 1
                results = answer.get('results') or []
                for index, (name, key_id, dummy) in enumerate(chunk):
                    result = results[index] if index < len(results) and isinstance(results[index], dict) else {}
                    if not result.get('is_valid'):
                        bad.append('%s (%s)' % (name, result.get('error_code') or 'not valid'))
                    elif result.get('key_id') != key_id:
                        bad.append('%s (verifies as key %s, the live key is %s)' % (name, result.get('key_id'), key_id))
                    else:
                        self.verified += 1
            self._count(talos.client)
        if bad:
            raise EngineError('Environment %s: the stored secret does not check out for %s.' % (self.env, ', '.join(bad)))

    # ------------------------------------------------------------ result

    def _result(self):
        changed = any(r['action'] in CHANGING for r in self.rows) or bool(self.imported and self.imported['changed'])
        counts = {}
        for row in self.rows:
            counts[row['action']] = counts.get(row['action'], 0) + 1
        changed = changed or bool(self.forgotten)
        return {'changed': changed, 'api_keys': self.rows, 'summary': self.summary(), 'counts': counts,
                'previous_keys': self.previous_keys(),
                'vault': {'path': self.vault.path,
                          'changed': bool(self.vault.written) or (self.check_mode and bool(self.new_secrets or self.forgotten))},
                'requests': self.requests, 'verified': self.verified, 'verify_calls': self.verify_calls,
                'imported': (self.imported or {}).get('summary', {})}

    def previous_keys(self):
        """The keys kept live in their grace period: plane, name, id, vault_var (of their successor), retire_after, why."""
        keys = []
        for row in self.rows:
            if row['action'] == 'grace':
                var = next((r['vault_var'] for r in self.rows if r['name'] == row['name'] and r['plane'] == row['plane']
                            and r['vault_var']), '')
                record = self.previous.get(var) or (self.vault.data.get(var + '_meta') or {}).get('previous') or {}
                keys.append({'plane': row['plane'], 'name': row['name'], 'id': row['id'], 'vault_var': var,
                             'retire_after': record.get('retire_after'), 'retire_when_used': bool(record.get('retire_when_used')),
                             'reason': row['reason']})
        return keys

    def summary(self):
        lines = []
        for row in self.rows:
            what = ('would be ' if self.check_mode and row['action'] != 'none' else '') + DONE[row['action']]
            if row['action'] not in ('none', 'create') and row['reason']:
                what += ' (%s)' % row['reason']
            line = '%s key %s | id %s' % (row['plane'], row['name'], row['id'] or '(new)')
            if row['action'] not in ('retire', 'prune'):
                line += ' | expires %s' % (row['expires_at'] or 'never')
                if row['days_to_expiry'] is not None:
                    line += ' (%s days left)' % row['days_to_expiry']
            if row['vault_var']:
                line += ' | stored in %s as %s' % (self.vault.path, row['vault_var'])
            lines.append(line + ' | ' + what)
        return lines


def planned_writes(steps):
    """The write requests a plane's steps send: one per new, changed or removed key, one more per key a new one replaces."""
    count = 0
    for step in steps:
        if step.action in ('create', 'replace', 'rotate'):
            count += 2 if step.live and step.action != 'create' else 1
        elif step.action in ('update', 'retire', 'prune'):
            count += 1
    return count


def safe_message(exc):
    """One sentence for any failure, never with a secret: our own errors as they are (redacted), others by type."""
    if isinstance(exc, (EngineError, PlanError, OptionError, OryApiError, VaultStoreError)):
        return redact(str(exc))
    return 'unexpected %s' % type(exc).__name__
