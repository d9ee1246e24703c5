# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: one argument spec and one place where they are resolved.

Order of precedence: task parameter, then module_defaults (group/ory.network.ory, applied by Ansible
before the module runs), then the ORY_* environment variables (argument spec fallbacks), then defaults.
"""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback

DEFAULT_CONSOLE_API_URL = 'https://api.console.ory.sh'
DEFAULT_PROJECT_API_URL = 'https://%s.projects.oryapis.com'

CONNECTION_ARGUMENT_SPEC = dict(
    workspace_api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['ORY_WORKSPACE_API_KEY'])),
    console_api_url=dict(type='str', fallback=(env_fallback, ['ORY_CONSOLE_API_URL'])),
    project_api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['ORY_PROJECT_API_KEY'])),
    project_slug=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_SLUG'])),
    project_api_url=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_API_URL'])),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='float', default=30),
    retries=dict(type='int', default=5),
)

# Options of the modules that can return a new secret. The action plugin acts on them (see the secret doc fragment).
SECRET_ARGUMENT_SPEC = dict(
    reveal_secret=dict(type='bool', default=False),
    vault_dest=dict(type='path'),
    vault_var=dict(type='str'),
    vault_id=dict(type='str'),
    secret_sink=dict(type='str', default='result', choices=['result', 'none']),
    retire_replaced=dict(type='bool', default=True),
    on_missing_secret=dict(type='str', default='rotate', choices=['rotate', 'fail']),
    stored_key_id=dict(type='str'),
)

# Known credential prefixes, longest first, and what they are.
CREDENTIAL_KINDS = (
    ('ory_wak_', 'a workspace API key'),
    ('ory_pat_', 'a project API key'),
    ('ory_apikey_', 'a project API key'),
    ('ory_ak_', 'an issued API key'),
    ('ory_pk_', 'an issued API key'),
    ('ory_st_', 'a session token'),
    ('ory_at_', 'an OAuth2 access token'),
)


def connection_argument_spec(**extra):
    """Return a fresh argument spec: the connection options plus the module's own options."""
    spec = copy.deepcopy(CONNECTION_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


def secret_argument_spec():
    return copy.deepcopy(SECRET_ARGUMENT_SPEC)


def credential_kind(value):
    """Name the kind of an Ory credential from its prefix, or None when the prefix is not known."""
    for prefix, kind in CREDENTIAL_KINDS:
        if value.startswith(prefix):
            return kind
    return None


class OptionError(Exception):
    """A connection option is missing or holds the wrong kind of value. The message names the option."""


class Connection:
    """The resolved connection settings of one module run."""

    def __init__(self, params):
        self.params = params
        self.validate_certs = params.get('validate_certs', True)
        self.ca_path = params.get('ca_path')
        self.timeout = params.get('timeout') or 30
        self.retries = max(0, params.get('retries') if params.get('retries') is not None else 5)

    @property
    def console_url(self):
        return (self.params.get('console_api_url') or DEFAULT_CONSOLE_API_URL).rstrip('/')

    @property
    def project_url(self):
        template = self.params.get('project_api_url') or DEFAULT_PROJECT_API_URL
        if '%s' not in template:
            return template.rstrip('/')
        slug = self.params.get('project_slug')
        if not slug:
            raise OptionError('project_slug is required (or set ORY_PROJECT_SLUG, or give project_api_url without %s).')
        return (template % slug).rstrip('/')

    def workspace_key(self):
        return self._key('workspace_api_key', 'ORY_WORKSPACE_API_KEY', 'ory_wak_', 'a workspace API key', ('ory_wak_',))

    def project_key(self):
        return self._key('project_api_key', 'ORY_PROJECT_API_KEY', 'ory_pat_', 'a project API key', ('ory_pat_', 'ory_apikey_'))

    def _key(self, option, env, shown_prefix, wanted, accepted):
        value = self.params.get(option)
        if not value:
            raise OptionError('%s is required for this module (or set %s): it must hold %s (%s...).' % (option, env, wanted, shown_prefix))
        kind = credential_kind(value)
        if kind is not None and not value.startswith(accepted):
            raise OptionError('%s holds %s, but this call needs %s (%s...).' % (option, kind, wanted, shown_prefix))
        return value
