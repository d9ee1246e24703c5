"""Unit tests for option resolution, credential kinds, durations, timestamps and matching."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.ory.network.plugins.module_utils._api_keys import (
    UsageError, expiry_facts, expires_within, match_one, normalize_time, parse_duration, parse_time)
from ansible_collections.ory.network.plugins.module_utils._options import Connection, OptionError, connection_argument_spec


def test_argument_spec_marks_credentials_no_log_and_reads_env():
    spec = connection_argument_spec(name=dict(type='str'))
    assert spec['workspace_api_key']['no_log'] is True
    assert spec['project_api_key']['no_log'] is True
    assert spec['workspace_api_key']['fallback'][1] == ['ORY_WORKSPACE_API_KEY']
    assert spec['project_api_url']['fallback'][1] == ['ORY_PROJECT_API_URL']
    assert 'name' in spec
    assert 'name' not in connection_argument_spec(), 'each call returns a fresh spec'


def test_urls_and_defaults():
    conn = Connection({'project_slug': 'happy-cat'})
    assert conn.console_url == 'https://api.console.ory.sh'
    assert conn.project_url == 'https://happy-cat.projects.oryapis.com'
    assert Connection({'project_api_url': 'http://127.0.0.1:9/p/%s/', 'project_slug': 's'}).project_url == 'http://127.0.0.1:9/p/s'
    assert Connection({'project_api_url': 'https://talos.internal'}).project_url == 'https://talos.internal'


def test_missing_slug_names_the_option():
    with pytest.raises(OptionError, match='project_slug is required'):
        dummy = Connection({}).project_url


@pytest.mark.parametrize('option,value,kind', [
    ('workspace_api_key', 'ory_pat_abcdefgh', 'holds a project API key'),
    ('workspace_api_key', 'ory_ak_v1_abc_def', 'holds an issued API key'),
    ('project_api_key', 'ory_wak_abcdefgh', 'holds a workspace API key'),
    ('project_api_key', 'ory_ak_v1_abc_def', 'holds an issued API key'),
])
def test_wrong_credential_kind_is_named(option, value, kind):
    conn = Connection({option: value})
    getter = conn.workspace_key if option == 'workspace_api_key' else conn.project_key
    with pytest.raises(OptionError) as info:
        getter()
    assert str(info.value).startswith(option + ' ' + kind)
    assert value not in str(info.value)


def test_missing_credential_names_option_and_env():
    with pytest.raises(OptionError, match='workspace_api_key is required .*ORY_WORKSPACE_API_KEY'):
        Connection({}).workspace_key()
    assert Connection({'project_api_key': 'ory_pat_x1'}).project_key() == 'ory_pat_x1'


@pytest.mark.parametrize('text,seconds', [
    ('3600s', 3600), ('24h', 86400), ('1h30m', 5400), ('90d', 90 * 86400), ('1w', 604800),
    ('1mo', 30 * 86400), ('1y6mo', 365 * 86400 + 180 * 86400), ('120', 120), (45, 45),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize('text', ['abc', '10x', '', 'h1', '1d foo'])
def test_bad_durations_name_the_option(text):
    with pytest.raises(OptionError, match="rotate_before must be a duration"):
        parse_duration(text, 'rotate_before')


def test_times_are_whole_second_utc():
    assert normalize_time('2027-01-01T02:00:00.987+02:00') == '2027-01-01T00:00:00Z'
    assert normalize_time('2027-01-01T00:00:00Z') == '2027-01-01T00:00:00Z'
    assert normalize_time(None) is None
    with pytest.raises(OptionError, match='expires_at must be an RFC 3339 timestamp'):
        parse_time('next tuesday', 'expires_at')


def test_expiry_math():
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert expiry_facts('2026-01-11T00:00:00Z', at) == (False, 10)
    assert expiry_facts('2025-12-31T00:00:00Z', at)[0] is True
    assert expiry_facts(None, at) == (False, None)
    assert expires_within('2026-01-05T00:00:00Z', 7 * 86400, at) is True
    assert expires_within('2026-02-05T00:00:00Z', 7 * 86400, at) is False
    assert expires_within(None, 7 * 86400, at) is False


def test_match_one():
    assert match_one([], 'name x', 'id') is None
    assert match_one([{'id': 'a'}], 'name x', 'id') == {'id': 'a'}
    with pytest.raises(UsageError, match=r'matches 2 live keys \(a, b\)'):
        match_one([{'id': 'b'}, {'id': 'a'}], "name 'x'", 'id')
