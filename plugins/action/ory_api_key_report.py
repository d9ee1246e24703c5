# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin ory.network.ory_api_key_report: writes the audits of many environments as one report on the controller."""

from __future__ import annotations

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

from ansible_collections.ory.network.plugins.module_utils._audit import combine
from ansible_collections.ory.network.plugins.plugin_utils._report import render_html, render_json, render_markdown
from ansible_collections.ory.network.plugins.plugin_utils._vault_store import _plain

RENDERERS = (('json', '.json', render_json), ('markdown', '.md', render_markdown), ('html', '.html', render_html))


def write_if_changed(path, text, check_mode):
    """Write atomically when the content differs; return whether it did (or would)."""
    data = to_bytes(text)
    try:
        with open(path, 'rb') as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    if check_mode:
        return True
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        audits, dest = args.get('audits'), args.get('dest')
        basename = args.get('basename') or 'ory-api-key-audit'
        formats = args.get('formats') or ['json', 'markdown', 'html']
        title = args.get('title') or 'Ory Network API key audit'
        unknown = sorted(set(args) - {'audits', 'dest', 'basename', 'formats', 'title'})
        if unknown:
            result.update(failed=True, msg='Unsupported parameters: %s.' % ', '.join(unknown))
            return result
        if not isinstance(audits, list) or not audits:
            result.update(failed=True, msg='audits must be a non-empty list of the audit results of ory.network.ory_api_key_audit.')
            return result
        if not dest or not isinstance(dest, str):
            result.update(failed=True, msg='dest is required: the directory the report is written to.')
            return result
        if not isinstance(formats, list) or set(formats) - {'json', 'markdown', 'html'}:
            result.update(failed=True, msg='formats must be a list of json, markdown and html.')
            return result
        bad = [index for index, audit in enumerate(audits) if not isinstance(audit, dict) or 'environment' not in audit or 'api_keys' not in audit]
        if bad:
            result.update(failed=True, msg='audits[%d] is not an audit result of ory.network.ory_api_key_audit (its audit return value).' % bad[0])
            return result
        dest = os.path.expandvars(os.path.expanduser(dest))
        if not os.path.isabs(dest):
            dest = os.path.join(self._loader.get_basedir(), dest)
        report = combine(_plain(audits))
        files, changed = {}, False
        try:
            for name, suffix, render in RENDERERS:
                if name not in formats:
                    continue
                path = os.path.normpath(os.path.join(dest, basename + suffix))
                text = render(report, title) if name == 'html' else render(report)
                changed = write_if_changed(path, text, bool(self._task.check_mode)) or changed
                files[name] = path
        except OSError as exc:
            result.update(failed=True, msg='The report could not be written to %s: %s.' % (dest, exc.strerror or type(exc).__name__))
            return result
        result.update(changed=changed, files=files, totals=report['totals'])
        return result
