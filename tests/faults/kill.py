"""Kill -9 and concurrent writers against one vault file: it must always be valid (decrypts, parses) and complete
(every variable stored before is still there, comments and unmanaged variables untouched), and the next write must
leave no temporary or lock file behind.

usage: python tests/faults/kill.py [--kills N] [--playbook-kills N]

1. concurrency: 10 processes store 10 variables each into one file at the same time: all 100 must be there;
2. kill -9 of a process that stores in a loop, at random moments (many land inside the write: a temp file is left);
3. kill -9 of the whole process tree of ansible-playbook runs whose key tasks store into the same file, at random moments,
   and once right after Ory committed a new key (its secret dies with the process, the vault file holds the old key);
4. a clean write afterwards removes what the killed writers left, and each name has one active key, the stored one;
5. the bootstrap role killed right after Ory committed a replacement: the next run converges the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import requests
import yaml

from ansible.parsing.vault import VaultLib, VaultSecret

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = 'kill-test-vault-password'
SECRETS = [('default', VaultSecret(PASSWORD.encode()))]
USER_TEXT = '# written by hand: must survive every kill\nkeep_me: 1\n1234: an int key\n'
META = {'key_id': 'k', 'name': 'n', 'expires_at': None, 'last_characters': 'abcd'}


def vault_store():
    from ansible_collections.ory.network.plugins.plugin_utils import _vault_store  # pylint: disable=import-outside-toplevel
    return _vault_store


def child(path, prefix, count):
    """Store ``count`` variables (count < 0: forever, cycling through 20 names, on a slow disk: fsync takes 0.5 s,
    so that a good share of the kills lands inside the write)."""
    store = vault_store()
    if count < 0:
        real_fsync = os.fsync

        def slow_fsync(fd):
            time.sleep(0.5)
            real_fsync(fd)

        store.os.fsync = slow_fsync
    print('ready', flush=True)
    index = 0
    while count < 0 or index < count:
        name = '%s_%d' % (prefix, index % 20 if count < 0 else index)
        store.store_secret(path, name, 'value-%d-%f' % (index, time.time()), dict(META, key_id='k%d' % index), SECRETS)
        print('stored', flush=True)
        index += 1


def read(path):
    with open(path, 'rb') as handle:
        text = VaultLib(SECRETS).decrypt(handle.read()).decode()
    return text, yaml.safe_load(text)


def check_complete(path, must_have, what):
    """The file decrypts and parses, keeps the hand-written text and holds every variable in ``must_have``."""
    try:
        text, data = read(path)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise SystemExit('%s: the vault file is not valid (%s)' % (what, type(exc).__name__)) from None
    if not text.startswith(USER_TEXT) or data.get(1234) != 'an int key':
        raise SystemExit('%s: the hand-written part of the vault file changed' % what)
    missing = sorted(name for name in must_have if name not in data or '%s_meta' % name not in data)
    if missing:
        raise SystemExit('%s: variables lost: %s' % (what, ', '.join(missing[:10])))
    return data


def kill_after_create(emulator, command, work, env):
    """Run the playbook and kill -9 its process tree as soon as the emulator has created a key, before the response leaves:
    the key is live and its secret is lost with the process. The wrapper sits in this test, around the emulator's route."""
    target = {}
    routes = emulator.talos_routes
    index = next(i for i, route in enumerate(routes) if route[0] == 'POST' and route[2].endswith('/issuedApiKeys'))
    method, regex, template, handler = saved = routes[index]

    def create_then_kill(req):
        response = handler(req)
        pid = target.pop('pid', None)
        if pid is not None:
            target['killed'] = kill_tree(pid)
        return response

    routes[index] = (method, regex, template, create_then_kill)
    try:
        proc = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        target['pid'] = proc.pid
        proc.wait()
    finally:
        routes[index] = saved
    if not target.get('killed'):
        raise SystemExit('kill after the create: the playbook created no key, so nothing was killed')
    return '%d processes killed' % target['killed']


def check_one_live_key_each(info, data, variables, actor_id, what):
    """Each variable's key name has exactly one active key, the one whose secret the file holds: no kill left a live key
    whose secret nobody holds."""
    active = harness.active_issued_keys(info['project_url'], info['project_api_key'], actor_id)
    for var in variables:
        meta = data.get(var + '_meta') or {}
        live = sorted(k['key_id'] for k in active if k.get('name') == meta.get('name'))
        if not meta.get('key_id') or live != [meta['key_id']]:
            raise SystemExit('%s: %s (%s) has the active keys %s, the vault file holds %s'
                             % (what, var, meta.get('name'), live, meta.get('key_id')))


def engine_kill(emulator, info, work, env, password):
    """The bootstrap role: a clean run, a run killed right after Ory committed the first replacement (its secret was only
    in the engine's memory, the vault file holds the old key), then a run that must succeed and leave each key's stored
    secret as the only live key."""
    vault = os.path.join(work, 'engine', 'vault.yml')
    keys = [{'name': 'eng-%d' % index, 'actor_id': 'kill-engine', 'ttl': '2h', 'rotate_before': '1h'} for index in range(3)]
    play = os.path.join(work, 'engine.yml')
    with open(play, 'w', encoding='utf-8') as handle:
        json.dump([{'hosts': 'localhost', 'gather_facts': False, 'roles': ['ory.network.api_key_bootstrap'],
                    'vars': {'ory_bootstrap_vault_dest': vault, 'ory_bootstrap_issued_api_keys': keys}}], handle)
    command = ['ansible-playbook', '-i', 'localhost,', '-c', 'local', '--vault-password-file', password, play]

    def run(what):
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit('%s failed:\n%s' % (what, done.stdout[-2000:]))

    clock = info['admin_url'] + '/clock'
    requests.post(clock, json={'offset_seconds': -90 * 60}, timeout=10).raise_for_status()
    run('engine: the clean run')          # the keys are made "90 minutes ago": 30 minutes left, so the next run replaces them
    requests.post(clock, json={'offset_seconds': 0}, timeout=10).raise_for_status()
    killed = kill_after_create(emulator, command, work, env)
    run('engine: the run after the kill')
    with open(vault, 'rb') as handle:
        data = yaml.safe_load(VaultLib(SECRETS).decrypt(handle.read()))
    check_one_live_key_each(info, data, sorted(k[:-5] for k in data if str(k).endswith('_meta')), 'kill-engine', 'engine')
    return killed


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith('.tmp') or name.endswith('.lock'))


def descendants(root):
    """The pids of every process below ``root`` (ansible's workers call setsid(), so a process group is not the tree)."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry, encoding='utf-8') as handle:
                    ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def kill_tree(root):
    """kill -9 the whole process tree of ``root``: stop every process (so none forks or finishes meanwhile), then kill all."""
    stopped = set()
    while True:
        fresh = [pid for pid in [root] + descendants(root) if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            stopped.add(pid)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(stopped)


def spawn_child(path, prefix, count):
    """Start a storing process; return once it has imported everything and is about to store."""
    proc = subprocess.Popen([sys.executable, __file__, '--child', path, prefix, str(count)], start_new_session=True,
                            stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    return proc


def playbook(work, vault):
    tasks = []
    for index in range(3):
        tasks.append({'name': 'issued key %d' % index, 'ory.network.ory_issued_api_key': {
            'name': 'kill-%d' % index, 'actor_id': 'kill-test', 'ttl': '1h', 'rotate': 'always',
            'vault_dest': vault, 'vault_var': 'kill_%d' % index}})
    path = os.path.join(work, 'kill.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], handle)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--child', nargs=3)
    parser.add_argument('--kills', type=int, default=int(os.environ.get('KILLS', '8')))
    parser.add_argument('--playbook-kills', type=int, default=int(os.environ.get('PLAYBOOK_KILLS', '2')))
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix='ory-kill-') as work:
        directory = os.path.join(work, 'vault')
        os.makedirs(directory)
        path = os.path.join(directory, 'vault.yml')
        with open(path, 'wb') as handle:
            handle.write(VaultLib(SECRETS).encrypt(USER_TEXT, secret=SECRETS[0][1], vault_id='default'))

        # 1. concurrent writers
        writers = [spawn_child(path, 'w%d' % index, 10) for index in range(10)]
        codes = [proc.wait() for proc in writers]
        if any(codes):
            raise SystemExit('concurrency: a writer failed (exit codes %s)' % codes)
        expected = ['w%d_%d' % (w, i) for w in range(10) for i in range(10)]
        check_complete(path, expected, 'concurrency')
        print('concurrency: 100 stores by 10 processes at once, 0 lost, hand-written text kept')

        # 2. kill -9 during stores
        mid_write = 0
        for kill in range(args.kills):
            proc = spawn_child(path, 'loop', -1)
            # a random moment of one whole store cycle (lock, read, decrypt, edit, encrypt, write, rename)
            proc.stdout.readline()
            cycle = time.monotonic()
            proc.stdout.readline()
            time.sleep(rng.uniform(0, time.monotonic() - cycle))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            data = check_complete(path, expected, 'kill %d' % kill)
            expected = sorted(set(expected) | {name for name in data if str(name).startswith('loop_') and not str(name).endswith('_meta')})
            mid_write += bool([name for name in leftovers(directory) if name.endswith('.tmp')])
        print('kill -9 of a storing process: %d kills, %d left a temp file (killed inside the write), '
              'the file was valid and complete after each' % (args.kills, mid_write))

        # 3. kill -9 of ansible-playbook's whole process tree
        server, info = harness.start_emulator()
        env = dict(os.environ, **harness.emulator_env(info))
        env['ANSIBLE_PYTHON_INTERPRETER'] = env.get('ANSIBLE_PYTHON_INTERPRETER', sys.executable)
        password = os.path.join(work, 'password')
        with open(password, 'w', encoding='utf-8') as handle:
            handle.write(PASSWORD)
        play = playbook(work, path)
        command = ['ansible-playbook', '-i', 'localhost,', '-c', 'local', '--vault-password-file', password, play]
        try:
            started = time.monotonic()
            clean = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
            duration = time.monotonic() - started
            if clean.returncode != 0:
                raise SystemExit('the clean playbook run failed:\n' + clean.stdout[-2000:])
            expected = sorted(set(expected) | {'kill_0', 'kill_1', 'kill_2'})
            check_complete(path, expected, 'clean playbook run')
            for kill in range(args.playbook_kills):
                proc = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
                time.sleep(rng.uniform(0.2, 1.0) * duration)
                kill_tree(proc.pid)
                proc.wait()
                check_complete(path, expected, 'playbook kill %d' % kill)
            print('kill -9 of ansible-playbook process trees: %d kills at random moments, the file was valid and complete after each'
                  % args.playbook_kills)
            # the narrowest window: Ory has committed the successor, its secret is on the wire, the vault file holds the old key
            killed = kill_after_create(server.emulator, command, work, env)
            check_complete(path, expected, 'kill after the create')
            print('kill -9 right after Ory committed a new key (its secret never reached the vault file): %s' % killed)
            # 4. the next write cleans up
            final = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
            if final.returncode != 0:
                raise SystemExit('the playbook run after the kills failed:\n' + final.stdout[-2000:])
            check_one_live_key_each(info, read(path)[1], ['kill_0', 'kill_1', 'kill_2'], 'kill-test', 'after the kills')
            killed = engine_kill(server.emulator, info, work, env, password)
            print('the bootstrap role killed right after Ory committed a replacement (%s): the next run succeeded, each key '
                  'has one active key, the stored one' % killed)
        finally:
            server.shutdown()
            server.server_close()
        check_complete(path, expected, 'after the kills')
        left = leftovers(directory)
        if left:
            raise SystemExit('the next write left %s behind' % ', '.join(left))
        print('after the kills: the next run succeeded, left no temp or lock file, and each name has one active key: the stored one')
    return 0


if __name__ == '__main__':
    sys.exit(main())
