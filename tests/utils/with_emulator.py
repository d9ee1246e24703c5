"""Run a command against Ory Network: the real one when ORY_* credentials are set, else a local emulator.

usage: python tests/utils/with_emulator.py [--fresh] [--config F] [--integration-config PATH] -- CMD [ARGS...]

The command sees the connection in ORY_* environment variables; with --integration-config the same
values are also written as ansible-test integration variables (ory_*). --fresh always starts an emulator.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# environment variable -> integration variable
CONNECTION = {
    'ORY_CONSOLE_API_URL': 'ory_console_api_url',
    'ORY_PROJECT_API_URL': 'ory_project_api_url',
    'ORY_WORKSPACE_API_KEY': 'ory_workspace_api_key',
    'ORY_WORKSPACE_ID': 'ory_workspace_id',
    'ORY_PROJECT_API_KEY': 'ory_project_api_key',
    'ORY_PROJECT_ID': 'ory_project_id',
    'ORY_PROJECT_SLUG': 'ory_project_slug',
    'ORY_EMULATOR_ADMIN_URL': 'ory_emulator_admin_url',
}


def start_emulator(state_dir, config):
    """Start the emulator on a free port; return (process, first-line JSON)."""
    cmd = [sys.executable, '-m', 'tests.emulator', '--port', '0', '--state-file', os.path.join(state_dir, 'state.json')]
    if config:
        cmd += ['--config', config]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise SystemExit('the emulator did not start (exit code %s)' % proc.returncode)
    return proc, json.loads(line)


def emulator_env(info):
    return {
        'ORY_CONSOLE_API_URL': info['console_url'],
        'ORY_PROJECT_API_URL': info['project_url_template'],
        'ORY_WORKSPACE_API_KEY': info['workspace_api_key'],
        'ORY_WORKSPACE_ID': info['workspace_id'],
        'ORY_PROJECT_API_KEY': info['project_api_key'],
        'ORY_PROJECT_ID': info['project_id'],
        'ORY_PROJECT_SLUG': info['project_slug'],
        'ORY_EMULATOR_ADMIN_URL': info['admin_url'],
    }


def write_integration_config(path, env):
    lines = ['---']
    for var, name in CONNECTION.items():
        lines.append('%s: %s' % (name, json.dumps(env.get(var, ''))))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines) + '\n')
    os.chmod(path, 0o600)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--fresh', action='store_true', help='always use a new local emulator')
    parser.add_argument('--config', help='emulator seed configuration (JSON or YAML)')
    parser.add_argument('--integration-config', help='also write the connection as ansible-test integration variables')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('no command given')

    env = dict(os.environ)
    proc = None
    real = not args.fresh and env.get('ORY_WORKSPACE_API_KEY') and env.get('ORY_PROJECT_API_KEY')
    with tempfile.TemporaryDirectory(prefix='ory-emulator-') as state_dir:
        if real:
            print('with_emulator: ORY_* credentials are set: running against the real Ory Network', flush=True)
            env.pop('ORY_EMULATOR_ADMIN_URL', None)
        else:
            proc, info = start_emulator(state_dir, args.config)
            env.update(emulator_env(info))
            env['ORY_EMULATOR_STATE_DIR'] = state_dir
            print('with_emulator: local Ory Network emulator at %s' % info['console_url'], flush=True)
        if args.integration_config:
            write_integration_config(args.integration_config, env)
        try:
            return subprocess.call(command, env=env)
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == '__main__':
    sys.exit(main())
