# Talos get and list: 404s, paging (default 50, clamp 1000, opaque tokens), filter rules, ordering, revoked keys included.
from __future__ import annotations

import uuid

import pytest
import requests
from ory_client.models import IssuedApiKey, KeyStatus, ListIssuedApiKeysResponse

from .helpers import ISSUE, assert_aip, sdk


def _list(emulator, **params):
    resp = emulator.talos('GET', ISSUE, params=params)
    assert resp.status_code == 200, resp.text
    return sdk(ListIssuedApiKeysResponse, resp.json()), resp.json()


def test_get_key(emu, actor):
    body = emu.issue(name='get-me', actor_id=actor, scopes=['a'])
    got = emu.get_key(body['issued_api_key']['key_id'])
    assert got == body['issued_api_key']
    assert 'secret' not in got
    assert sdk(IssuedApiKey, got).name == 'get-me'


def test_get_unknown_key(emu):
    key_id = str(uuid.uuid4())
    resp = emu.talos('GET', ISSUE + '/' + key_id)
    err = assert_aip(resp, 404, 'NOT_FOUND', 'API_KEY_NOT_FOUND', 'API key not found')
    assert err['details'][0]['metadata'] == {'key_id': key_id}
    resp = emu.talos('GET', ISSUE + '/not-a-uuid')
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_paging_over_1000_keys(make_emu):
    emulator = make_emu()
    emulator.set_project(key_quota=5000)
    session = requests.Session()
    session.headers['Authorization'] = 'Bearer ' + emulator.info['project_api_key']
    url = emulator.info['project_url'] + ISSUE
    created = set()
    for index in range(1010):
        resp = session.post(url, json={'name': 'bulk-%d' % index, 'actor_id': 'bulk', 'ttl': '1h'})
        assert resp.status_code == 201
        created.add(resp.json()['issued_api_key']['key_id'])
    assert len(created) == 1010

    default_page, raw = _list(emulator)
    assert len(default_page.issued_api_keys) == 50
    assert raw['next_page_token']
    zero_page, dummy = _list(emulator, page_size=0)
    assert len(zero_page.issued_api_keys) == 50
    negative_page, dummy = _list(emulator, page_size=-3)
    assert len(negative_page.issued_api_keys) == 50

    big, raw = _list(emulator, page_size=5000)
    assert len(big.issued_api_keys) == 1000
    rest, raw_rest = _list(emulator, page_size=5000, page_token=raw['next_page_token'])
    assert len(rest.issued_api_keys) == 10
    assert not raw_rest.get('next_page_token')
    ids = [key.key_id for key in big.issued_api_keys + rest.issued_api_keys]
    assert ids == sorted(ids)
    assert set(ids) == created

    # walking with an odd page size gives every key exactly once, in key_id order
    seen, token, pages = [], None, 0
    while True:
        params = {'page_size': 333}
        if token:
            params['page_token'] = token
        page, raw = _list(emulator, **params)
        pages += 1
        seen += [key.key_id for key in page.issued_api_keys]
        token = raw.get('next_page_token')
        if not token:
            break
    assert pages == 4
    assert seen == sorted(created)


def test_page_token_rules(fresh):
    for index in range(5):
        fresh.issue(name='k%d' % index, actor_id='pt')
    dummy, raw = _list(fresh, page_size=2)
    token = raw['next_page_token']
    tampered = token[:-2] + ('AA' if token[-2:] != 'AA' else 'BB')
    resp = fresh.talos('GET', ISSUE, params={'page_size': 2, 'page_token': tampered})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    resp = fresh.talos('GET', ISSUE, params={'page_token': 'garbage'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    # a token is bound to its filter
    resp = fresh.talos('GET', ISSUE, params={'page_size': 2, 'page_token': token, 'filter': 'actor_id="pt"'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')
    resp = fresh.talos('GET', ISSUE, params={'page_size': 'ten'})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST')


def test_list_includes_revoked_and_filters(fresh):
    keep = fresh.issue(name='a1', actor_id='alice')['issued_api_key']['key_id']
    gone = fresh.issue(name='a2', actor_id='alice')['issued_api_key']['key_id']
    fresh.issue(name='b1', actor_id='bob')
    fresh.revoke(gone)

    page, dummy = _list(fresh)
    assert len(page.issued_api_keys) == 3
    by_id = {key.key_id: key for key in page.issued_api_keys}
    assert by_id[gone].status == KeyStatus.KEY_STATUS_REVOKED

    page, dummy = _list(fresh, filter='actor_id="alice"')
    assert {key.key_id for key in page.issued_api_keys} == {keep, gone}
    page, dummy = _list(fresh, filter='actor_id="alice" AND status=KEY_STATUS_ACTIVE')
    assert [key.key_id for key in page.issued_api_keys] == [keep]
    page, dummy = _list(fresh, filter='status=KEY_STATUS_REVOKED AND actor_id = "alice"')
    assert [key.key_id for key in page.issued_api_keys] == [gone]
    page, dummy = _list(fresh, filter='actor_id=bob')
    assert len(page.issued_api_keys) == 1
    page, dummy = _list(fresh, filter='actor_id="nobody"')
    assert page.issued_api_keys == []


def test_filter_quoted_value_is_verbatim(fresh):
    odd = 'svc AND status=x'
    fresh.issue(name='odd', actor_id=odd)
    page, dummy = _list(fresh, filter='actor_id="%s"' % odd)
    assert [key.actor_id for key in page.issued_api_keys] == [odd]


@pytest.mark.parametrize('expr,message', [
    ('status=KEY_STATUS_ACTIVE', 'status filter must be combined with actor_id'),
    ('name="x"', None),
    ('actor_id="a" OR actor_id="b"', None),
    ('actor_id="a" AND actor_id="b"', None),
    ('actor_id="a" AND', None),
    ('AND actor_id="a"', None),
    ('actor_id="a" AND  AND status=KEY_STATUS_ACTIVE', None),
    ('actor_id="a" status=KEY_STATUS_ACTIVE', None),
    ('actor_id="a" AND status=ACTIVE', None),
    ('actor_id', None),
    ('actor_id="unterminated', None),
])
def test_filter_rejections(emu, expr, message):
    resp = emu.talos('GET', ISSUE, params={'filter': expr})
    assert_aip(resp, 400, 'INVALID_ARGUMENT', 'BAD_REQUEST', message)
