"""What AWX does around one job, for the tests: inject a credential, build the private data directory, run
ansible-runner (process isolation off), and collect what AWX keeps (job events and stdout).

Injection follows AWX's rules for a custom credential type: only inputs the credential has are in the template
namespace (a missing boolean counts as false), every ``file`` template is rendered to a new 0600 file under
``<private data dir>/env`` and named in ``tower.filename``, then every ``env`` template is rendered. Templates run in
Jinja's immutable sandbox, as in AWX. The Vault credential becomes ``--vault-id <id>@prompt`` and its password is
answered at the prompt (runner's expect passwords), as AWX does; nothing of it is written to ``env/``.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPE = os.path.join(ROOT, 'extensions', 'awx', 'credential_type.yml')


def load_credential_type(path=CREDENTIAL_TYPE):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


class _Namespace:
    pass


def inject(credential_type, inputs, private_data_dir):
    """Render the type's injectors for a credential with ``inputs``; return the env it adds (files are written)."""
    fields = credential_type['inputs']['fields']
    known = {field['id'] for field in fields}
    unknown = set(inputs) - known
    if unknown:
        raise ValueError('inputs the credential type does not define: %s' % ', '.join(sorted(unknown)))
    tower = _Namespace()
    namespace = {'tower': tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in fields:
        if field['type'] == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, 'env')
    os.makedirs(env_dir, exist_ok=True)
    injectors = credential_type.get('injectors') or {}
    for label, template in (injectors.get('file') or {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if '.' not in label:
            tower.filename = path
        else:
            if not hasattr(tower, 'filename'):
                tower.filename = _Namespace()
            setattr(tower.filename, label.split('.', 1)[1], path)
    env = {}
    for name, template in (injectors.get('env') or {}).items():
        if name.startswith('ANSIBLE_'):
            raise ValueError('AWX refuses to inject %s' % name)
        env[name] = sandbox.from_string(template).render(**namespace)
    return env


def vault_prompt(vault_id):
    """The prompt ansible-playbook shows for --vault-id <id>@prompt, as the pattern AWX answers."""
    return r'Vault password \(%s\):\s*?$' % re.escape(vault_id)


class Job:
    """One AWX-style job: a private data directory with a fresh copy of the project."""

    def __init__(self, workdir, project_src, name):
        self.private_data_dir = os.path.join(workdir, name)
        self.project_dir = os.path.join(self.private_data_dir, 'project')
        shutil.copytree(project_src, self.project_dir)
        self.ident = name
        self.result = None

    @property
    def artifact_dir(self):
        return os.path.join(self.private_data_dir, 'artifacts', self.ident)

    def run(self, playbook, inventory, env, vault_id, vault_password, extravars=None, job_type='run', verbosity=4):
        import ansible_runner  # pylint: disable=import-outside-toplevel

        cmdline = ['--vault-id', '%s@prompt' % vault_id]
        if job_type == 'check':
            cmdline.append('--check')
        self.result = ansible_runner.run(
            private_data_dir=self.private_data_dir,
            project_dir=self.project_dir,
            playbook=playbook,
            inventory=os.path.join(self.project_dir, inventory),
            ident=self.ident,
            envvars=env,
            extravars=extravars or {},
            cmdline=' '.join(cmdline),
            passwords={vault_prompt(vault_id): vault_password},
            verbosity=verbosity,
            process_isolation=False,
            suppress_env_files=True,
            quiet=True,
        )
        return self.result

    def events(self):
        return list(self.result.events)

    def recap(self):
        """{host: {'ok':…, 'changed':…, 'failures':…}} from the playbook_on_stats event."""
        stats = self.result.stats or {}
        hosts = set()
        for counts in stats.values():
            if isinstance(counts, dict):
                hosts.update(counts)
        return {host: {name: (stats.get(name) or {}).get(host, 0) for name in ('ok', 'changed', 'failures', 'dark', 'skipped')}
                for host in hosts}

    def stdout(self):
        with open(os.path.join(self.artifact_dir, 'stdout'), encoding='utf-8') as handle:
            return handle.read()

    def files(self):
        """Every file under the private data directory except the project checkout: (path, text)."""
        for base, _dirs, names in os.walk(self.private_data_dir):
            if base == self.project_dir or base.startswith(self.project_dir + os.sep):
                continue
            for name in names:
                path = os.path.join(base, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, 'rb') as handle:
                    yield path, handle.read().decode('utf-8', 'replace')
