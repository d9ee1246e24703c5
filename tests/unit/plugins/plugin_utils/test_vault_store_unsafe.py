# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault writer stores values that ansible-core wraps (2.18 AnsibleUnsafeText) or tags (2.19) as plain YAML."""

from __future__ import annotations

import yaml

from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.ory.network.plugins.plugin_utils import _vault_store as vs

SECRETS = [('prod', VaultSecret(b'pw'))]


class SelfStr(str):
    """Like ansible-core 2.18's AnsibleUnsafeText: str() of it returns the subclass itself."""

    def __str__(self):  # pylint: disable=invalid-str-returned
        return self


def test_plain_text_is_a_builtin_str():
    for value in (SelfStr('ory_pat_x'), wrap_var('ory_pat_x'), 'ory_pat_x', 12):
        assert type(vs.plain_text(value)) is str  # pylint: disable=unidiomatic-typecheck


def test_unsafe_and_self_returning_str_values_are_stored(tmp_path):
    dest = str(tmp_path / 'v.yml')
    secret = SelfStr('ory_pat_' + 'S' * 30)
    meta = {SelfStr('key_id'): SelfStr('id-1'), 'name': wrap_var('ci'), 'expires_at': None, 'last_characters': SelfStr('SSSS')}
    result = vs.store_secret(SelfStr(dest), wrap_var('ci_key'), wrap_var(secret), meta, SECRETS, now=SelfStr('2026-01-01T00:00:00Z'))
    assert result.changed is True
    with open(dest, 'rb') as handle:
        data = yaml.safe_load(VaultLib(SECRETS).decrypt(handle.read()))
    assert data['ci_key'] == secret
    assert data['ci_key_meta']['key_id'] == 'id-1'
    assert data['ci_key_meta']['stored_at'] == '2026-01-01T00:00:00Z'
