# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ory_api_key_expiry: an Event-Driven Ansible event source for Ory Network API keys that need attention.

Every ``interval`` seconds it reads the project API keys (console API, workspace key) and the issued API keys
(project API, project key) of each environment, and puts one event on the queue for each key that

- enters its rotation window (``rotate_window``: it expires within ``rotate_before``),
- expires (``expired``), or
- disappears (``gone``: deleted, revoked, or no longer listed),

once per change of state, never again on later polls while the state stays. Events carry names, ids, expiry and
the environment, never a secret. ``meta.hosts`` is the environment's name, so a ``run_playbook`` action limits the
play to the inventory host of that environment, and ``run_job_template`` can use it as the limit.

Arguments (connection options not given fall back to the same ORY_* environment variables the modules read):

  environments:       list, required. Each item:
    name:             the environment (the inventory host of the bootstrap role); required
    project:          project ID or slug, for the project API keys; default: project_slug
    project_slug:     slug, for the project API (issued keys); default: project
    project_api_key:  project API key (ory_pat_...) to read the issued keys with; default: the top-level one.
                      Without any, the environment's issued keys are not watched.
    rotate_before:    window before expiry, a duration such as 14d or 12h; default: the top-level one
    name_prefix:      only project keys whose name starts with this; default "<name>:" (the role's marker);
                      "" watches every project key
    managed_only:     only issued keys with the role's metadata marker (managed_by: ory.network,
                      environment: <name>); default true
  rotate_before:      default window, default 7d
  interval:           seconds between polls, default 3600
  max_polls:          stop after this many polls (0, the default: never)
  max_events:         stop after this many events (0, the default: never), e.g. 2 for "a key entered its window,
                      then it was replaced" in a one-shot run
  workspace_api_key, project_api_key, console_api_url, project_api_url, validate_certs, ca_path, timeout,
  retries:            as the modules' options of the same names

Example (a rulebook source):

  - ory.network.ory_api_key_expiry:
      interval: 3600
      rotate_before: 14d
      environments:
        - name: staging
          project_slug: acme-staging
        - name: production
          project_slug: acme-production
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

LOG = logging.getLogger('ory.network.ory_api_key_expiry')

ROTATE_WINDOW = 'rotate_window'
EXPIRED = 'expired'
GONE = 'gone'
OK = 'ok'
PROJECT_PLANE = 'project'
ISSUED_PLANE = 'issued'


def _collection_module_utils():
    """Import the collection's module_utils (the one HTTP client and its parsers).

    ansible-rulebook runs this file by path, so ``ansible_collections`` may not be importable yet: add the
    directory that holds it, found from this file's path or the collections path.
    """
    try:
        from ansible_collections.ory.network.plugins.module_utils import _options  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        candidates = []
        here = os.path.abspath(__file__)
        while os.path.dirname(here) != here:
            here = os.path.dirname(here)
            if os.path.basename(here) == 'ansible_collections':
                candidates.append(os.path.dirname(here))
                break
        for entry in os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.environ.get('ANSIBLE_COLLECTIONS_PATHS', '')).split(os.pathsep):
            if entry and os.path.isdir(os.path.join(entry, 'ansible_collections', 'ory', 'network')):
                candidates.append(entry)
        for default in ('~/.ansible/collections', '/usr/share/ansible/collections'):
            candidates.append(os.path.expanduser(default))
        for candidate in candidates:
            if candidate not in sys.path and os.path.isdir(os.path.join(candidate, 'ansible_collections', 'ory', 'network')):
                sys.path.append(candidate)
                break
    from ansible_collections.ory.network.plugins.module_utils import _api_keys, _client, _console, _options, _talos
    return _api_keys, _client, _console, _options, _talos


_api_keys, _client, _console, _options, _talos = _collection_module_utils()

from ansible.module_utils.common.validation import (  # noqa: E402 pylint: disable=wrong-import-position
    check_type_bool, check_type_float, check_type_int, check_type_path, check_type_str)

_CHECKS = {'bool': check_type_bool, 'float': check_type_float, 'int': check_type_int, 'path': check_type_path, 'str': check_type_str}


def now():
    """The current time (the tests replace this to let time pass between polls)."""
    return _api_keys.now()


class SourceError(Exception):
    """Bad arguments: one sentence naming the argument."""


def connection_params(args, overrides=None):
    """Connection options: the argument, else the ORY_* variable the modules' argument spec names, else the default."""
    params = {}
    for option, spec in _options.CONNECTION_ARGUMENT_SPEC.items():
        value = (overrides or {}).get(option)
        if value in (None, ''):
            value = args.get(option)
        fallback = spec.get('fallback')
        if value in (None, '') and fallback:
            for name in fallback[1]:
                if os.environ.get(name, '') != '':
                    value = os.environ[name]
                    break
        if value in (None, ''):
            value = spec.get('default')
        if value is not None:
            try:
                value = _CHECKS.get(spec.get('type', 'str'), lambda v: v)(value)
            except (TypeError, ValueError):
                raise SourceError('%s must be of type %s.' % (option, spec.get('type', 'str'))) from None
        params[option] = value
    return params


class Environment:
    """One environment: its clients (one per plane, kept for every poll) and what it watches."""

    def __init__(self, item, args, default_window):
        if not isinstance(item, dict) or not item.get('name'):
            raise SourceError('every item of environments needs a name.')
        self.name = str(item['name'])
        self.project_slug = item.get('project_slug') or item.get('project')
        self.project = item.get('project') or self.project_slug
        if not self.project:
            raise SourceError('environment %s needs project or project_slug.' % self.name)
        try:
            self.window = _api_keys.parse_duration(item.get('rotate_before') or default_window, 'rotate_before')
        except _options.OptionError as exc:
            raise SourceError('environment %s: %s' % (self.name, exc)) from None
        prefix = item.get('name_prefix')
        self.name_prefix = '%s:' % self.name if prefix is None else str(prefix)
        self.managed_only = check_type_bool(item.get('managed_only', True))
        params = connection_params(args, {'project_slug': self.project_slug, 'project_api_key': item.get('project_api_key')})
        connection = _options.Connection(params)
        self.console = self.talos = None
        try:
            self.console = _client.console_client(connection)
        except _options.OptionError:
            LOG.warning('environment %s: no workspace API key, its project API keys are not watched', self.name)
        try:
            self.talos = _talos.Talos(_client.project_client(connection))
        except _options.OptionError:
            LOG.warning('environment %s: no project API key, its issued API keys are not watched', self.name)
        if self.console is None and self.talos is None:
            raise SourceError('environment %s: neither a workspace nor a project API key is set.' % self.name)

    def read(self):
        """{(plane, key id): (name, expiry, live)} of the keys watched, as the APIs list them now."""
        keys = {}
        if self.console is not None:
            for key in _console.list_project_keys(self.console, self.project):
                name = key.get('name') or ''
                if name.startswith(self.name_prefix):
                    keys[(PROJECT_PLANE, key.get('id'))] = (name, key.get('expires_at'), True)
        if self.talos is not None:
            for key in self.talos.list():
                metadata = key.get('metadata') or {}
                if self.managed_only and (metadata.get('managed_by') != 'ory.network' or metadata.get('environment') != self.name):
                    continue
                live = (key.get('status') or _talos.ACTIVE) in (_talos.ACTIVE, _talos.EXPIRED)
                keys[(ISSUED_PLANE, key.get('key_id'))] = (key.get('name') or '', key.get('expire_time'), live)
        return keys


class Watcher:
    """The state of every key seen, and the events a new reading gives."""

    def __init__(self, environments):
        self.environments = environments
        self.states = {}

    def state_of(self, env, expiry, live, at):
        if not live:
            return GONE
        if not expiry:
            return OK
        remaining = (_api_keys.parse_time(expiry) - at).total_seconds()
        if remaining <= 0:
            return EXPIRED
        return ROTATE_WINDOW if remaining <= env.window else OK

    def poll(self):
        events = []
        at = now()
        for env in self.environments:
            try:
                keys = env.read()
            except (_client.OryApiError, _options.OptionError) as exc:
                LOG.warning('environment %s: could not read its keys: %s', env.name, _client.redact(str(exc)))
                continue
            seen = set()
            for (plane, key_id), (name, expiry, live) in keys.items():
                ident = (env.name, plane, key_id)
                state = self.state_of(env, expiry, live, at)
                previous = self.states.get(ident)
                if previous is None and state == GONE:
                    continue           # revoked before we started watching: not news
                seen.add(ident)
                self.states[ident] = state
                if state != OK and state != previous:
                    events.append(self.event(env, plane, key_id, name, expiry, state, at))
            for ident in [i for i in self.states if i[0] == env.name and i not in seen]:
                previous = self.states.pop(ident)
                if previous != GONE:
                    events.append(self.event(env, ident[1], ident[2], None, None, GONE, at))
        return events

    @staticmethod
    def event(env, plane, key_id, name, expiry, state, at):
        remaining = None
        if expiry and state != GONE:
            remaining = int((_api_keys.parse_time(expiry) - at).total_seconds())
        return {
            'ory_api_key': {
                'state': state,
                'environment': env.name,
                'plane': plane,
                'project': env.project,
                'key_id': key_id,
                'name': name,
                'expires_at': _api_keys.normalize_time(expiry) if expiry else None,
                'seconds_to_expiry': remaining,
                'rotate_before': env.window,
            },
            'meta': {'hosts': env.name},
        }


def build(args):
    if not isinstance(args, dict):
        raise SourceError('the source arguments must be a mapping.')
    environments = args.get('environments')
    if not environments or not isinstance(environments, list):
        raise SourceError('environments must be a non-empty list.')
    default_window = args.get('rotate_before') or '7d'
    return Watcher([Environment(item, args, default_window) for item in environments])


async def main(queue, args):
    """Poll every ``interval`` seconds; put one event per key state change on ``queue``."""
    try:
        watcher = build(args)
        interval = check_type_float(args.get('interval', 3600))
        max_polls = check_type_int(args.get('max_polls', 0))
        max_events = check_type_int(args.get('max_events', 0))
    except (TypeError, ValueError) as exc:
        raise SourceError(str(exc)) from None
    polls = events = 0
    while True:
        for event in await asyncio.to_thread(watcher.poll):
            await queue.put(event)
            events += 1
            if max_events and events >= max_events:
                return
        polls += 1
        if max_polls and polls >= max_polls:
            return
        await asyncio.sleep(interval)


if __name__ == '__main__':
    # Poll once and print the events: python ory_api_key_expiry.py <environment> <project slug>
    class _PrintQueue:
        async def put(self, event):
            print(event)

    asyncio.run(main(_PrintQueue(), {'environments': [{'name': sys.argv[1], 'project_slug': sys.argv[2]}], 'max_polls': 1}))
