# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the vault file writer: idempotency, merge, atomic write, errors, lock, check mode, no value leaks."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ory.network.plugins.plugin_utils import _vault_store as vs

SECRET = 'ory_pat_Zq8sEcReTvAlUe4711'
SECRET2 = 'ory_pat_AnOtHeRsEcReT0042'
META = {'key_id': 'key-1', 'name': 'ci', 'expires_at': '2027-01-01T00:00:00Z', 'last_characters': '4711'}


def secrets_for(password, vault_id='default'):
    return [(vault_id, VaultSecret(password.encode()))]


SECRETS = secrets_for('right password', 'prod')


def write_vault(path, data, secrets=None, vault_id='prod', raw=None):
    """Create a vault file with plain YAML data (or raw text) the way ansible-vault would."""
    text = raw if raw is not None else yaml.safe_dump(data)
    secrets = secrets or SECRETS
    b_data = VaultLib(secrets).encrypt(text, secret=secrets[0][1], vault_id=vault_id)
    with open(path, 'wb') as handle:
        handle.write(b_data)
    return b_data


def read_vault(path, secrets=None):
    with open(path, 'rb') as handle:
        return yaml.safe_load(VaultLib(secrets or SECRETS).decrypt(handle.read()))


def file_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


def no_leak(*texts):
    for text in texts:
        assert SECRET not in str(text)
        assert SECRET2 not in str(text)


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / 'vault' / 'secrets.yml')


def test_creates_file_and_directory_with_private_modes(dest):
    result = vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    assert result.changed is True
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(dest)).st_mode) == 0o700
    assert file_bytes(dest).startswith(b'$ANSIBLE_VAULT;1.2;AES256;prod\n')
    assert read_vault(dest) == {
        'ci_key': SECRET,
        'ci_key_meta': dict(META, stored_at='2026-01-01T00:00:00Z'),
    }
    assert result.as_result() == {'path': dest, 'var': 'ci_key', 'changed': True}


def test_same_secret_twice_is_unchanged_and_leaves_bytes(dest):
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    before = file_bytes(dest)
    mtime = os.stat(dest).st_mtime_ns
    result = vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-02-02T00:00:00Z')
    assert result.changed is False
    assert result.diff == {}
    assert file_bytes(dest) == before
    assert os.stat(dest).st_mtime_ns == mtime


def test_stored_at_kept_when_secret_and_key_id_unchanged(dest):
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    renamed = dict(META, name='ci-renamed')
    result = vs.store_secret(dest, 'ci_key', SECRET, renamed, SECRETS, now='2026-02-02T00:00:00Z')
    assert result.changed is True
    assert read_vault(dest)['ci_key_meta'] == dict(renamed, stored_at='2026-01-01T00:00:00Z')


def test_stored_at_moves_when_the_secret_changes(dest):
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    rotated = dict(META, last_characters='0042')
    result = vs.store_secret(dest, 'ci_key', SECRET2, rotated, SECRETS, now='2026-02-02T00:00:00Z')
    assert result.changed is True
    stored = read_vault(dest)
    assert stored['ci_key'] == SECRET2
    assert stored['ci_key_meta']['stored_at'] == '2026-02-02T00:00:00Z'


def test_merges_with_existing_variables(tmp_path):
    dest = str(tmp_path / 'secrets.yml')
    write_vault(dest, {'db_password': 'keep me', 'nested': {'a': [1, 2]}, 'ci_key': 'old'})
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    vs.store_secret(dest, 'other_key', SECRET2, dict(META, key_id='key-2'), SECRETS, now='2026-01-01T00:00:00Z')
    stored = read_vault(dest)
    assert stored['db_password'] == 'keep me'
    assert stored['nested'] == {'a': [1, 2]}
    assert stored['ci_key'] == SECRET
    assert stored['other_key'] == SECRET2
    assert stored['other_key_meta']['key_id'] == 'key-2'


def test_empty_encrypted_file_counts_as_no_variables(tmp_path):
    dest = str(tmp_path / 'secrets.yml')
    write_vault(dest, None, raw='')
    assert vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS).changed is True
    assert read_vault(dest)['ci_key'] == SECRET


def test_crash_before_rename_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    dest = str(tmp_path / 'secrets.yml')
    old = write_vault(dest, {'db_password': 'keep me'})

    def crash(src, dst):
        raise OSError(5, 'Input/output error')

    monkeypatch.setattr(vs.os, 'replace', crash)
    with pytest.raises(vs.VaultStoreError) as err:
        vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)
    assert dest in str(err.value)
    no_leak(err.value)
    assert file_bytes(dest) == old
    assert sorted(os.listdir(str(tmp_path))) == ['secrets.yml']   # no temp file, no lock file


@pytest.mark.parametrize('content, cause', [
    (None, 'none of the loaded vault secrets decrypts it'),
    (b'db_password: ' + SECRET.encode() + b'\n', 'not Ansible Vault encrypted'),
    (b'$ANSIBLE_VAULT;1.1;AES256\nnot-hex-at-all-' + SECRET.encode() + b'\n', 'corrupt'),
    (b'', 'empty'),
])
def test_unreadable_file_is_an_error_and_left_untouched(tmp_path, content, cause):
    dest = str(tmp_path / 'secrets.yml')
    if content is None:
        write_vault(dest, {'db_password': SECRET}, secrets=secrets_for('another password', 'prod'))
    else:
        with open(dest, 'wb') as handle:
            handle.write(content)
    before = file_bytes(dest)
    for call in (lambda: vs.store_secret(dest, 'ci_key', SECRET2, META, SECRETS), lambda: vs.preflight(dest, 'ci_key', SECRETS)):
        with pytest.raises(vs.VaultStoreError) as err:
            call()
        assert cause in str(err.value)
        assert dest in str(err.value)
        no_leak(err.value, repr(err.value))
    assert file_bytes(dest) == before


@pytest.mark.parametrize('raw, cause', [
    ('- ' + SECRET + '\n- two\n', 'is a YAML list, not a mapping'),
    (SECRET + '\n', 'is a YAML str, not a mapping'),
    ('a: [unclosed ' + SECRET + '\n', 'not plain YAML'),
    ('a: !unsafe "' + SECRET + '"\n', 'not plain YAML'),
])
def test_decrypted_content_must_be_a_plain_mapping(tmp_path, raw, cause):
    dest = str(tmp_path / 'secrets.yml')
    before = write_vault(dest, None, raw=raw)
    with pytest.raises(vs.VaultStoreError) as err:
        vs.store_secret(dest, 'ci_key', SECRET2, META, SECRETS)
    assert cause in str(err.value)
    no_leak(err.value)
    assert file_bytes(dest) == before


def test_check_mode_writes_nothing_for_a_new_file(dest):
    result = vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, check_mode=True)
    assert result.changed is True
    assert result.diff['after'] == 'ci_key: <hidden, changed>\nci_key_meta: <hidden, changed>\n'
    assert not os.path.exists(os.path.dirname(dest))


def test_check_mode_writes_nothing_for_an_existing_file(tmp_path):
    dest = str(tmp_path / 'secrets.yml')
    before = write_vault(dest, {'db_password': 'x'})
    result = vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, check_mode=True)
    assert result.changed is True
    assert file_bytes(dest) == before
    assert os.listdir(str(tmp_path)) == ['secrets.yml']


def test_diff_and_result_show_names_only(tmp_path):
    dest = str(tmp_path / 'secrets.yml')
    write_vault(dest, {'db_password': 'keep me', 'ci_key': SECRET})
    result = vs.store_secret(dest, 'ci_key', SECRET2, META, SECRETS)
    assert result.diff['before'] == 'ci_key: <hidden>\ndb_password: <hidden>\n'
    assert result.diff['after'] == 'ci_key: <hidden, changed>\nci_key_meta: <hidden, changed>\ndb_password: <hidden>\n'
    no_leak(result.diff, result.as_result(), vars(result))
    assert 'keep me' not in str(result.diff)


def test_concurrent_writers_lose_no_update(tmp_path, monkeypatch):
    """Writers in several threads store different variables into one file; every variable must survive."""
    dest = str(tmp_path / 'secrets.yml')
    real_decrypt = vs.decrypt_text

    def slow_decrypt(*args):
        # Widen the read-modify-write window so that a missing lock loses updates.
        data = real_decrypt(*args)
        time.sleep(0.02)
        return data

    monkeypatch.setattr(vs, 'decrypt_text', slow_decrypt)
    errors = []

    def writer(index):
        try:
            for round_ in range(3):
                vs.store_secret(dest, 'key_%d_%d' % (index, round_), 'ory_pat_%d_%d' % (index, round_), META, SECRETS)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stored = read_vault(dest)
    assert sorted(name for name in stored if not name.endswith('_meta')) == sorted(
        'key_%d_%d' % (index, round_) for index in range(4) for round_ in range(3))


def test_vault_id_selection(tmp_path):
    two = [('dev', VaultSecret(b'dev password')), ('prod', VaultSecret(b'prod password'))]
    new_file = str(tmp_path / 'new.yml')
    assert vs.store_secret(new_file, 'ci_key', SECRET, META, two).vault_id == 'dev'
    assert file_bytes(new_file).startswith(b'$ANSIBLE_VAULT;1.2;AES256;dev\n')

    chosen = str(tmp_path / 'chosen.yml')
    assert vs.store_secret(chosen, 'ci_key', SECRET, META, two, vault_id='prod').vault_id == 'prod'
    assert file_bytes(chosen).startswith(b'$ANSIBLE_VAULT;1.2;AES256;prod\n')

    existing = str(tmp_path / 'existing.yml')
    write_vault(existing, {'a': 1}, secrets=[two[1]], vault_id='prod')
    assert vs.store_secret(existing, 'ci_key', SECRET, META, two).vault_id == 'prod'
    assert file_bytes(existing).startswith(b'$ANSIBLE_VAULT;1.2;AES256;prod\n')


def test_accepts_a_vaultlib_object(dest):
    result = vs.store_secret(dest, 'ci_key', SECRET, META, VaultLib(SECRETS))
    assert result.changed is True
    assert read_vault(dest)['ci_key'] == SECRET


def test_unknown_vault_id_and_no_secrets_fail_in_preflight(dest):
    with pytest.raises(vs.VaultStoreError, match="vault id 'qa' is not loaded in this run"):
        vs.preflight(dest, 'ci_key', SECRETS, vault_id='qa')
    with pytest.raises(vs.VaultStoreError, match='no vault secret is loaded in this run'):
        vs.preflight(dest, 'ci_key', [])
    with pytest.raises(vs.VaultStoreError, match='no vault secret is loaded in this run'):
        vs.preflight(dest, 'ci_key', VaultLib())
    assert not os.path.exists(os.path.dirname(dest))


@pytest.mark.parametrize('name', ['', '1abc', 'has-dash', 'has space', '_private'])
def test_variable_name_is_checked(dest, name):
    with pytest.raises(vs.VaultStoreError, match='vault_var must be a valid variable name'):
        vs.preflight(dest, name, SECRETS)


def test_preflight_accepts_missing_and_valid_files(tmp_path):
    vs.preflight(str(tmp_path / 'a' / 'b' / 'new.yml'), 'ci_key', SECRETS)
    existing = str(tmp_path / 'existing.yml')
    write_vault(existing, {'a': 1})
    vs.preflight(existing, 'ci_key', SECRETS)


def test_preflight_rejects_a_file_as_parent(tmp_path):
    blocker = tmp_path / 'blocker'
    blocker.write_text('x')
    with pytest.raises(vs.VaultStoreError, match='a parent of it is not a directory'):
        vs.preflight(str(blocker / 'secrets.yml'), 'ci_key', SECRETS)
    with pytest.raises(vs.VaultStoreError, match='is not a directory'):
        vs.store_secret(str(blocker / 'secrets.yml'), 'ci_key', SECRET, META, SECRETS)
    assert blocker.read_text() == 'x'


def test_directory_as_destination_is_an_error(tmp_path):
    with pytest.raises(vs.VaultStoreError, match='the path is a directory'):
        vs.store_secret(str(tmp_path), 'ci_key', SECRET, META, SECRETS)


def test_tagged_strings_from_ansible_core_are_written():
    tags = pytest.importorskip('ansible._internal._datatag._tags')
    origin = tags.Origin(path='/playbook.yml', line_num=1)
    dest_dir = origin.tag('unused')
    assert dest_dir == 'unused'
    data = vs._plain({origin.tag('var'): [origin.tag(SECRET), 1, None, {'k': origin.tag('v')}]})  # pylint: disable=protected-access
    assert yaml.safe_dump(data)
    assert type(list(data)[0]) is str  # pylint: disable=unidiomatic-typecheck


def test_tagged_names_and_secret_store(tmp_path):
    tags = pytest.importorskip('ansible._internal._datatag._tags')
    origin = tags.Origin(path='/playbook.yml', line_num=1)
    dest = origin.tag(str(tmp_path / 'secrets.yml'))
    meta = dict((key, origin.tag(value)) for key, value in META.items())
    result = vs.store_secret(dest, origin.tag('ci_key'), origin.tag(SECRET), meta, SECRETS)
    assert result.changed is True
    assert read_vault(str(tmp_path / 'secrets.yml'))['ci_key'] == SECRET


def test_utc_now_is_rfc3339():
    assert len(vs.utc_now()) == 20
    assert vs.utc_now().endswith('Z')
