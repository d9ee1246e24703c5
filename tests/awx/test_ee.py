"""The execution environment definition (docs/examples/awx/ee/execution-environment.yml) with the real ansible-builder.

No container engine here: `ansible-builder create` writes the build context, and the test then does what the
context's galaxy and builder stages do, on this machine: install the collections of _build/requirements.yml from
the context and introspect them. `ansible-builder introspect` of the installed collection must list exactly the
runtime requirements of requirements.txt.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from .awx_job import ROOT

EE_DIR = os.path.join(ROOT, 'docs', 'examples', 'awx', 'ee')
BIN = os.path.dirname(sys.executable)


def run(cmd, cwd=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, '%s\n%s%s' % (' '.join(cmd), proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """The collection tarball, next to a copy of the EE definition, and the context ansible-builder creates."""
    work = tmp_path_factory.mktemp('ee')
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', ROOT, '--output-path', str(work)])
    tarballs = [name for name in os.listdir(work) if name.startswith('ory-network-') and name.endswith('.tar.gz')]
    assert len(tarballs) == 1
    os.rename(work / tarballs[0], work / 'ory-network.tar.gz')
    shutil.copy(os.path.join(EE_DIR, 'execution-environment.yml'), work)
    run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml', '-c', 'context', '--output-filename', 'Containerfile'],
        cwd=str(work))
    return work


def runtime_requirements():
    with open(os.path.join(ROOT, 'requirements.txt'), encoding='utf-8') as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith('#')]


def test_the_definition_is_version_3():
    with open(os.path.join(EE_DIR, 'execution-environment.yml'), encoding='utf-8') as handle:
        definition = yaml.safe_load(handle)
    assert definition['version'] == 3
    assert definition['dependencies']['ansible_core']['package_pip'].startswith('ansible-core>=2.18')


def test_create_writes_a_complete_context(built):
    context = built / 'context'
    containerfile = (context / 'Containerfile').read_text()
    assert 'FROM $EE_BASE_IMAGE AS base' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.18,<2.20 ansible-runner>=2.4,<2.5"' in containerfile
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert 'introspect.py introspect' in containerfile
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert requirements == {'collections': [{'name': '/build/collections/ory-network.tar.gz', 'type': 'file'}]}
    assert (context / '_build' / 'collections' / 'ory-network.tar.gz').read_bytes() == (built / 'ory-network.tar.gz').read_bytes()


def test_the_context_installs_the_collection_with_exactly_its_runtime_requirements(built, tmp_path):
    """The galaxy stage (COPY _build /build; ansible-galaxy collection install -r requirements.yml), here with
    /build as a local directory; then the builder stage's introspection."""
    build = tmp_path / 'build'
    shutil.copytree(built / 'context' / '_build', build)
    text = (build / 'requirements.yml').read_text().replace('/build/', str(build) + '/')
    (build / 'requirements.yml').write_text(text)
    collections = tmp_path / 'collections'
    # --force: ansible-galaxy skips a collection it finds installed anywhere on this machine; the image starts empty
    env_cmd = [os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '-r', 'requirements.yml', '--collections-path', str(collections)]
    run(env_cmd, cwd=str(build))
    installed = collections / 'ansible_collections' / 'ory' / 'network'
    for shipped in ('extensions/awx/credential_type.yml', 'extensions/eda/plugins/event_source/ory_api_key_expiry.py',
                    'extensions/eda/rulebooks/rotate_expiring_keys.yml', 'meta/execution-environment.yml', 'requirements.txt'):
        assert (installed / shipped).is_file(), shipped
    assert not (installed / 'extensions' / 'molecule').exists()
    out = run([os.path.join(BIN, 'ansible-builder'), 'introspect', str(collections)])
    data = yaml.safe_load(out.split('---', 1)[1])
    assert data['system'] == []
    assert [line.split('#')[0].strip() for line in data['python']] == runtime_requirements()
    assert all(line.endswith('# from collection ory.network') for line in data['python'])
    # the script the builder stage runs gives the same list
    script = build / 'scripts' / 'introspect.py'
    out = run([sys.executable, str(script), 'introspect', str(collections)])
    assert 'requests>=2.25' in out
