# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write new secrets into an Ansible Vault encrypted YAML vars file (controller side only).

The file is a YAML mapping. Storing secret S under variable V sets ``V: S`` and
``V_meta: {key_id, name, expires_at, last_characters, stored_at}``; other variables in the file are kept.

A write is: lock the file's directory (an flock on the directory itself, so no lock file is left
behind), remove temporary files a killed writer left, read and decrypt the current file, merge,
compare the decrypted data (encryption is salted, so bytes always differ), and only when something
changed encrypt, write a temporary file in the same directory, fsync it and rename it over the old file.
Only the text of the managed entries (V and V_meta) is replaced or appended: comments, order, and the
type and value of every other variable stay as they were. A file that cannot be edited that way is
refused, before any key is created (see preflight()), unless it holds only managed entries.
Errors never quote the file content or a secret: each names the path and the cause in one sentence.
"""

from __future__ import annotations

import datetime
import fcntl
import glob
import os
import tempfile

import yaml

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib, is_encrypted

from ansible_collections.ory.network.plugins.module_utils._api_keys import format_time, now

# libyaml when present: a vault file with hundreds of keys parses in milliseconds instead of a second
_SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
_SAFE_DUMPER = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)

META_SUFFIX = '_meta'
META_FIELDS = ('key_id', 'name', 'expires_at', 'last_characters')
HIDDEN = '<hidden>'
HIDDEN_CHANGED = '<hidden, changed>'


class VaultStoreError(Exception):
    """The vault file cannot be read or written. The message names the path and the cause, never content."""

    def __init__(self, path, cause):
        self.path = path
        self.cause = cause
        super().__init__('Vault file %s: %s.' % (path, cause))


class StoreResult:
    """What store_secret() did (or would do, in check mode)."""

    def __init__(self, path, var, changed, diff, vault_id):
        self.path = path
        self.var = var
        self.changed = changed
        self.diff = diff
        self.vault_id = vault_id

    def as_result(self):
        """The part of the task result that tells where the secret went."""
        return {'path': self.path, 'var': self.var, 'changed': self.changed}


def utc_now():
    """Now as an RFC 3339 UTC timestamp with second precision, e.g. ``2026-01-31T12:00:00Z``."""
    return format_time(now())


def vault_secrets_of(vault):
    """The ``[(vault_id, VaultSecret), ...]`` list of a VaultLib-like object, or the list itself."""
    secrets = getattr(vault, 'secrets', vault)
    return list(secrets or [])


def select_encrypt_secret(path, secrets, vault_id=None):
    """Choose the ``(vault_id, secret)`` that encrypts the file.

    An explicit vault_id must be loaded. Without one: the configured default encrypt identity when it is
    loaded, else the first loaded secret.
    """
    if not secrets:
        raise VaultStoreError(path, 'no vault secret is loaded in this run '
                                    '(give one with --vault-id, --vault-password-file or an AWX Vault credential)')
    if vault_id:
        for candidate in secrets:
            if candidate[0] == vault_id:
                return candidate
        raise VaultStoreError(path, 'vault id %r is not loaded in this run (loaded: %s)'
                              % (vault_id, ', '.join(sorted(set(str(v) for v, dummy in secrets)))))
    default_id = C.DEFAULT_VAULT_ENCRYPT_IDENTITY
    if default_id:
        for candidate in secrets:
            if candidate[0] == default_id:
                return candidate
    return secrets[0]


def check_var_name(path, var):
    """A vault_var must be usable as an Ansible variable name."""
    if not isinstance(var, str) or not var.isidentifier() or var.startswith('_'):
        raise VaultStoreError(path, 'vault_var must be a valid variable name (letters, digits, underscores; not starting with a digit or _)')


def plain_text(value):
    """A built-in ``str`` copy of ``value``.

    ``str(x)`` of a ``str`` subclass may return the subclass itself (ansible-core 2.18's AnsibleUnsafeText does), which
    yaml.safe_dump refuses; ``str.__str__`` always returns a plain ``str``.
    """
    if not isinstance(value, str):
        value = str(value)
    return str.__str__(value)


def _plain(value):
    """Turn (possibly 2.18-unsafe or 2.19-tagged) data into plain built-in types that yaml.safe_dump can write."""
    if isinstance(value, dict):
        return dict((plain_text(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return set(_plain(v) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime.datetime):
        return datetime.datetime.fromisoformat(value.isoformat())
    if isinstance(value, datetime.date):
        return datetime.date.fromisoformat(value.isoformat())
    return plain_text(value)


def _read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise VaultStoreError(path, 'the path is a directory') from None
    except NotADirectoryError:
        raise VaultStoreError(path, 'a parent of it is not a directory') from None
    except OSError as exc:
        raise VaultStoreError(path, 'cannot be read (%s)' % (exc.strerror or type(exc).__name__)) from None


def decrypt_text(path, b_data, secrets):
    """Decrypt and parse the file content. Returns ``(plain text, mapping, vault_id_used)``."""
    if not b_data.strip():
        raise VaultStoreError(path, 'the file is empty, not Ansible Vault encrypted')
    if not is_encrypted(b_data):
        raise VaultStoreError(path, 'the file is not Ansible Vault encrypted')
    if not secrets:
        raise VaultStoreError(path, 'no vault secret is loaded in this run to decrypt it')
    try:
        b_plain, used_id, dummy = VaultLib(secrets).decrypt_and_get_vault_id(b_data)
    except AnsibleVaultFormatError:
        raise VaultStoreError(path, 'the vault data is corrupt') from None
    except AnsibleError:
        raise VaultStoreError(path, 'none of the loaded vault secrets decrypts it (wrong vault password or vault id)') from None
    try:
        text = to_text(b_plain, errors='surrogate_or_strict')
        data = yaml.load(text, Loader=_SAFE_LOADER)  # nosec: a safe loader
    except (yaml.YAMLError, UnicodeError):
        # The parser's message can quote the content, so it is not passed on.
        raise VaultStoreError(path, 'the decrypted content is not plain YAML') from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise VaultStoreError(path, 'the decrypted content is a YAML %s, not a mapping of variables' % type(data).__name__)
    return text, data, used_id


def decrypt_vars(path, b_data, secrets):
    """Decrypt and parse the file content. Returns ``(mapping, vault_id_used)``."""
    dummy, data, used_id = decrypt_text(path, b_data, secrets)
    return data, used_id


def read_vars(path, vault):
    """Variables stored in the file (empty when it does not exist). Raises VaultStoreError."""
    b_data = _read_bytes(path)
    if b_data is None:
        return {}
    return decrypt_vars(path, b_data, vault_secrets_of(vault))[0]


def preflight(path, var, vault, vault_id=None, check_mode=False):
    """Prove, before any key is created, that the secret can be stored.

    Vault secrets are loaded, the chosen vault id exists, the variable name is valid, an existing file
    decrypts, parses and can be edited without changing what it holds besides the managed entries, and
    (unless in check mode) the directory exists or is created, takes the lock, and holds a new file:
    a temporary file is created and removed there. Returns the file's variables ({} when it does not exist).
    Raises VaultStoreError.
    """
    secrets = vault_secrets_of(vault)
    check_var_name(path, var)
    # Plain str copies: ansible-core 2.19 tags strings, and yaml.safe_dump cannot write tagged ones.
    path, var = str(path), str(var)
    select_encrypt_secret(path, secrets, vault_id)
    b_data = _read_bytes(path)
    data = {}
    if b_data is not None:
        text, data, dummy = decrypt_text(path, b_data, secrets)
        probe = _merged(_plain(data), var, 'ory-preflight-probe', {}, utc_now())
        _edited(path, text, data, dict((name, probe[name]) for name in (var, var + META_SUFFIX)))
    if check_mode:
        _check_writable(path)
        return data
    _ensure_dir(path)
    lock_fd = _lock_or_fail(path)
    try:
        directory, name = os.path.split(os.path.abspath(path))
        try:
            fd, probe_path = tempfile.mkstemp(prefix='.%s.' % name, suffix='.tmp', dir=directory)
            os.close(fd)
            os.unlink(probe_path)
        except OSError as exc:
            raise VaultStoreError(path, 'cannot create a file in %s (%s)' % (directory, exc.strerror or type(exc).__name__)) from None
    finally:
        os.close(lock_fd)
    return data


def _check_writable(path):
    """The nearest existing ancestor directory must be a writable directory."""
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        raise VaultStoreError(path, '%s is not a directory' % directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise VaultStoreError(path, 'directory %s is not writable' % directory)


class _NotEditable(Exception):
    """The YAML text cannot be edited entry by entry; the message says why (never quoting content)."""


def _managed_spans(text, names):
    """Line spans ``[(start, end), ...]`` of the top-level entries called ``names`` in a block-style YAML mapping."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise _NotEditable('it is not plain YAML') from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise _NotEditable('its variables are written as a flow-style {...} mapping')
    lines = text.splitlines(True)
    spans = []
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.value not in names:
            continue
        if key.start_mark.column != 0:
            raise _NotEditable('a managed variable is not at the start of its line')
        start = key.start_mark.line
        last = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
        last = min(max(last, start), len(lines) - 1)
        # blank and comment lines at the end belong to what follows
        while last > start and (not lines[last].strip() or lines[last].lstrip().startswith('#')):
            last -= 1
        spans.append((start, last + 1))
    return spans


def _render(entries):
    return ''.join(yaml.safe_dump({str(name): _plain(value)}, default_flow_style=False, sort_keys=False, allow_unicode=True)
                   for name, value in entries.items())


def _is_managed_only(data):
    """True when every variable of the file is a stored secret or its metadata (nothing else to keep)."""
    for name, value in data.items():
        meta = data.get('%s%s' % (name, META_SUFFIX))
        if isinstance(meta, dict) and 'key_id' in meta:
            continue
        if str(name).endswith(META_SUFFIX) and isinstance(value, dict) and 'key_id' in value:
            continue
        return False
    return True


def _edited(path, text, data, entries):
    """The file text with the managed ``entries`` replaced (at the place of the first one) or appended, the rest untouched.

    ``data`` is the mapping ``text`` parses to. The result is checked: it must parse to ``data`` with the entries set.
    Raises VaultStoreError when that cannot be done without changing anything else.
    """
    expected = dict(data)
    expected.update(entries)
    try:
        spans = _managed_spans(text, set(entries))
        lines = text.splitlines(True)
        if spans:
            first = min(start for start, dummy in spans)
            dropped = set()
            for start, end in spans:
                dropped.update(range(start, end))
            new = ''.join((_render(entries) if index == first else '') + ('' if index in dropped else line)
                          for index, line in enumerate(lines))
        else:
            new = text if not text or text.endswith('\n') else text + '\n'
            new += _render(entries)
        try:
            same = yaml.safe_load(new) == expected
        except yaml.YAMLError:
            same = False      # e.g. another variable refers to an anchor of a managed entry
        if not same:
            raise _NotEditable('its managed variables could not be replaced on their own')
        return new
    except _NotEditable as exc:
        if _is_managed_only(data):
            return _render(expected)
        raise VaultStoreError(path, 'it holds other variables and %s, so it cannot be updated without changing them; '
                                    'keep the managed secrets in a file of their own' % exc) from None


def _merged(current, var, secret, meta, now):
    """The new mapping: current variables plus the secret and its metadata."""
    new = dict(current)
    old_meta = current.get(var + META_SUFFIX)
    old_meta = old_meta if isinstance(old_meta, dict) else {}
    new_meta = dict((field, meta.get(field)) for field in META_FIELDS)
    if meta.get('previous'):
        # the key this one superseded, live in its grace period (id, name, retire-after time; never its secret)
        new_meta['previous'] = dict(meta['previous'])
    same_key = current.get(var) == secret and old_meta.get('key_id') == new_meta['key_id']
    new_meta['stored_at'] = old_meta.get('stored_at') if same_key and old_meta.get('stored_at') else now
    new[var] = secret
    new[var + META_SUFFIX] = new_meta
    return new


def _names_diff(path, before, after, existed):
    """A diff that shows variable names only, never a value."""
    def render(names, marks):
        return ''.join('%s: %s\n' % (name, marks.get(name, HIDDEN)) for name in sorted(names))

    changed = dict((name, HIDDEN_CHANGED) for name in after if before.get(name) != after[name] or name not in before)
    return {
        'before_header': '%s (vault)' % path if existed else '%s (vault, absent)' % path,
        'after_header': '%s (vault)' % path,
        'before': render(before, {}),
        'after': render(after, changed),
    }


def _lock(path):
    """Take an exclusive lock on the file's directory (flock on the directory itself: nothing is left behind).

    Writers of vault files in the same directory take turns. Returns the directory's descriptor."""
    directory = os.path.dirname(os.path.abspath(path))
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lock_or_fail(path):
    try:
        return _lock(path)
    except OSError as exc:
        raise VaultStoreError(path, 'cannot lock its directory (%s)' % (exc.strerror or type(exc).__name__)) from None


def _remove_leftovers(path):
    """Under the lock, no other writer is busy: temporary files of this file are from a killed writer, and a
    ``.<name>.lock`` file is from an older version of this writer. Both are removed."""
    directory, name = os.path.split(os.path.abspath(path))
    for leftover in glob.glob(os.path.join(glob.escape(directory), '.%s.*.tmp' % glob.escape(name))) + \
            [os.path.join(directory, '.%s.lock' % name)]:
        try:
            os.unlink(leftover)
        except OSError:
            pass


def _ensure_dir(path):
    """Create the missing directories of ``path``, each with mode 0700."""
    directory = os.path.dirname(os.path.abspath(path))
    missing = []
    while not os.path.isdir(directory):
        if os.path.lexists(directory):
            raise VaultStoreError(path, '%s is not a directory' % directory)
        missing.append(directory)
        directory = os.path.dirname(directory)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
            os.chmod(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise VaultStoreError(path, 'its parent is not a directory') from None
        except OSError as exc:
            raise VaultStoreError(path, 'cannot create its directory (%s)' % (exc.strerror or type(exc).__name__)) from None


def _atomic_write(path, b_data):
    """Write to a temporary file in the same directory, fsync, then rename over path (mode 0600)."""
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix='.%s.' % name, suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(b_data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_path, 0o600)
        os.replace(tmp_path, path)
    except BaseException:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def store_secret(path, var, secret, meta, vault, vault_id=None, check_mode=False, now=None):
    """Store ``secret`` as variable ``var`` (and ``var_meta``) in the vault file at ``path``.

    meta: mapping with key_id, name, expires_at, last_characters (missing ones are stored as null).
    vault: a VaultLib-like object with ``secrets``, or the list of ``(vault_id, VaultSecret)``.
    vault_id: label of the loaded secret that encrypts the file; by default the one that decrypts the existing
    file, else the configured default encrypt identity, else the first loaded one.
    check_mode: compute changed and diff, write nothing (not even the lock file or the directory).
    Returns a StoreResult. Raises VaultStoreError; the file is then left as it was.
    """
    secrets = vault_secrets_of(vault)
    check_var_name(path, var)
    if not isinstance(secret, str) or not secret:
        raise VaultStoreError(path, 'there is no secret to store')
    # Plain str copies: ansible-core 2.18 wraps strings as unsafe, 2.19 tags them, and yaml.safe_dump writes neither.
    path, var, secret = plain_text(path), plain_text(var), plain_text(secret)
    meta = _plain(dict(meta or {}))
    select_encrypt_secret(path, secrets, vault_id)

    lock_fd = None
    try:
        if not check_mode:
            _ensure_dir(path)
            lock_fd = _lock_or_fail(path)
            _remove_leftovers(path)
        b_data = _read_bytes(path)
        existed = b_data is not None
        text, raw, used_id = decrypt_text(path, b_data, secrets) if existed else ('', {}, None)
        current = _plain(raw)
        new = _merged(current, var, secret, meta, now or utc_now())
        managed = dict((name, new[name]) for name in (var, var + META_SUFFIX))
        chosen_id, chosen_secret = select_encrypt_secret(path, secrets, vault_id or used_id)
        changed = any(current.get(name) != value for name, value in managed.items()) or not existed
        diff = _names_diff(path, current, new, existed) if changed else {}
        if changed:
            new_text = _edited(path, text, raw, managed)
        if changed and not check_mode:
            try:
                b_vault = VaultLib(secrets).encrypt(to_bytes(new_text), secret=chosen_secret, vault_id=chosen_id)
                _atomic_write(path, b_vault)
            except AnsibleError:
                raise VaultStoreError(path, 'encryption with vault id %r failed' % chosen_id) from None
            except OSError as exc:
                raise VaultStoreError(path, 'cannot be written (%s)' % (exc.strerror or type(exc).__name__)) from None
        return StoreResult(path, var, changed, diff, chosen_id)
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


class VaultFile:
    """One run's hold on a vault file, for many secrets: locked from the first read to the last write, decrypted once.

    ``open()`` takes the lock (the same ``.<name>.lock`` store_secret() takes, so module tasks and engine runs on
    one file never interleave) and decrypts the file; ``put()`` merges a secret into the data in memory;
    ``flush()`` encrypts and writes it atomically; ``close()`` releases the lock. In check mode nothing is
    created or written (no lock file, no directory). Errors are VaultStoreError, naming the path and the cause.
    """

    def __init__(self, path, vault, vault_id=None, check_mode=False):
        self.path = str(path)
        self.secrets = vault_secrets_of(vault)
        self.vault_id = vault_id
        self.check_mode = check_mode
        self.data = {}
        self.existed = False
        self.used_id = None
        self.pending = []
        self.written = 0
        self._lock_fd = None

    def open(self):
        if not self.check_mode:
            _ensure_dir(self.path)
            try:
                self._lock_fd = _lock(self.path)
            except OSError as exc:
                raise VaultStoreError(self.path, 'cannot lock it (%s)' % (exc.strerror or type(exc).__name__)) from None
        b_data = _read_bytes(self.path)
        self.existed = b_data is not None
        if self.existed:
            data, self.used_id = decrypt_vars(self.path, b_data, self.secrets)
            self.data = _plain(data)
        return self

    def check_writable(self):
        """Before the first change: a secret to encrypt with is loaded and the file can be written."""
        select_encrypt_secret(self.path, self.secrets, self.vault_id or self.used_id)
        _check_writable(self.path)

    def put(self, var, secret, meta):
        check_var_name(self.path, var)
        self.data = _merged(self.data, str(var), str(secret), _plain(dict(meta or {})), utc_now())
        self.pending.append(str(var))

    def flush(self):
        """Write the pending secrets (one encryption, one atomic rename). Returns the variables written."""
        written, self.pending = self.pending, []
        if not written or self.check_mode:
            return written
        if self._lock_fd is None:
            _ensure_dir(self.path)
            try:
                self._lock_fd = _lock(self.path)
            except OSError as exc:
                raise VaultStoreError(self.path, 'cannot lock it (%s)' % (exc.strerror or type(exc).__name__)) from None
        chosen_id, chosen_secret = select_encrypt_secret(self.path, self.secrets, self.vault_id or self.used_id)
        text = yaml.dump(_plain(self.data), Dumper=_SAFE_DUMPER, default_flow_style=False, sort_keys=True, allow_unicode=True)
        try:
            b_vault = VaultLib(self.secrets).encrypt(to_bytes(text), secret=chosen_secret, vault_id=chosen_id)
            _atomic_write(self.path, b_vault)
        except AnsibleError:
            raise VaultStoreError(self.path, 'encryption with vault id %r failed' % chosen_id) from None
        except OSError as exc:
            raise VaultStoreError(self.path, 'cannot be written (%s)' % (exc.strerror or type(exc).__name__)) from None
        self.existed = True
        self.written += 1
        return written

    def close(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
