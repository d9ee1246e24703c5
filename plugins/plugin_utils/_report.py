# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the key audit (module_utils/_audit.combine output) as JSON, Markdown and one self-contained HTML page.

The HTML has no external script, font, stylesheet or image: inline CSS and an inline SVG expiry timeline (one row
per key, today marked, the expiring window and each key's rotate window shaded, bars coloured by the key's first
flag). Every output is a pure function of the report, so the same audit renders to the same bytes.
"""

from __future__ import annotations

import datetime
import html
import json

from ansible_collections.ory.network.plugins.module_utils._api_keys import parse_time

# Colour of a bar by the key's first flag (or its state when it has none).
COLOURS = {
    'expired': '#c62828',
    'retiring': '#00897b',
    'rotate_due': '#ef6c00',
    'expiring': '#f9a825',
    'no_stored_secret': '#8e24aa',
    'duplicate_name': '#d81b60',
    'unmarked': '#6d4c41',
    'never_used': '#1e88e5',
    'unused': '#5c6bc0',
    'no_expiry': '#37474f',
    'ok': '#2e7d32',
    'revoked': '#9e9e9e',
}
DAY = 86400

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}p.meta{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right}tr.zero td{color:#8c959f}
.chip{display:inline-block;border-radius:10px;padding:0 8px;margin:1px 2px;font-size:12px;color:#fff}
.ok{background:#2e7d32}ul.keys{margin:0;padding-left:18px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
"""


def _e(value):
    return html.escape('' if value is None else str(value), quote=True)


def _flag_of(row):
    if row['flags']:
        return row['flags'][0]
    return 'revoked' if row['status'] == 'revoked' else 'ok'


def _stored(row):
    """The 'secret stored' cell: yes / no / unknown, or for a previous key in its grace period until when it stays live."""
    if row.get('previous_of'):
        when = row.get('retire_after') or 'retire_previous'
        return 'previous of %s, until %s%s' % (row['previous_of'], when, ' (due)' if row.get('retire_due') else '')
    return None if row['stored'] is None else ('yes' if row['stored'] else 'no')


def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + '\n'


def render_markdown(report):
    titles = report['flag_titles']
    lines = ['# Ory Network API key audit', '', 'Audited at %s: %d environments, %d keys, %d flagged.' % (
        report['audited_at'], report['totals']['environments'], report['totals']['key_count'], report['totals']['flagged']), '']
    for env in report['environments']:
        lines += ['## %s' % env['environment'], '']
        summary = env['summary']
        lines += ['| keys | project | workspace | issued | imported | active | expired | revoked | flagged |',
                  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
                  '| %d | %s | %d | %d | %d | %d |' % (
                      summary['key_count'], ' | '.join(str(summary['by_plane'][p]) for p in ('project', 'workspace', 'issued', 'imported')),
                      summary['by_status']['active'], summary['by_status']['expired'], summary['by_status']['revoked'],
                      summary['flagged']), '']
        lines += ['| flag | count | keys |', '|---|---:|---|']
        for name, flag in env['flags'].items():
            keys = ', '.join('`%s`' % label.replace('`', "'") for label in flag['keys']) or '-'
            lines.append('| %s (`%s`) | %d | %s |' % (titles[name], name, flag['count'], keys))
        lines.append('')
        lines += ['| plane | name | id | status | expires | days left | last used | secret stored | flags |',
                  '|---|---|---|---|---|---:|---|---|---|']
        for row in env['api_keys']:
            stored = _stored(row) or '-'
            lines.append('| %s | %s | `%s` | %s | %s | %s | %s | %s | %s |' % (
                row['plane'], row['name'].replace('|', '\\|') or '(no name)', row['id'], row['status'], row['expires'] or 'never',
                '' if row['days_to_expiry'] is None else row['days_to_expiry'], row['last_used'] or 'never', stored,
                ', '.join(row['flags']) or 'ok'))
        lines.append('')
    return '\n'.join(lines)


def _domain(env, at):
    """Start and end of the timeline: from before the oldest key to after the last expiry (bounded)."""
    start = at - datetime.timedelta(days=30)
    end = at + datetime.timedelta(days=max(60, env['settings']['expiring_within_days'] + 15))
    for row in env['api_keys']:
        created = parse_time(row['created'])
        expires = parse_time(row['expires'])
        if created is not None:
            start = min(start, max(created, at - datetime.timedelta(days=365)))
        if expires is not None:
            end = max(end, min(expires, at + datetime.timedelta(days=730)))
    return start - datetime.timedelta(days=2), end + datetime.timedelta(days=5)


def _tick_days(span_days):
    for step in (7, 14, 30, 60, 90, 180, 365):
        if span_days / step <= 10:
            return step
    return 730


def render_timeline(env, at):
    """The inline SVG expiry timeline of one environment."""
    rows = env['api_keys']
    label_w, chart_w, row_h, top = 300, 660, 24, 34
    width = label_w + chart_w + 20
    height = top + max(1, len(rows)) * row_h + 30
    start, end = _domain(env, at)
    span = (end - start).total_seconds()

    def x(stamp):
        return label_w + max(0.0, min(1.0, (stamp - start).total_seconds() / span)) * chart_w

    out = ['<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="%d" height="%d" viewBox="0 0 %d %d" '
           'aria-label="Expiry timeline of %s">' % (width, height, width, height, _e(env['environment']))]
    out.append('<title>Expiry timeline of %s: one bar per key, from creation to expiry</title>' % _e(env['environment']))
    window_end = at + datetime.timedelta(days=env['settings']['expiring_within_days'])
    out.append('<rect class="expiring-window" x="%.1f" y="%d" width="%.1f" height="%d" fill="#fff3c4"/>' % (
        x(at), top - 6, x(window_end) - x(at), height - top - 18))
    step = _tick_days(span / DAY)
    tick = start.replace(hour=0, minute=0, second=0)
    while tick <= end:
        tx = x(tick)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eaeef2"/>' % (tx, top - 6, tx, height - 24))
        out.append('<text x="%.1f" y="%d" font-size="10" fill="#57606a" text-anchor="middle">%s</text>' % (
            tx, height - 10, tick.strftime('%Y-%m-%d')))
        tick += datetime.timedelta(days=step)
    for index, row in enumerate(rows):
        y = top + index * row_h
        flag = _flag_of(row)
        colour = COLOURS.get(flag, COLOURS['ok'])
        created = parse_time(row['created']) or start
        expires = parse_time(row['expires'])
        bar_end = expires if expires is not None else end
        x1, x2 = x(created), x(bar_end)
        if row['rotate_before_days'] and expires is not None:
            rx = x(expires - datetime.timedelta(days=row['rotate_before_days']))
            out.append('<rect class="rotate-window" x="%.1f" y="%d" width="%.1f" height="%d" fill="#ffe0b2" stroke="#ef6c00" '
                       'stroke-dasharray="3 2"/>' % (rx, y, max(1.0, x2 - rx), row_h - 6))
        out.append('<text x="%d" y="%d" font-size="12" fill="#1f2328" text-anchor="end">%s</text>' % (
            label_w - 8, y + 13, _e(row['label'])))
        dash = ' stroke-dasharray="4 3" stroke="#37474f"' if expires is None else ''
        opacity = '0.45' if row['status'] == 'revoked' else '0.9'
        out.append('<rect class="bar flag-%s" data-key="%s" data-flags="%s" x="%.1f" y="%d" width="%.1f" height="%d" rx="3" '
                   'fill="%s" fill-opacity="%s"%s><title>%s: %s, expires %s%s</title></rect>' % (
                       flag, _e(row['label']), _e(' '.join(row['flags'])), x1, y + 3, max(2.0, x2 - x1), row_h - 12, colour, opacity,
                       dash, _e(row['label']), _e(row['status']), _e(row['expires'] or 'never'),
                       ('; ' + ', '.join(row['flags'])) if row['flags'] else ''))
    tx = x(at)
    out.append('<line class="today" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c62828" stroke-width="2"/>' % (
        tx, top - 14, tx, height - 24))
    out.append('<text x="%.1f" y="%d" font-size="11" fill="#c62828" text-anchor="middle">today %s</text>' % (
        tx, top - 18, at.strftime('%Y-%m-%d')))
    out.append('</svg>')
    return '\n'.join(out)


def _legend():
    items = ''.join('<span><i style="background:%s"></i>%s</span>' % (colour, _e(name)) for name, colour in COLOURS.items())
    return ('<p class="legend">%s<span><i style="background:#fff3c4;border:1px solid #f9a825"></i>expiring window</span>'
            '<span><i style="background:#ffe0b2;border:1px dashed #ef6c00"></i>rotate window</span></p>' % items)


def render_html(report, title='Ory Network API key audit'):
    at = parse_time(report['audited_at']) if report['audited_at'] else None
    titles = report['flag_titles']
    totals = report['totals']
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">', '<title>%s</title>' % _e(title),
           '<style>%s</style>' % CSS, '</head>', '<body>', '<h1>%s</h1>' % _e(title),
           '<p class="meta">Audited at %s &middot; %d environments &middot; %d keys &middot; %d flagged</p>' % (
               _e(report['audited_at']), totals['environments'], totals['key_count'], totals['flagged'])]
    out.append('<table class="totals"><caption>Flags across all environments</caption><thead><tr><th>flag</th>%s<th>total</th></tr>'
               '</thead><tbody>' % ''.join('<th>%s</th>' % _e(env['environment']) for env in report['environments']))
    for name, count in totals['flags'].items():
        cells = ''.join('<td class="num">%d</td>' % env['flags'][name]['count'] for env in report['environments'])
        out.append('<tr%s><td><span class="chip" style="background:%s">%s</span> %s</td>%s<td class="num">%d</td></tr>' % (
            ' class="zero"' if not count else '', COLOURS[name], _e(name), _e(titles[name]), cells, count))
    out.append('</tbody></table>')
    out.append(_legend())
    for env in report['environments']:
        summary = env['summary']
        out.append('<section class="environment" id="env-%s">' % _e(env['environment']))
        out.append('<h2>%s</h2>' % _e(env['environment']))
        out.append('<p class="meta">Planes read: %s. Vault file read: %s. Expiring window %d days; unused after %d days.</p>' % (
            _e(', '.join(env['planes_read']) or 'none'), 'yes' if env['settings']['vault_file_read'] else 'no',
            env['settings']['expiring_within_days'], env['settings']['unused_after_days']))
        out.append('<table class="summary"><thead><tr><th>keys</th><th>project</th><th>workspace</th><th>issued</th><th>imported</th>'
                   '<th>active</th><th>expired</th><th>revoked</th><th>flagged</th></tr></thead><tbody><tr>%s</tr></tbody></table>' % ''.join(
                       '<td class="num">%d</td>' % n for n in (
                           [summary['key_count']] + [summary['by_plane'][p] for p in ('project', 'workspace', 'issued', 'imported')]
                           + [summary['by_status'][s] for s in ('active', 'expired', 'revoked')] + [summary['flagged']])))
        out.append('<h3>Flags</h3><table class="flags"><thead><tr><th>flag</th><th>count</th><th>keys</th></tr></thead><tbody>')
        for name, flag in env['flags'].items():
            keys = ''.join('<li class="flagged-key">%s</li>' % _e(label) for label in flag['keys'])
            out.append('<tr%s><td><span class="chip" style="background:%s">%s</span> %s</td><td class="num">%d</td><td>%s</td></tr>' % (
                ' class="zero"' if not flag['count'] else '', COLOURS[name], _e(name), _e(flag['title']), flag['count'],
                '<ul class="keys">%s</ul>' % keys if keys else '&ndash;'))
        out.append('</tbody></table>')
        out.append('<h3>Expiry timeline</h3>')
        out.append(render_timeline(env, at))
        out.append('<h3>Keys</h3><table class="keys"><thead><tr><th>plane</th><th>name</th><th>id</th><th>actor</th><th>status</th>'
                   '<th>expires</th><th>days left</th><th>last used</th><th>secret stored</th><th>flags</th></tr></thead><tbody>')
        for row in env['api_keys']:
            stored = _e(_stored(row)) if _stored(row) else '&ndash;'
            chips = ''.join('<span class="chip" style="background:%s">%s</span>' % (COLOURS[f], _e(f)) for f in row['flags']) or \
                '<span class="chip ok">ok</span>'
            out.append('<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td>'
                       '<td>%s</td><td>%s</td><td>%s</td></tr>' % (
                           _e(row['plane']), _e(row['name']), _e(row['id']), _e(row['actor_id'] or ''), _e(row['status']),
                           _e(row['expires'] or 'never'), '' if row['days_to_expiry'] is None else row['days_to_expiry'],
                           _e(row['last_used'] or 'never'), stored, chips))
        out.append('</tbody></table></section>')
    out += ['</body>', '</html>', '']
    return '\n'.join(out)
