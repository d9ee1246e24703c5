# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the modules that can return a new secret: the secret rules, written once.

- A task whose secret would be neither registered, stored (vault_dest) nor revealed runs the module with
  ``secret_sink=none``: the module then refuses to create or rotate a key.
- With vault_dest, the vault file is checked before the module runs, the new secret is stored after it,
  and the secret is removed from the result.
- A secret left in the result (registered only) is hidden from output with ``_ansible_no_log``,
  unless reveal_secret is true.
- No message, warning or error text ever contains a secret: whatever this plugin or the vault writer raises is
  caught once, in run(), and reported by the key id and the exception type only, never by its text.
- Whether the module may return a secret (``secret_sink``) is an internal channel: the plugin passes it in the
  module's environment, so it is not a task option.
- Grace period (retire_after, retire_previous, retire_when_used; they need vault_dest): the vault variable's
  ``previous`` record (a replaced key kept live; ids and times, never a secret) goes to the module through its environment
  too; the module decides with the planner's rule and returns RV(previous_key), which this plugin records in the vault
  metadata while it waits and drops once it is retired or gone. A key kept live is not retired after the store.
"""

from __future__ import annotations

import json
import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.ory.network.plugins.module_utils._options import (
    CONNECTION_ARGUMENT_SPEC, PREVIOUS_KEY_ENV, SECRET_SINK_ENV, STORED_KEY_ENV,
)
from ansible_collections.ory.network.plugins.module_utils._planner import previous_of, stored_key, stored_view
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import VaultStoreError, plain_text, preflight, store_secret

try:
    from ansible.parsing.vault import VaultSecretsContext
except ImportError:  # ansible-core < 2.19
    VaultSecretsContext = None

ACTION_OPTIONS = ('reveal_secret', 'vault_dest', 'vault_var', 'vault_id')


def lost_secret_message(key_id, vault_dest, cause):
    """The message of a task that created or rotated a key whose new secret could not be stored."""
    if not vault_dest:
        return ('Key %s was created or rotated, but %s stopped the task before its secret reached the result; the secret is lost. '
                'Rotate or replace the key to get a new one.' % (key_id, cause))
    return ('Key %s was created or rotated, but its secret could not be stored in %s: %s. '
            'The secret is not kept anywhere else. Fix the cause and run the task again with vault_dest: the next run repairs it '
            '(a live key whose secret is missing from the vault file is rotated or replaced, and the new secret stored).'
            % (key_id, vault_dest, cause))


class SecretActionBase(ActionBase):
    """Runs a key module and applies the secret rules to its result.

    Subclasses set MODULE (the module's FQCN) and SECRET_KEY (the result key of the secret), and may override
    key_meta() to read the key's metadata from the result.
    """

    MODULE = ''
    SECRET_KEY = ''
    # Result keys of the metadata inside result['api_key'], in the order key_id, name, expires_at, last_characters.
    META_KEYS = ('id', 'name', 'expires_at', 'last_characters')

    # Module options (besides the connection) that a retiring call keeps, and the ones it sets.
    RETIRE_KEEP = ()
    RETIRE_SET = {}
    RETIRE_ID = 'id'
    # Options that pick the key: given as null ("{{ none }}") or '' they are refused, never taken as "not given".
    IDENTIFIERS = ('name', 'id')
    # Grace period options: the previous key is recorded in the vault file's metadata, so they need vault_dest.
    GRACE_OPTIONS = ('retire_after', 'retire_previous')

    _supports_check_mode = True
    _supports_async = False

    def retire_args(self, old_key_id):
        """Module arguments that delete or revoke the replaced key ``old_key_id``."""
        args = dict((k, v) for k, v in self._task.args.items() if k in CONNECTION_ARGUMENT_SPEC or k in self.RETIRE_KEEP)
        args.update(self.RETIRE_SET)
        args[self.RETIRE_ID] = old_key_id
        return args

    def key_meta(self, result, secret):
        """The metadata stored next to the secret: key_id, name, expires_at, last_characters."""
        api_key = result.get('api_key')
        api_key = api_key if isinstance(api_key, dict) else {}
        meta = dict((field, api_key.get(key)) for field, key in zip(('key_id', 'name', 'expires_at', 'last_characters'), self.META_KEYS))
        if not meta['last_characters']:
            meta['last_characters'] = secret[-4:]
        return meta

    def loaded_vault_secrets(self):
        """The vault secrets loaded in this run, as ``[(vault_id, VaultSecret), ...]``.

        The CLI gives them to the DataLoader (set_vault_secrets), which the worker process inherits;
        ansible-core 2.19 also keeps them in VaultSecretsContext.
        """
        vault = getattr(self._loader, '_vault', None)
        secrets = list(getattr(vault, 'secrets', None) or [])
        if not secrets and VaultSecretsContext is not None:
            context = VaultSecretsContext.current(optional=True)
            secrets = list(getattr(context, 'secrets', None) or [])
        return secrets

    def _vault_path(self, path):
        path = os.path.expandvars(os.path.expanduser(str(path)))
        if not os.path.isabs(path):
            path = os.path.join(self._loader.get_basedir(), path)
        return os.path.normpath(path)

    def _options(self):
        """Read and check the action-side options. Returns (reveal, vault_dest, vault_var, vault_id) or raises ValueError."""
        args = self._task.args
        for name in self.IDENTIFIERS:
            if name in args and (args[name] is None or (isinstance(args[name], str) and not args[name].strip())):
                hint = ' (in check mode, a key that is only about to be created has no id yet)' \
                    if self._task.check_mode and args[name] is None and name != 'name' else ''
                raise ValueError('%s is set but empty (null or an empty string)%s; give a value, or leave %s out.' % (name, hint, name))
        try:
            reveal = boolean(args.get('reveal_secret', False), strict=True)
        except TypeError:
            raise ValueError('reveal_secret must be a boolean.') from None
        vault_dest, vault_var, vault_id = (args.get(name) for name in ('vault_dest', 'vault_var', 'vault_id'))
        if vault_dest and not vault_var:
            raise ValueError('vault_var is required when vault_dest is set: it names the variable that holds the secret in the vault file.')
        if vault_var and not vault_dest:
            raise ValueError('vault_dest is required when vault_var is set: it is the vault file the secret is stored in.')
        if vault_id and not vault_dest:
            raise ValueError('vault_id only applies together with vault_dest and vault_var.')
        for name, value in (('vault_dest', vault_dest), ('vault_var', vault_var), ('vault_id', vault_id)):
            if value is not None and not isinstance(value, str):
                raise ValueError('%s must be a string.' % name)
        for name in self.GRACE_OPTIONS:
            if not vault_dest and _grace_set(args.get(name)):
                raise ValueError('%s needs vault_dest and vault_var: the replaced key kept live in its grace period is recorded '
                                 'in the vault file, next to the new secret.' % name)
        return reveal, (self._vault_path(vault_dest) if vault_dest else None), vault_var, vault_id

    def run(self, tmp=None, task_vars=None):
        self._secret_sink = None
        self._stored_key_id = None
        self._previous_key = None
        self._progress = {}
        try:
            return self._run(tmp, task_vars)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # The one catch-all: exception text may quote task arguments or the new secret, so only its type is named.
            return self._unexpected(exc)

    def _compute_environment_string(self, raw_environment_out=None):
        """The task's environment, plus the internal channels to the module (secret sink, stored key id)."""
        environment = {}
        super()._compute_environment_string(environment)
        if getattr(self, '_secret_sink', None):
            environment[SECRET_SINK_ENV] = self._secret_sink
        if getattr(self, '_stored_key_id', None) is not None:
            environment[STORED_KEY_ENV] = self._stored_key_id
        if getattr(self, '_previous_key', None):
            environment[PREVIOUS_KEY_ENV] = self._previous_key
        if isinstance(raw_environment_out, dict):
            raw_environment_out.clear()
            raw_environment_out.update(environment)
        return self._connection._shell.env_prefix(**environment)

    def _unexpected(self, exc):
        """The failed result for an exception nobody expected: names the key id and the exception type, never its text."""
        progress = getattr(self, '_progress', {})
        key_id = progress.get('key_id') or '(unknown id)'
        if progress.get('secret'):
            msg = lost_secret_message(key_id, progress.get('vault_dest'), 'unexpected %s' % type(exc).__name__)
        else:
            msg = 'Unexpected %s in the %s action (key %s); its text is not shown because it could contain a secret.' % (
                type(exc).__name__, self.MODULE, key_id)
        return dict(failed=True, changed=bool(progress.get('changed')), msg=msg)

    def _run(self, tmp, task_vars):
        result = super().run(tmp, task_vars)
        del tmp

        try:
            reveal, vault_dest, vault_var, vault_id = self._options()
        except ValueError as exc:
            result.update(failed=True, msg=str(exc))
            return result

        secrets = self.loaded_vault_secrets()
        stored = {}
        if vault_dest:
            try:
                stored = preflight(vault_dest, vault_var, secrets, vault_id, check_mode=bool(self._task.check_mode))
            except VaultStoreError as exc:
                result.update(failed=True, msg='Nothing was changed: the new secret could not be stored. %s' % exc)
                return result

        self._secret_sink = 'result' if (self._task.register or reveal or vault_dest) else 'none'
        module_args = dict(self._task.args)
        if vault_dest:
            # The key id whose secret the file holds ('' for none): the module gives a key whose secret is not stored a
            # successor (on_missing_secret), and finishes a half-done replacement.
            self._stored_key_id = stored_key(stored_view(stored), vault_var)[0]
            # The vault variable's previous key (a replaced key in its grace period): ids and times, never a secret.
            previous = previous_of(stored.get(vault_var + '_meta'))
            self._previous_key = json.dumps(previous, sort_keys=True) if previous else None
        # No gap on replacement: with vault_dest the old key stays live until the new secret is stored.
        retire_after_store = False
        if vault_dest:
            retire_after_store = boolean(module_args.get('retire_replaced', True), strict=False)
            module_args['retire_replaced'] = False
        try:
            module_result = self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(module_result)
        api_key = result.get('api_key')
        self._progress.update(changed=result.get('changed'), vault_dest=vault_dest,
                              key_id=api_key.get(self.META_KEYS[0]) if isinstance(api_key, dict) else None)

        secret = result.get(self.SECRET_KEY)
        if not secret:
            if vault_dest and not result.get('failed'):
                self._settle_previous(result, stored, vault_dest, vault_var, vault_id, secrets)
            return result
        self._progress['secret'] = True
        secret = plain_text(secret)

        if vault_dest:
            self._store(result, secret, vault_dest, vault_var, vault_id, secrets)
            # Stored (or the task failed saying so): the secret leaves the result either way, even with reveal_secret.
            del result[self.SECRET_KEY]
            kept = (self._kept_previous(result) or {}).get('key_id') == result.get('old_key_id')
            if retire_after_store and result.get('old_key_id') and not result.get('failed') and not kept:
                self._retire(result, task_vars)
        elif not reveal:
            # Only registered: the variable keeps the secret, the output (callbacks, -v, AWX events) does not show it.
            result['_ansible_no_log'] = True
        return result

    @staticmethod
    def _kept_previous(result):
        """The previous key record the vault metadata keeps after this run (the module's RV(previous_key) while it waits)."""
        previous = result.get('previous_key')
        if isinstance(previous, dict) and previous.get('state') == 'waiting':
            return previous_of({'previous': previous})
        return None

    def _settle_previous(self, result, stored, vault_dest, vault_var, vault_id, secrets):
        """No new key: drop the vault variable's previous record once the module retired that key, or it is gone."""
        meta = stored.get(vault_var + '_meta')
        secret = stored.get(vault_var)
        if 'previous_key' not in result or not isinstance(meta, dict) or not previous_of(meta) or not isinstance(secret, str) or not secret:
            return
        kept = self._kept_previous(result)
        if kept == previous_of(meta):
            return
        meta = dict(meta, previous=kept)
        try:
            written = store_secret(vault_dest, vault_var, plain_text(secret), meta, secrets, vault_id=vault_id,
                                   check_mode=bool(self._task.check_mode))
        except VaultStoreError as exc:
            result.update(failed=True, msg='The previous key record of %s could not be updated in %s: %s; the next run updates it.'
                          % (vault_var, vault_dest, exc.cause))
            return
        result['vault'] = written.as_result()
        result['changed'] = bool(result.get('changed')) or written.changed
        if self._task.diff and written.diff:
            result['diff'] = self._merge_diffs(result.get('diff'), written.diff)

    def _store(self, result, secret, vault_dest, vault_var, vault_id, secrets):
        """Store the secret in the vault file; on failure mark the task failed with a message that names the key id and the path."""
        meta = self.key_meta(result, secret)
        kept = self._kept_previous(result)
        if kept:
            meta['previous'] = kept
        try:
            stored = store_secret(vault_dest, vault_var, secret, meta, secrets, vault_id=vault_id, check_mode=bool(self._task.check_mode))
        except VaultStoreError as exc:
            # Only VaultStoreError text is known to be free of content; anything else reaches the catch-all in run().
            result.update(
                failed=True,
                changed=True,
                vault={'path': vault_dest, 'var': vault_var, 'changed': False},
                msg=lost_secret_message(meta.get('key_id') or '(unknown id)', vault_dest, exc.cause),
            )
            return
        result['vault'] = stored.as_result()
        result['changed'] = bool(result.get('changed')) or stored.changed
        if self._task.diff and stored.diff:
            result['diff'] = self._merge_diffs(result.get('diff'), stored.diff)

    def _retire(self, result, task_vars):
        """The new secret is stored: now delete or revoke the key it replaced."""
        old = result['old_key_id']
        if self._task.check_mode:
            result['old_key_retired'] = True
            return
        try:
            retired = self._execute_module(module_name=self.MODULE, module_args=self.retire_args(old), task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if retired.get('failed'):
            # The new secret is safe in the vault file, so the task can fail: the old key must not stay live unnoticed.
            result['old_key_retired'] = False
            result['failed'] = True
            result['msg'] = ('The new key %s is stored in %s, but the replaced key %s could not be retired and stays live (%s); '
                             'retire it with state: absent and %s: %s.'
                             % ((result.get('api_key') or {}).get(self.META_KEYS[0]), result['vault']['path'], old,
                                str(retired.get('msg') or 'no reason given').rstrip('.'), self.RETIRE_ID, old))
        else:
            result['old_key_retired'] = True

    @staticmethod
    def _merge_diffs(module_diff, vault_diff):
        """One diff list: the module's diff(s) then the vault file's (names only)."""
        if not module_diff:
            return vault_diff
        diffs = list(module_diff) if isinstance(module_diff, list) else [module_diff]
        diffs.append(vault_diff)
        return diffs


def _grace_set(value):
    """Whether a grace period option asks for something (a duration other than 0, or true)."""
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in ('', '0', 'false', 'no', 'off')):
        return False
    return value not in (0, '0')
