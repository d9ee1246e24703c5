# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of ory.network.ory_project_api_key: applies the secret rules to the new C(ory_pat_...) secret."""

from __future__ import annotations

from ansible_collections.ory.network.plugins.plugin_utils._secret_action import SecretActionBase


class ActionModule(SecretActionBase):
    """The new secret is in the result key C(value); metadata in C(api_key) (id, name, expires_at, last_characters)."""

    MODULE = 'ory.network.ory_project_api_key'
    SECRET_KEY = 'value'
    META_KEYS = ('id', 'name', 'expires_at', 'last_characters')
    RETIRE_KEEP = ('name', 'project_id')
    RETIRE_SET = {'state': 'absent'}
    RETIRE_ID = 'id'
    IDENTIFIERS = ('name', 'id', 'project_id')
