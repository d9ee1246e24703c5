"""Unit tests of the audit classification (module_utils/_audit.py) and the report renderers (plugin_utils/_report.py)."""
from __future__ import annotations

import datetime
import json
import re
from html.parser import HTMLParser

from ansible_collections.ory.network.plugins.module_utils._audit import FLAG_NAMES, audit_environment, combine
from ansible_collections.ory.network.plugins.plugin_utils._report import render_html, render_json, render_markdown

AT = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.timezone.utc)
MARK = {'managed_by': 'ory.network', 'environment': 'prod'}


def ts(days):
    return (AT + datetime.timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')


def project(key_id, name, expires=None, created=-10):
    return {'id': key_id, 'name': name, 'expires_at': expires, 'created_at': ts(created)}


def talos(key_id, name, expires=60, status='KEY_STATUS_ACTIVE', used=-1, metadata=None, created=-10, updated=-10):
    key = {'key_id': key_id, 'name': name, 'actor_id': 'svc', 'status': status, 'create_time': ts(created), 'update_time': ts(updated),
           'expire_time': ts(expires), 'metadata': MARK if metadata is None else metadata}
    if used is not None:
        key['last_used_time'] = ts(used)
    return key


PLANES = {
    'project': [project('p-ok', 'prod:talos', ts(80)), project('p-hand', 'hand-made', None), project('p-old', 'prod:ci', ts(-1))],
    'workspace': [project('w-1', 'emulator-seed', None)],
    'issued': [talos('i-ok', 'prod:checkout', 60), talos('i-soon', 'prod:reporting', 5), talos('i-dup1', 'prod:dup', 50),
               talos('i-dup2', 'prod:dup', 50), talos('i-never', 'prod:never', 50, used=None), talos('i-idle', 'prod:idle', 50, used=-200),
               talos('i-unmarked', 'partner', 50, metadata={}), talos('i-revoked', 'prod:gone', 40, status='KEY_STATUS_REVOKED', updated=-3),
               talos('i-ancient', 'prod:ancient', 40, status='KEY_STATUS_REVOKED', updated=-90), talos('i-new', 'prod:new', 50, used=None, created=0)],
    'imported': [talos('a' * 64, 'legacy', 300, used=None, metadata={})],
}
STORED = [{'var': 'v_talos', 'key_id': 'p-ok'}, {'var': 'v_ci', 'key_id': 'p-old'}, {'var': 'v_checkout', 'key_id': 'i-ok'},
          {'var': 'v_soon', 'key_id': 'i-soon'}, {'var': 'v_dup', 'key_id': 'i-dup1'}, {'var': 'v_never', 'key_id': 'i-never'},
          {'var': 'v_idle', 'key_id': 'i-idle'}, {'var': 'v_new', 'key_id': 'i-new'}]
DECLARED = [{'plane': 'issued', 'name': 'checkout', 'rotate_before': '61d'}, {'plane': 'project', 'name': 'talos', 'rotate_before': '14d'}]


def audit(**kwargs):
    args = dict(environment='prod', planes=PLANES, stored=STORED, declared=DECLARED, at=AT)
    args.update(kwargs)
    return audit_environment(**args)


def flagged(result, flag):
    return sorted(r['id'] for r in result['api_keys'] if flag in r['flags'])


def test_each_flag_finds_its_keys():
    result = audit()
    assert flagged(result, 'expired') == ['p-old']
    assert flagged(result, 'expiring') == ['i-soon']
    assert flagged(result, 'rotate_due') == ['i-ok']
    assert flagged(result, 'never_used') == ['a' * 64, 'i-never']      # i-new was created today
    assert flagged(result, 'unused') == ['i-idle']
    assert flagged(result, 'unmarked') == ['a' * 64, 'i-unmarked', 'p-hand']
    assert flagged(result, 'duplicate_name') == ['i-dup1', 'i-dup2']
    assert flagged(result, 'no_stored_secret') == ['i-dup2', 'i-unmarked', 'p-hand']
    assert flagged(result, 'no_expiry') == ['p-hand', 'w-1']


def test_counts_lists_and_old_revoked_keys_left_out():
    result = audit()
    ids = [r['id'] for r in result['api_keys']]
    assert 'i-revoked' in ids and 'i-ancient' not in ids
    for name in FLAG_NAMES:
        assert result['flags'][name]['count'] == len(result['flags'][name]['keys']) == len(flagged(result, name))
    assert result['summary']['by_status'] == {'active': 12, 'expired': 1, 'revoked': 1}
    assert result['summary']['by_plane'] == {'project': 3, 'workspace': 1, 'issued': 9, 'imported': 1}
    order = ['project', 'workspace', 'issued', 'imported']
    assert [r['plane'] for r in result['api_keys']] == sorted((r['plane'] for r in result['api_keys']), key=order.index)


def test_without_a_vault_file_stored_is_unknown_and_not_flagged():
    result = audit(stored=None)
    assert result['flags']['no_stored_secret']['count'] == 0
    assert all(r['stored'] is None for r in result['api_keys'])
    assert result['settings']['vault_file_read'] is False


def test_window_and_unused_thresholds():
    expiring = ['i-dup1', 'i-dup2', 'i-idle', 'i-never', 'i-new', 'i-ok', 'i-soon', 'i-unmarked']
    assert flagged(audit(window='70d'), 'expiring') == expiring
    assert flagged(audit(unused_after='300d'), 'unused') == []


def test_same_input_same_output_and_no_secret_fields():
    first, second = audit(), audit(planes=dict((k, list(reversed(v))) for k, v in PLANES.items()), stored=list(reversed(STORED)))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    report = combine([audit(environment='b'), audit(environment='a')])
    assert [e['environment'] for e in report['environments']] == ['a', 'b']
    assert render_html(report) == render_html(combine([audit(environment='a'), audit(environment='b')]))
    assert not {'value', 'secret', 'raw_key'} & set(k for row in first['api_keys'] for k in row)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bars, self.external, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'rect' and 'bar' in (attrs.get('class') or '').split():
            self.bars.append(attrs['data-key'])
        if tag in ('script', 'link', 'img', 'iframe') or any(v and re.match(r'(https?:)?//', v) and k != 'xmlns' for k, v in attrs.items()):
            self.external.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_with_one_bar_per_key():
    report = combine([audit(), audit(environment='stage', stored=None)])
    page = render_html(report)
    parser = _Collect()
    parser.feed(page)
    assert parser.external == []
    keys = [r['label'] for env in report['environments'] for r in env['api_keys']]
    assert sorted(parser.bars) == sorted(keys)
    text = ''.join(parser.text)
    for env in report['environments']:
        for flag in env['flags'].values():
            for label in flag['keys']:
                assert label in text
    assert page.count('class="today"') == 2 and 'class="rotate-window"' in page and 'class="expiring-window"' in page


def test_markdown_and_json():
    report = combine([audit()])
    markdown = render_markdown(report)
    assert '## prod' in markdown and '| Expired but still listed (`expired`) | 1 |' in markdown
    assert json.loads(render_json(report)) == json.loads(json.dumps(report))
