# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ory.network.ory_issued_api_key: applies the secret rules to the new C(ory_ak_v1_...) secret."""

from __future__ import annotations

from ansible_collections.ory.network.plugins.plugin_utils._secret_action import SecretActionBase


class ActionModule(SecretActionBase):
    """The new secret is in the result key C(secret); metadata in C(api_key) (key_id, name, expire_time)."""

    MODULE = 'ory.network.ory_issued_api_key'
    SECRET_KEY = 'secret'
    META_KEYS = ('key_id', 'name', 'expire_time', 'last_characters')
    RETIRE_SET = {'state': 'absent', 'revoke_reason': 'superseded'}
    RETIRE_ID = 'key_id'
    IDENTIFIERS = ('name', 'key_id', 'actor_id')
    GRACE_OPTIONS = ('retire_after', 'retire_previous', 'retire_when_used')
