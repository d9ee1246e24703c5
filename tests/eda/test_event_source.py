"""The event source plugin extensions/eda/plugins/event_source/ory_api_key_expiry.py, driven through main(queue, args)
against the emulator. Time passes for both sides at once: before each poll the test moves the emulator's clock
forward (admin API) and the plugin's clock by the same amount."""
from __future__ import annotations

import asyncio
import datetime
import importlib.util
import json
import logging
import os
import re

import pytest
import requests

from tests.awx.conftest import ROOT

PLUGIN = os.path.join(ROOT, 'extensions', 'eda', 'plugins', 'event_source', 'ory_api_key_expiry.py')
ISSUE = '/v2alpha1/admin/issuedApiKeys'
SECRET_RE = re.compile(r'ory_(pat|wak|ak|pk|apikey)_[A-Za-z0-9_-]{6,}')
DAY = 86400


@pytest.fixture(scope='module')
def plugin():
    spec = importlib.util.spec_from_file_location('ory_api_key_expiry', PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ListQueue:
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


class Api:
    """Direct calls to the emulator to set the scene (keys, revocations, clock)."""

    def __init__(self, emulator, slug):
        self.emulator = emulator
        project = [p for p in emulator.info['projects'] if p['slug'] == slug][0]
        self.slug = slug
        self.console = requests.Session()
        self.console.headers['Authorization'] = 'Bearer ' + emulator.info['workspace_api_key']
        self.talos = requests.Session()
        self.talos.headers['Authorization'] = 'Bearer ' + project['project_api_key']
        self.project_url = project['project_url']
        self.project_key = project['project_api_key']

    def clock(self, offset_days):
        self.emulator.admin_call('POST', '/clock', {'offset_seconds': int(offset_days * DAY)})

    def issue(self, name, ttl, environment='staging', marked=True):
        metadata = {'managed_by': 'ory.network', 'environment': environment} if marked else {}
        reply = self.talos.post(self.project_url + ISSUE, json={'name': name, 'actor_id': 'svc-' + name, 'ttl': ttl, 'metadata': metadata})
        assert reply.status_code == 201, reply.text
        return reply.json()['issued_api_key']['key_id']

    def revoke(self, key_id):
        reply = self.talos.post('%s%s/%s:revoke' % (self.project_url, ISSUE, key_id), json={'reason': 'REVOCATION_REASON_KEY_COMPROMISE'})
        assert reply.status_code in (200, 204), reply.text

    def create_project_key(self, name, expires_in_days):
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=expires_in_days)
        reply = self.console.post('%s/projects/%s/tokens' % (self.emulator.info['console_url'], self.slug),
                                  json={'name': name, 'expires_at': expires.strftime('%Y-%m-%dT%H:%M:%SZ')})
        assert reply.status_code == 201, reply.text
        return reply.json()['id']

    def delete_project_key(self, key_id):
        reply = self.console.delete('%s/projects/%s/tokens/%s' % (self.emulator.info['console_url'], self.slug, key_id))
        assert reply.status_code == 204, reply.text


def source_args(emulator, slug, environment, **extra):
    project = [p for p in emulator.info['projects'] if p['slug'] == slug][0]
    args = {'workspace_api_key': emulator.info['workspace_api_key'], 'console_api_url': emulator.info['console_url'],
            'project_api_url': emulator.info['project_url_template'], 'interval': 0,
            'environments': [{'name': environment, 'project_slug': slug, 'project_api_key': project['project_api_key'],
                              'rotate_before': '7d'}]}
    args.update(extra)
    return args


def drive(plugin, monkeypatch, api, args, steps):
    """Run main() for len(steps) polls; before poll i, run steps[i] (days forward, action) on both clocks."""
    start = plugin.now()
    calls = iter(steps)

    def clock():
        days, action = next(calls)
        api.clock(days)
        if action:
            action()
        return start + datetime.timedelta(days=days)

    monkeypatch.setattr(plugin, 'now', clock)
    queue = ListQueue()
    try:
        asyncio.run(plugin.main(queue, dict(args, max_polls=len(steps))))
    finally:
        api.clock(0)
    return queue.events


def summary(events):
    return [(e['ory_api_key']['state'], e['ory_api_key']['plane'], e['ory_api_key']['name'] or e['ory_api_key']['key_id'])
            for e in events]


def assert_no_secret(events, api):
    text = json.dumps(events)
    assert not SECRET_RE.search(text)
    assert api.project_key not in text and api.emulator.info['workspace_api_key'] not in text


def test_one_event_per_state_change(plugin, emulator, monkeypatch):
    api = Api(emulator, 'acme-staging')
    issued = api.issue('worker', '10d', environment='eda-one')
    project = api.create_project_key('eda-one:deploy', 20)
    api.issue('unmarked', '5d', marked=False)                  # no marker of the environment: not watched
    api.issue('other-env', '5d', environment='elsewhere')       # another environment's key: not watched
    api.create_project_key('someone-else', 2)                          # no "eda-one:" prefix: not watched
    steps = [(0, None),                      # worker 10 days left, deploy 20: nothing
             (4, None),                      # worker 6 days left: enters its window
             (5, None),                      # still in the window: no new event
             (11, None),                     # worker expired; deploy 9 days left
             (14, None),                     # deploy 6 days left: enters its window
             (15, lambda: (api.revoke(issued), api.delete_project_key(project))),   # both gone
             (16, None)]                     # nothing new
    events = drive(plugin, monkeypatch, api, source_args(emulator, 'acme-staging', 'eda-one'), steps)
    for event in events:
        api_key = event['ory_api_key']
        del event['ory_api_key']['seconds_to_expiry']
        assert event['meta'] == {'hosts': 'eda-one'}
        assert api_key['environment'] == 'eda-one' and api_key['project'] == 'acme-staging'
        assert api_key['key_id'] in (issued, project)
    assert summary(events) == [('rotate_window', 'issued', 'worker'), ('expired', 'issued', 'worker'),
                               ('rotate_window', 'project', 'eda-one:deploy'), ('gone', 'issued', 'worker'),
                               ('gone', 'project', project)]
    assert_no_secret(events, api)


def test_a_key_already_in_its_window_is_reported_on_the_first_poll_only(plugin, emulator, monkeypatch):
    api = Api(emulator, 'acme-production')
    api.clock(-26)
    key_id = api.issue('checkout', '30d', environment='eda-two')     # issued 26 days ago: 4 days left now
    api.clock(0)
    events = drive(plugin, monkeypatch, api, source_args(emulator, 'acme-production', 'eda-two'), [(0, None), (0.5, None), (1, None)])
    assert summary(events) == [('rotate_window', 'issued', 'checkout')]
    assert events[0]['ory_api_key']['key_id'] == key_id
    assert 3 * DAY < events[0]['ory_api_key']['seconds_to_expiry'] <= 4 * DAY
    assert events[0]['ory_api_key']['rotate_before'] == 7 * DAY
    assert_no_secret(events, api)


def test_keys_revoked_before_the_first_poll_are_not_news(plugin, emulator, monkeypatch):
    api = Api(emulator, 'acme-staging')
    api.revoke(api.issue('old', '30d', environment='eda-three'))
    events = drive(plugin, monkeypatch, api, source_args(emulator, 'acme-staging', 'eda-three'), [(0, None), (1, None)])
    assert events == []


def test_api_errors_are_logged_without_a_secret_and_polling_goes_on(plugin, emulator, monkeypatch, caplog):
    api = Api(emulator, 'acme-staging')
    args = source_args(emulator, 'acme-staging', 'eda-four')
    args['environments'][0]['project_api_key'] = 'ory_pat_' + 'x' * 30       # not a key of this project: 401
    production = Api(emulator, 'acme-production')
    args['environments'].append({'name': 'eda-four-b', 'project_slug': 'acme-production', 'project_api_key': production.project_key})
    api.clock(-26)
    # production's key (environment eda-four-b) with 4 days left: the second environment still reports
    production.issue('still-watched', '30d', environment='eda-four-b')
    api.clock(0)
    with caplog.at_level(logging.WARNING, logger='ory.network.ory_api_key_expiry'):
        events = drive(plugin, monkeypatch, api, args, [(0, None), (1, None)])
    assert summary(events) == [('rotate_window', 'issued', 'still-watched')]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and all('eda-four: could not read its keys' in w and 'HTTP 401' in w for w in warnings), warnings
    assert not any(SECRET_RE.search(w) for w in warnings)


@pytest.mark.parametrize('args, message', [
    ({}, 'environments must be a non-empty list.'),
    ({'environments': [{'project_slug': 'x'}]}, 'every item of environments needs a name.'),
    ({'environments': [{'name': 'a'}]}, 'environment a needs project or project_slug.'),
    ({'environments': [{'name': 'a', 'project': 'x', 'rotate_before': 'soon'}], 'workspace_api_key': 'k'},
     "environment a: rotate_before must be a duration such as 90d, 12h, 1w or 3600s, not 'soon'."),
])
def test_bad_arguments_fail_with_one_sentence(plugin, args, message):
    with pytest.raises(plugin.SourceError) as info:
        asyncio.run(plugin.main(ListQueue(), args))
    assert str(info.value) == message


def test_connection_falls_back_to_the_modules_env_names(plugin, emulator, monkeypatch):
    """No connection argument at all: the ORY_* variables of the modules' argument spec are used."""
    api = Api(emulator, 'acme-staging')
    monkeypatch.setenv('ORY_WORKSPACE_API_KEY', emulator.info['workspace_api_key'])
    monkeypatch.setenv('ORY_CONSOLE_API_URL', emulator.info['console_url'])
    monkeypatch.setenv('ORY_PROJECT_API_URL', emulator.info['project_url_template'])
    monkeypatch.setenv('ORY_PROJECT_API_KEY', api.project_key)
    api.clock(-26)
    api.issue('from-env', '30d', environment='eda-five')
    api.clock(0)
    events = drive(plugin, monkeypatch, api, {'interval': 0, 'environments': [{'name': 'eda-five', 'project_slug': 'acme-staging'}]},
                   [(0, None)])
    assert summary(events) == [('rotate_window', 'issued', 'from-env')]
