"""Run every module's EXAMPLES, and the README's ad-hoc commands, against Ory Network (the emulator in tests).

Each module's EXAMPLES block is played twice, at -vvv, in a scratch directory (relative vault_dest paths land there):
the first run must succeed, the second must report changed=0 (idempotency as a user would see it).
Connection settings come from the ORY_* environment (tests/utils/with_emulator.py sets them).
No output may contain a secret-shaped string, except where the command explicitly asks to reveal it.

usage: python tests/utils/run_examples.py [module ...]
"""
from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, 'plugins', 'modules')
SECRET_RE = re.compile(r'ory_(?:pat|wak|ak|apikey)_[A-Za-z0-9_\-]{6,}')
RECAP_RE = re.compile(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)')


def examples_of(path):
    """Return the EXAMPLES string of a module file without importing it."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'EXAMPLES' for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def run(cmd, cwd, env):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def readme_adhoc_commands():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as handle:
        text = handle.read()
    return [line.strip() for line in text.splitlines() if line.strip().startswith('ansible localhost -m ory.network.')]


def main(argv):
    env = dict(os.environ)
    env.setdefault('ANSIBLE_NOCOLOR', '1')
    env.setdefault('ANSIBLE_PYTHON_INTERPRETER', sys.executable)
    env['ANSIBLE_STDOUT_CALLBACK'] = 'default'
    failures = []
    passed = 0
    with tempfile.TemporaryDirectory(prefix='ory-examples-') as work:
        password = os.path.join(work, 'vault-pass')
        with open(password, 'w', encoding='utf-8') as handle:
            handle.write('examples-vault-password\n')
        os.chmod(password, 0o600)
        env['ANSIBLE_VAULT_PASSWORD_FILE'] = password

        names = argv or sorted(f[:-3] for f in os.listdir(MODULES) if f.endswith('.py') and not f.startswith('_'))
        for name in names:
            text = examples_of(os.path.join(MODULES, name + '.py'))
            tasks = yaml.safe_load(text) if text else None
            if not tasks:
                failures.append('%s: no EXAMPLES' % name)
                continue
            scratch = os.path.join(work, name)
            os.makedirs(scratch)
            playbook = os.path.join(scratch, 'examples.yml')
            with open(playbook, 'w', encoding='utf-8') as handle:
                yaml.safe_dump([{'name': 'EXAMPLES of %s' % name, 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}],
                               handle, sort_keys=False)
            for attempt in ('first', 'second'):
                rc, out = run(['ansible-playbook', '-vvv', '-i', 'localhost,', '-c', 'local', playbook], scratch, env)
                recap = RECAP_RE.search(out)
                leaked = SECRET_RE.findall(out)
                problem = None
                if rc != 0 or not recap:
                    problem = 'exit code %s' % rc
                elif attempt == 'second' and recap.group(2) != '0':
                    problem = 'second run reported changed=%s' % recap.group(2)
                elif leaked:
                    problem = 'a secret-shaped string reached the output'
                if problem:
                    failures.append('%s (%s run): %s\n%s' % (name, attempt, problem, SECRET_RE.sub('<SECRET>', out)[-4000:]))
                    break
            else:
                passed += 1
                print('ok: EXAMPLES of %s (run twice, second changed=0)' % name)

        for command in readme_adhoc_commands():
            argv_ = shlex.split(command)
            rc, out = run(argv_, work, env)
            revealed = 'reveal_secret=true' in command
            if rc != 0 or (revealed and len(SECRET_RE.findall(out)) != 1):
                failures.append('README: %s: exit %s, expected exactly one revealed secret\n%s' % (command, rc, SECRET_RE.sub('<SECRET>', out)[-2000:]))
                continue
            # the same command for a key that does not exist yet, without reveal_secret: must refuse to create it
            hidden = [re.sub(r'name=(\S+)', r'name=\1-unkept', a.replace(' reveal_secret=true', '')) if 'reveal_secret' in a else a for a in argv_]
            rc2, out2 = run(hidden, work, env)
            if rc2 == 0 or SECRET_RE.search(out2) or 'secret' not in out2.lower():
                failures.append('README: without reveal_secret the command must refuse without a secret: %s\n%s' % (
                    ' '.join(hidden), SECRET_RE.sub('<SECRET>', out2)[-2000:]))
                continue
            passed += 1
            print('ok: README ad-hoc command reveals once, refuses without reveal_secret: %s' % command)

    for failure in failures:
        print('FAIL: ' + failure)
    print('examples: %d passed, %d failed' % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
