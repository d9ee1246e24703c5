"""The collection's packaging files: license text, galaxy metadata, role spec, ignored generated files."""
from __future__ import annotations

import fnmatch
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return handle.read()


def test_license_text_is_shipped_and_referenced_from_galaxy_yml():
    galaxy = yaml.safe_load(read('galaxy.yml'))
    assert galaxy.get('license_file') == 'COPYING'
    assert 'license' not in galaxy, 'galaxy.yml: license and license_file are mutually exclusive'
    text = read('COPYING')
    assert 'GNU GENERAL PUBLIC LICENSE' in text and 'Version 3, 29 June 2007' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    assert not any(fnmatch.fnmatch('COPYING', pattern) for pattern in galaxy.get('build_ignore') or [])


def test_every_role_entry_point_has_version_added():
    roles = os.path.join(ROOT, 'roles')
    for role in sorted(os.listdir(roles)):
        specs = yaml.safe_load(read('roles', role, 'meta', 'argument_specs.yml'))['argument_specs']
        for entry, spec in specs.items():
            assert spec.get('version_added'), '%s/%s has no version_added, so the changelog does not list the role' % (role, entry)


def test_generated_plugin_cache_is_ignored_by_git():
    patterns = [line.strip() for line in read('.gitignore').splitlines() if line.strip() and not line.startswith('#')]
    assert any(fnmatch.fnmatch('changelogs/.plugin-cache.yaml', p.lstrip('/')) or fnmatch.fnmatch('.plugin-cache.yaml', p)
               for p in patterns)
