# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: one argument spec and one place where they are resolved.

Order of precedence: task parameter, then module_defaults (group/ory.network.ory, applied by Ansible
before the module runs), then the ORY_* environment variables (argument spec fallbacks), then defaults.
"""

from __future__ import annotations

import copy
import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.errors import UnsupportedError

DEFAULT_CONSOLE_API_URL = 'https://api.console.ory.sh'
DEFAULT_PROJECT_API_URL = 'https://%s.projects.oryapis.com'

# The whole connection set. Every module of the action group accepts all of it and ignores what it does not need, so
# one module_defaults entry for group/ory.network.ory serves every module (a module that needs an option redefines it).
CONNECTION_ARGUMENT_SPEC = dict(
    workspace_api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['ORY_WORKSPACE_API_KEY'])),
    workspace_id=dict(type='str', fallback=(env_fallback, ['ORY_WORKSPACE_ID'])),
    console_api_url=dict(type='str', fallback=(env_fallback, ['ORY_CONSOLE_API_URL'])),
    project_api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['ORY_PROJECT_API_KEY'])),
    project_id=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_ID'])),
    project_slug=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_SLUG'])),
    project_api_url=dict(type='str', fallback=(env_fallback, ['ORY_PROJECT_API_URL'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['ORY_VALIDATE_CERTS'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['ORY_CA_PATH'])),
    timeout=dict(type='float', default=30, fallback=(env_fallback, ['ORY_TIMEOUT'])),
    retries=dict(type='int', default=5, fallback=(env_fallback, ['ORY_MAX_RETRIES'])),
)

# Options of the modules that can return a new secret. The action plugin acts on them (see the secret doc fragment).
SECRET_ARGUMENT_SPEC = dict(
    reveal_secret=dict(type='bool', default=False),
    vault_dest=dict(type='path'),
    vault_var=dict(type='str'),
    vault_id=dict(type='str'),
    retire_replaced=dict(type='bool', default=True),
    on_missing_secret=dict(type='str', default='rotate', choices=['rotate', 'fail']),
)

# Internal channel from the action plugin to the module (not a task option): 'result' lets the module return a new
# secret; 'none' makes it refuse, before any change, to create or rotate a key (the secret would be lost).
SECRET_SINK_ENV = '_ORY_NETWORK_SECRET_SINK'


def secret_sink(environ=None):
    """Where a new secret may go, as the action plugin said; 'result' when the module runs without it."""
    value = (os.environ if environ is None else environ).get(SECRET_SINK_ENV)
    return 'none' if value == 'none' else 'result'


# Internal channel too: the key id whose secret vault_dest holds ('' when it holds none); unset without vault_dest.
STORED_KEY_ENV = '_ORY_NETWORK_STORED_KEY_ID'


def stored_key_id(environ=None):
    """The key id whose secret the task's vault file holds, as the action plugin said; '' for none, None without vault_dest."""
    value = (os.environ if environ is None else environ).get(STORED_KEY_ENV)
    return None if value is None else str(value)


# Internal channel too: the vault file's ``previous`` record of the task's variable (JSON: a key an earlier replacement
# kept live in its grace period; ids and times, never a secret); unset without one.
PREVIOUS_KEY_ENV = '_ORY_NETWORK_PREVIOUS_KEY'

# Options of the key modules for the grace period of a replaced key (they need vault_dest, where the record is kept).
GRACE_ARGUMENT_SPEC = dict(
    retire_after=dict(type='str'),
    retire_previous=dict(type='bool', default=False),
)


def previous_key(environ=None):
    """The vault file's ``previous`` record for the task's variable, as the action plugin said (a dict), or None."""
    value = (os.environ if environ is None else environ).get(PREVIOUS_KEY_ENV)
    try:
        record = json.loads(value) if value else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


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


def grace_argument_spec(**extra):
    spec = copy.deepcopy(GRACE_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


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

    def __init__(self, params, given=None):
        self.params = params
        # Names of the options the task gave (its own or from module_defaults); None when unknown.
        self.given = given
        self.validate_certs = params.get('validate_certs', True)
        self.ca_path = params.get('ca_path')
        self.timeout = params.get('timeout') or 30
        self.retries = params.get('retries') if params.get('retries') is not None else 5
        if self.retries < 0:
            raise OptionError('retries must be 0 or more, not %s.' % self.retries)
        if self.timeout < 0:
            raise OptionError('timeout must be a positive number of seconds, not %s.' % self.timeout)

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

    def source(self, option, env):
        """Where the value of ``option`` came from, in words: the option (task or module_defaults) or the environment variable."""
        if self.given is not None and option not in self.given and os.environ.get(env):
            return 'the %s environment variable' % env
        if self.given is None and os.environ.get(env) and os.environ.get(env) == self.params.get(option):
            return 'the %s environment variable (or the %s option)' % (env, option)
        return 'the %s option (task or module_defaults)' % option

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


class OryModule(AnsibleModule):
    """AnsibleModule that reports an unknown option before any other argument error.

    AnsibleModule fails with the first validation error, and it checks unknown options last: a typo such as
    ``nmae=ci`` would read "one of the following is required: name, id". The typo is the cause, so it is named first.
    """

    def fail_json(self, msg=None, **kwargs):
        validation = getattr(self, 'validation_result', None)
        if validation is not None and not getattr(self, '_ory_validated', False):
            errors = list(getattr(validation, 'errors', None) or [])
            unsupported = [error for error in errors if isinstance(error, UnsupportedError)]
            if unsupported and not isinstance(errors[0], UnsupportedError):
                msg = 'Unsupported parameters for (%s) module: %s' % (getattr(self, '_name', 'ory.network'), unsupported[0].msg)
        super().fail_json(msg=msg, **kwargs)

    def __init__(self, *args, **kwargs):
        self.given = None
        super().__init__(*args, **kwargs)
        self._ory_validated = True

    def _load_params(self):
        super()._load_params()
        self.given = frozenset(self.params or ())
