# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault writer: what it must leave alone (comments, order, types of unmanaged variables), what it must not leave
behind (lock files, temp files of a killed writer), directory modes, and a pre-check that proves the write works."""

from __future__ import annotations

import errno
import os
import stat

import pytest
import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ory.network.plugins.plugin_utils import _vault_store as vs

SECRET = 'ory_pat_Zq8sEcReTvAlUe4711'
SECRET2 = 'ory_pat_AnOtHeRsEcReT0042'
META = {'key_id': 'key-1', 'name': 'ci', 'expires_at': '2027-01-01T00:00:00Z', 'last_characters': '4711'}
SECRETS = [('prod', VaultSecret(b'right password'))]

USER_TEXT = '''# Database settings, kept by hand
db_password: keep me   # rotated by the DBA
1234: port of the legacy service
zeta: [1, 2]
alpha:
  nested: true
'''


def write_text(path, text):
    with open(path, 'wb') as handle:
        handle.write(VaultLib(SECRETS).encrypt(text, secret=SECRETS[0][1], vault_id='prod'))


def read_text(path):
    with open(path, 'rb') as handle:
        return VaultLib(SECRETS).decrypt(handle.read()).decode()


def test_unmanaged_text_is_kept_byte_for_byte(tmp_path):
    dest = str(tmp_path / 'vault.yml')
    write_text(dest, USER_TEXT)
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    text = read_text(dest)
    assert text.startswith(USER_TEXT), 'comments, order and values of the other variables are kept'
    data = yaml.safe_load(text)
    assert 1234 in data and '1234' not in data, 'an int key stays an int key'
    assert data['ci_key'] == SECRET and data['ci_key_meta']['key_id'] == 'key-1'
    # a second store replaces the managed entries where they are, and nothing else
    write_text(dest, text + '# trailing comment\n')
    vs.store_secret(dest, 'ci_key', SECRET2, dict(META, key_id='key-2'), SECRETS, now='2026-02-01T00:00:00Z')
    again = read_text(dest)
    assert again.startswith(USER_TEXT) and again.endswith('# trailing comment\n')
    assert again.count('ci_key:') == 1 and again.count('ci_key_meta:') == 1
    assert yaml.safe_load(again)['ci_key'] == SECRET2


def test_managed_entries_in_the_middle_are_replaced_in_place(tmp_path):
    dest = str(tmp_path / 'vault.yml')
    write_text(dest, 'first: 1\nci_key: old\nci_key_meta:\n  key_id: old\n\n# about last\nlast: 2\n')
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS, now='2026-01-01T00:00:00Z')
    lines = read_text(dest).splitlines()
    assert lines[0] == 'first: 1' and lines[-3:] == ['', '# about last', 'last: 2']
    assert lines[1] == 'ci_key: %s' % SECRET


def test_file_that_cannot_be_edited_in_place_is_refused_before_anything_happens(tmp_path):
    dest = str(tmp_path / 'vault.yml')
    write_text(dest, '{db_password: keep me, 1234: x}\n')
    before = read_text(dest)
    with pytest.raises(vs.VaultStoreError) as err:
        vs.preflight(dest, 'ci_key', SECRETS)
    assert 'flow-style' in str(err.value) and 'file of their own' in str(err.value)
    assert 'keep me' not in str(err.value)
    with pytest.raises(vs.VaultStoreError):
        vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)
    assert read_text(dest) == before


def test_flow_style_file_with_managed_entries_only_is_rewritten(tmp_path):
    dest = str(tmp_path / 'vault.yml')
    write_text(dest, '{ci_key: old, ci_key_meta: {key_id: old}}\n')
    vs.preflight(dest, 'ci_key', SECRETS)
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)
    assert yaml.safe_load(read_text(dest))['ci_key'] == SECRET


def test_no_lock_file_and_stale_temp_files_are_removed(tmp_path):
    dest = str(tmp_path / 'vault.yml')
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)
    # what a writer killed between mkstemp and rename leaves, and the lock file of older versions
    for leftover in ('.vault.yml.abc123.tmp', '.vault.yml.lock'):
        (tmp_path / leftover).write_bytes(b'partial')
    (tmp_path / '.other.yml.x.tmp').write_bytes(b'not ours')
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)     # unchanged, but the next write cleans up
    assert sorted(os.listdir(str(tmp_path))) == ['.other.yml.x.tmp', 'vault.yml']


def test_every_created_directory_is_0700(tmp_path):
    dest = str(tmp_path / 'a' / 'b' / 'c' / 'vault.yml')
    vs.store_secret(dest, 'ci_key', SECRET, META, SECRETS)
    for part in ('a', 'a/b', 'a/b/c'):
        assert stat.S_IMODE(os.stat(str(tmp_path / part)).st_mode) == 0o700, part


def test_preflight_creates_the_directory_and_leaves_nothing_in_it(tmp_path):
    dest = str(tmp_path / 'new' / 'vault.yml')
    vs.preflight(dest, 'ci_key', SECRETS)
    assert os.listdir(str(tmp_path / 'new')) == []
    assert stat.S_IMODE(os.stat(str(tmp_path / 'new')).st_mode) == 0o700


def test_preflight_in_check_mode_writes_nothing(tmp_path):
    dest = str(tmp_path / 'new' / 'vault.yml')
    vs.preflight(dest, 'ci_key', SECRETS, check_mode=True)
    assert os.listdir(str(tmp_path)) == []


def test_preflight_fails_when_no_file_can_be_created(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(vs.tempfile, 'mkstemp', full)
    with pytest.raises(vs.VaultStoreError) as err:
        vs.preflight(str(tmp_path / 'vault.yml'), 'ci_key', SECRETS)
    assert 'cannot create a file' in str(err.value) and 'No space left' in str(err.value)


def test_preflight_fails_when_the_lock_cannot_be_taken(tmp_path, monkeypatch):
    def refuse(fd, operation):
        raise OSError(errno.ENOLCK, 'No locks available')

    monkeypatch.setattr(vs.fcntl, 'flock', refuse)
    with pytest.raises(vs.VaultStoreError) as err:
        vs.preflight(str(tmp_path / 'vault.yml'), 'ci_key', SECRETS)
    assert 'cannot lock' in str(err.value)


def test_preflight_of_an_existing_file_takes_tagged_strings(tmp_path):
    """ansible-core 2.19 gives the action plugin tagged strings; the dry-run edit of preflight must write them."""
    tags = pytest.importorskip('ansible._internal._datatag._tags')
    origin = tags.Origin(path='/playbook.yml', line_num=1)
    dest = str(tmp_path / 'vault.yml')
    write_text(dest, USER_TEXT)
    vs.preflight(origin.tag(dest), origin.tag('ci_key'), SECRETS)
    vs.store_secret(origin.tag(dest), origin.tag('ci_key'), origin.tag(SECRET), META, SECRETS)
    assert read_text(dest).startswith(USER_TEXT)
