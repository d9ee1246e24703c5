"""AWX jobs as AWX runs them: ansible-runner (process isolation off) in a private data directory per job, a fresh
copy of the example project (docs/examples/awx/project) per job, the "Ory Network" credential injected by its
own injectors (extensions/awx/credential_type.yml), the Vault credential as --vault-id ory@prompt answered at the
prompt, verbosity 4 (-vvvv), against the local emulator seeded with the example's two projects.

The tests run in file order and share the persistent vault directory (the volume AWX would mount) and a bare git
repository (the "commit the encrypted file back" option).
"""
from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess

import certifi
import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from .awx_job import ROOT, Job, inject, load_credential_type

PROJECT = os.path.join(ROOT, 'docs', 'examples', 'awx', 'project')
VAULT_ID = 'ory'
ENVIRONMENTS = ('staging', 'production')
SECRET_PREFIXES = ('ory_wak_', 'ory_pat_', 'ory_ak_', 'ory_apikey_', 'ory_pk_')

JOBS = []


def first_certificate():
    with open(certifi.where(), encoding='ascii') as handle:
        text = handle.read()
    start = text.index('-----BEGIN CERTIFICATE-----')
    end = text.index('-----END CERTIFICATE-----', start) + len('-----END CERTIFICATE-----')
    return text[start:end] + '\n'


@pytest.fixture(scope='module')
def site(emulator, tmp_path_factory):
    """What outlives the jobs: the vault volume, the vault password, the git repository, the credential."""
    base = tmp_path_factory.mktemp('awx')
    bare = base / 'vault-repo.git'
    seed = base / 'seed'
    subprocess.run(['git', 'init', '-q', '--bare', '-b', 'main', str(bare)], check=True)
    subprocess.run(['git', 'init', '-q', '-b', 'main', str(seed)], check=True)
    (seed / 'README').write_text('vault files of the Ory Network environments\n')
    git = ['git', '-C', str(seed), '-c', 'user.name=t', '-c', 'user.email=t@localhost']
    subprocess.run(git + ['add', 'README'], check=True)
    subprocess.run(git + ['commit', '-q', '-m', 'start'], check=True)
    subprocess.run(git + ['push', '-q', str(bare), 'main'], check=True)
    info = emulator.info
    return {
        'base': str(base),
        'vault_dir': str(base / 'ory-vault'),
        'empty_vault_dir': str(base / 'unmounted'),
        'bare': str(bare),
        'password': secrets.token_urlsafe(24),
        'credential': {
            'workspace_api_key': info['workspace_api_key'],
            'console_api_url': info['console_url'],
            'project_api_url': info['project_url_template'],
            'ca_bundle': first_certificate(),
            'timeout': '20',
            'max_retries': '3',
        },
    }


def run_job(site, name, extravars=None, job_type='run'):
    job = Job(site['base'], PROJECT, name)
    env = inject(load_credential_type(), site['credential'], job.private_data_dir)
    job.injected = env
    variables = {'ory_vault_dir': site['vault_dir']}
    variables.update(extravars or {})
    job.run('bootstrap.yml', 'inventory/environments.yml', env, VAULT_ID, site['password'], extravars=variables,
            job_type=job_type, verbosity=4)
    JOBS.append(job)
    return job


def vault_values(path, password):
    with open(path, 'rb') as handle:
        data = handle.read()
    vault = VaultLib([(VAULT_ID, VaultSecret(password.encode()))])
    return yaml.safe_load(vault.decrypt(data))


def bare_log(site):
    out = subprocess.run(['git', '--git-dir', site['bare'], 'log', '--format=%s', 'main'], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def test_job1_bootstraps_two_environments(site, emulator):
    emulator.reset_stats()
    job = run_job(site, 'job1-bootstrap', {'ory_vault_git_repo': site['bare']})
    recap = job.recap()
    assert job.result.status == 'successful', job.stdout()[-3000:]
    assert set(recap) == set(ENVIRONMENTS)
    for host in ENVIRONMENTS:
        assert recap[host]['failures'] == 0 and recap[host]['changed'] > 0, recap
        stored = vault_values(os.path.join(site['vault_dir'], host + '.yml'), site['password'])
        assert stored['ory_project_api_key_talos'].startswith('ory_pat_')
        assert stored['ory_issued_api_key_checkout'].startswith('ory_ak_')
    assert emulator.writes().get('POST /v2alpha1/admin/issuedApiKeys') == 2
    # the credential type's file injector: the CA bundle is a 0600 file under env/, named by ORY_CA_PATH
    ca_path = job.injected['ORY_CA_PATH']
    assert os.path.dirname(ca_path) == os.path.join(job.private_data_dir, 'env')
    with open(ca_path, encoding='ascii') as handle:
        assert handle.read() == site['credential']['ca_bundle']
    # the deploy play of the same job verified the new checkout keys
    verified = [e for e in job.events() if e.get('event') == 'runner_on_ok' and e['event_data'].get('task') == 'Show the result (no secret)']
    assert len(verified) == 2 and all('is_valid=True' in e['stdout'] for e in verified), [e.get('stdout') for e in verified]
    # "commit the encrypted file back": one commit per environment in the repository, and only ciphertext in it
    log = bare_log(site)
    assert sorted(log[:2]) == ['ory.network: vault file of production', 'ory.network: vault file of staging'], log
    for host in ENVIRONMENTS:
        shown = subprocess.run(['git', '--git-dir', site['bare'], 'show', 'main:vault/%s.yml' % host], check=True,
                               capture_output=True, text=True).stdout
        assert shown.startswith('$ANSIBLE_VAULT;1.2;AES256;%s' % VAULT_ID)
        with open(os.path.join(site['vault_dir'], host + '.yml'), encoding='ascii') as handle:
            assert handle.read() == shown


def test_job2_in_a_new_checkout_changes_nothing(site, emulator):
    commits = bare_log(site)
    emulator.reset_stats()
    job = run_job(site, 'job2-rerun', {'ory_vault_git_repo': site['bare']})
    recap = job.recap()
    assert job.result.status == 'successful', job.stdout()[-3000:]
    assert {host: counts['changed'] for host, counts in recap.items()} == {host: 0 for host in ENVIRONMENTS}
    assert emulator.writes() == {}
    assert bare_log(site) == commits


def test_a_check_job_changes_nothing(site, emulator):
    """Job type "check" with one more key declared: it reports the change, and writes no key and no file."""
    before = {path: open(path, 'rb').read() for path in glob.glob(os.path.join(site['vault_dir'], '*.yml'))}
    emulator.reset_stats()
    extra = [{'name': 'reporting', 'actor_id': 'svc-reporting', 'scopes': ['orders:read'], 'ttl': '90d', 'rotate_before': '14d'}]
    job = run_job(site, 'job-check', {'extra_issued_keys': extra}, job_type='check')
    recap = job.recap()
    assert job.result.status == 'successful', job.stdout()[-3000:]
    assert all(counts['changed'] > 0 for counts in recap.values()), recap    # it would issue the new key
    assert emulator.writes() == {}
    after = {path: open(path, 'rb').read() for path in glob.glob(os.path.join(site['vault_dir'], '*.yml'))}
    assert after == before and len(after) == 2


def test_job3_without_the_vault_file_stops_before_any_write(site, emulator):
    """The volume is not mounted: ory_bootstrap_on_missing_secret: fail stops every environment before a write."""
    emulator.reset_stats()
    job = run_job(site, 'job3-vault-missing', {'ory_vault_dir': site['empty_vault_dir']})
    recap = job.recap()
    assert job.result.status == 'failed'
    assert all(counts['failures'] == 1 for counts in recap.values()), recap
    assert emulator.writes() == {}
    assert not os.path.exists(site['empty_vault_dir']) or os.listdir(site['empty_vault_dir']) == []
    failed = [e for e in job.events() if e.get('event') == 'runner_on_failed']
    assert len(failed) == 2 and all('secret' in e['stdout'] for e in failed), [e.get('stdout') for e in failed]


def test_no_secret_in_any_event_output_artifact_or_env_file(site, emulator):
    """-vvvv everywhere. Secrets: the injected workspace key, the seeded project keys, every secret in the vault files.

    ansible-runner records the environment it started ansible-playbook with in artifacts/<ident>/command; with a
    credential injected as environment variables, that record holds it (AWX keeps a copy with secret values masked
    and deletes the private data directory after the job). That record, for exactly the injected names, is the
    only place allowed to hold one.
    """
    assert len(JOBS) == 4, 'run the whole module: the scan covers every job'
    known = set(emulator.seeded_secrets())
    for path in glob.glob(os.path.join(site['vault_dir'], '*.yml')):
        known.update(v for v in vault_values(path, site['password']).values() if isinstance(v, str) and v.startswith(SECRET_PREFIXES))
    assert len(known) >= 3 + 2 * 3, known and len(known)      # seeded keys + talos, ci-deploy, checkout per environment
    known.add(site['password'])
    leaks = []
    command_records = 0
    for job in JOBS:
        events = job.events()
        assert len(events) > 20
        for event in events:
            text = json.dumps(event)
            leaks += ['%s event %s' % (job.ident, event.get('counter')) for secret in known if secret in text]
        stdout = job.stdout()
        # the job ran at -vvvv (the engine is an action plugin: a job may open no connection that would show it in stdout)
        with open(os.path.join(job.artifact_dir, 'command'), encoding='utf-8') as handle:
            assert '-vvvv' in json.load(handle)['command'], 'not run at -vvvv'
        leaks += ['%s stdout' % job.ident for secret in known if secret in stdout]
        for path, text in job.files():
            found = [secret for secret in known if secret in text]
            if not found:
                continue
            if path == os.path.join(job.artifact_dir, 'command'):
                record = json.loads(text)
                holders = {name for name, value in record['env'].items() if value in found}
                outside = dict(record, env={k: v for k, v in record['env'].items() if k not in holders})
                assert holders <= set(job.injected), holders
                assert not [s for s in found if s in json.dumps(outside)], 'a secret in the command line of ' + job.ident
                assert oct(os.stat(path).st_mode & 0o777) == '0o600'
                command_records += 1
                continue
            leaks.append(os.path.relpath(path, job.private_data_dir))
        env_files = sorted(os.listdir(os.path.join(job.private_data_dir, 'env')))
        assert not set(env_files) & {'envvars', 'passwords', 'extravars', 'ssh_key', 'cmdline'}, env_files
    assert leaks == []
    # the scan does find secrets where they are: runner's record of the injected environment, in every job
    assert command_records == len(JOBS)
    for job in JOBS:       # what AWX does once the job has ended
        shutil.rmtree(job.private_data_dir)
