"""The AWX credential type (extensions/awx/credential_type.yml) against what the modules read and document.

The names are read from the collection at test time: the env fallbacks of every argument spec under plugins/
(``fallback=(env_fallback, [...])``) and the E(ORY_*) variables of the connection doc fragment.
"""
from __future__ import annotations

import ast
import glob
import os
import re

import jinja2
import jinja2.meta
import yaml

from .awx_job import CREDENTIAL_TYPE, ROOT, inject, load_credential_type

ENV_RE = re.compile(r'E\((ORY_[A-Z_]+)\)')


def env_names_read_by_modules():
    """{ORY_* name: [files]} for every env_fallback in an argument spec under plugins/."""
    names = {}
    for path in glob.glob(os.path.join(ROOT, 'plugins', '**', '*.py'), recursive=True):
        with open(path, encoding='utf-8') as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[0], ast.Name)
                    and node.elts[0].id == 'env_fallback' and isinstance(node.elts[1], (ast.List, ast.Tuple))):
                continue
            for element in node.elts[1].elts:
                names.setdefault(ast.literal_eval(element), []).append(os.path.relpath(path, ROOT))
    return names


def env_names_documented():
    """Every E(ORY_*) in the connection doc fragment's option descriptions."""
    path = os.path.join(ROOT, 'plugins', 'doc_fragments', 'connection.py')
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    docs = [ast.literal_eval(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'DOCUMENTATION' for t in node.targets)]
    assert docs, 'no DOCUMENTATION in the connection doc fragment'
    options = yaml.safe_load(docs[0])['options']
    names = set()
    for option in options.values():
        description = option.get('description') or []
        for line in ([description] if isinstance(description, str) else description):
            names.update(ENV_RE.findall(line))
    return names


def injected_names():
    return set(load_credential_type()['injectors']['env'])


def test_every_injected_name_is_read_by_a_module():
    read = env_names_read_by_modules()
    assert read, 'found no env_fallback under plugins/: the parser no longer matches the argument specs'
    assert sorted(injected_names() - set(read)) == []


def test_every_name_a_module_reads_is_injected():
    assert sorted(set(env_names_read_by_modules()) - injected_names()) == []


def test_every_documented_name_is_injectable():
    documented = env_names_documented()
    assert documented, 'found no E(ORY_*) in the connection doc fragment'
    assert sorted(documented - injected_names()) == []


def test_the_type_is_well_formed_for_awx():
    data = load_credential_type()
    fields = data['inputs']['fields']
    ids = [field['id'] for field in fields]
    assert len(ids) == len(set(ids))
    for field in fields:
        assert field['type'] in ('string', 'boolean'), field  # the only custom field types AWX has
        assert set(field) <= {'id', 'type', 'label', 'help_text', 'secret', 'multiline', 'default', 'format', 'choices'}, field
    assert set(data['inputs'].get('required') or []) <= set(ids)
    # the keys are secret fields (AWX encrypts them and never shows them); nothing else is
    assert {field['id'] for field in fields if field.get('secret')} == {'workspace_api_key', 'project_api_key'}
    environment = jinja2.Environment()
    templates = list(data['injectors']['env'].values()) + list(data['injectors']['file'].values())
    for template in templates:
        used = jinja2.meta.find_undeclared_variables(environment.parse(template))
        assert used <= set(ids) | {'tower'}, template
    assert not any(name.startswith('ANSIBLE_') for name in data['injectors']['env'])
    assert data['kind'] == 'cloud'


def test_injection_with_every_input(tmp_path):
    inputs = {'workspace_api_key': 'W', 'workspace_id': 'wid', 'project_api_key': 'P', 'project_id': 'pid',
              'project_slug': 'slug', 'console_api_url': 'https://console.example', 'project_api_url': 'https://%s.example',
              'ca_bundle': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'skip_tls_verification': False,
              'timeout': '12.5', 'max_retries': '2'}
    env = inject(load_credential_type(), inputs, str(tmp_path))
    ca_path = env.pop('ORY_CA_PATH')
    assert env == {'ORY_WORKSPACE_API_KEY': 'W', 'ORY_WORKSPACE_ID': 'wid', 'ORY_PROJECT_API_KEY': 'P', 'ORY_PROJECT_ID': 'pid',
                   'ORY_PROJECT_SLUG': 'slug', 'ORY_CONSOLE_API_URL': 'https://console.example',
                   'ORY_PROJECT_API_URL': 'https://%s.example', 'ORY_VALIDATE_CERTS': 'true', 'ORY_TIMEOUT': '12.5',
                   'ORY_MAX_RETRIES': '2'}
    assert os.path.dirname(ca_path) == str(tmp_path / 'env')
    with open(ca_path, encoding='utf-8') as handle:
        assert handle.read() == inputs['ca_bundle']
    assert oct(os.stat(ca_path).st_mode & 0o777) == '0o600'


def test_injection_with_only_a_workspace_key(tmp_path):
    """Unset inputs give the modules' defaults, never a value a module would reject (an empty number or bool)."""
    env = inject(load_credential_type(), {'workspace_api_key': 'W'}, str(tmp_path))
    assert env['ORY_CA_PATH'] == ''
    assert env['ORY_VALIDATE_CERTS'] == 'true'    # a missing boolean is false in AWX: the field says "skip"
    assert env['ORY_TIMEOUT'] == '30'
    assert env['ORY_MAX_RETRIES'] == '5'
    assert env['ORY_CONSOLE_API_URL'] == 'https://api.console.ory.sh'
    assert env['ORY_PROJECT_API_URL'] == 'https://%s.projects.oryapis.com'
    assert env['ORY_PROJECT_API_KEY'] == ''


def test_skip_tls_verification(tmp_path):
    env = inject(load_credential_type(), {'skip_tls_verification': True}, str(tmp_path))
    assert env['ORY_VALIDATE_CERTS'] == 'false'


def test_the_registration_playbook_loads_this_file():
    path = os.path.join(ROOT, 'docs', 'examples', 'awx', 'register_credential_type.yml')
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    assert 'awx.awx.credential_type' in text
    assert 'extensions/awx/credential_type.yml' in text or os.path.basename(CREDENTIAL_TYPE) in text


def test_the_registration_playbook_passes_syntax_check(tmp_path):
    """awx.awx is not installable here (no Galaxy access): a stand-in module lets ansible-playbook resolve the task."""
    import subprocess
    import sys
    modules = tmp_path / 'ansible_collections' / 'awx' / 'awx' / 'plugins' / 'modules'
    modules.mkdir(parents=True)
    (modules / 'credential_type.py').write_text('"""Test stand-in for awx.awx.credential_type (syntax-check only)."""\n')
    (tmp_path / 'ansible_collections' / 'awx' / 'awx' / 'galaxy.yml').write_text('namespace: awx\nname: awx\nversion: 0.0.0\n')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_NOCOLOR='1')
    playbook = os.path.join(ROOT, 'docs', 'examples', 'awx', 'register_credential_type.yml')
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    proc = subprocess.run([ansible_playbook, '--syntax-check', '-i', 'localhost,', playbook], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the lookup the play uses finds the shipped file from a checkout
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local', '-m',
                           'ansible.builtin.debug', '-a', "msg={{ (lookup('ansible.builtin.file', '%s') | from_yaml).injectors.env | length }}"
                           % os.path.join(os.path.dirname(playbook), '../../../extensions/awx/credential_type.yml')],
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and '"msg": 11' in proc.stdout, proc.stdout + proc.stderr
