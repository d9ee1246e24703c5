# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VaultFile, the engine's hold on a vault file: decrypted once, locked from the first read to the last write,
many secrets per write, nothing written in check mode."""

from __future__ import annotations

import threading
import time

import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.ory.network.plugins.plugin_utils import _vault_store as vs

SECRETS = [('prod', VaultSecret(b'right password'))]


def read(path):
    with open(path, 'rb') as handle:
        return yaml.safe_load(VaultLib(SECRETS).decrypt(handle.read()))


def test_many_secrets_one_write_and_other_variables_kept(tmp_path):
    path = tmp_path / 'env' / 'vault.yml'
    path.parent.mkdir()
    path.write_bytes(VaultLib(SECRETS).encrypt(yaml.safe_dump({'keep_me': 1}), secret=SECRETS[0][1], vault_id='prod'))
    vault = vs.VaultFile(str(path), SECRETS).open()
    assert vault.data == {'keep_me': 1}
    for n in range(3):
        vault.put('key_%d' % n, 'ory_pat_secret%04d' % n, {'key_id': 'id-%d' % n})
    assert vault.flush() == ['key_0', 'key_1', 'key_2'] and vault.written == 1
    assert vault.flush() == [] and vault.written == 1, 'nothing pending: no write'
    vault.close()
    data = read(str(path))
    assert data['keep_me'] == 1 and data['key_2'] == 'ory_pat_secret0002' and data['key_2_meta']['key_id'] == 'id-2'
    assert oct(path.stat().st_mode & 0o777) == '0o600'


def test_the_lock_is_held_from_open_to_close(tmp_path):
    """A module task storing into the same file (store_secret) waits until the engine's run is over."""
    path = str(tmp_path / 'vault.yml')
    vault = vs.VaultFile(path, SECRETS).open()
    done = []
    other = threading.Thread(target=lambda: done.append(vs.store_secret(path, 'other', 'ory_pat_other0000', {}, SECRETS)))
    other.start()
    time.sleep(0.5)
    assert not done, 'store_secret must wait for the lock'
    vault.put('mine', 'ory_pat_mine00000', {'key_id': 'm'})
    vault.flush()
    vault.close()
    other.join(10)
    assert done and set(read(path)) >= {'mine', 'other'}, 'neither write is lost'


def test_check_mode_creates_and_writes_nothing(tmp_path):
    path = tmp_path / 'new' / 'vault.yml'
    vault = vs.VaultFile(str(path), SECRETS, check_mode=True).open()
    vault.put('k', 'ory_pat_secret0000', {'key_id': 'x'})
    assert vault.flush() == ['k']
    vault.close()
    assert not path.parent.exists()
