# Entry point: python -m tests.emulator [--port N] [--state-file F] [--config F] [--verbose]
# The first stdout line is one JSON object with the URLs and seeded credentials; then it serves until SIGTERM/SIGINT.
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .admin import Faults
from .errors import ApiError
from .server import Emulator, EmulatorServer
from .state import ConfigError, State, load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.emulator', description='Local Ory Network emulator (console API keys + Talos).')
    parser.add_argument('--port', type=int, default=0, help='port on 127.0.0.1 (0: any free port)')
    parser.add_argument('--state-file', help='persist state as JSON in this file (loaded when it exists)')
    parser.add_argument('--config', help='seed configuration (JSON or YAML): workspace, projects, faults')
    parser.add_argument('--verbose', action='store_true', help='log every request to stderr')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args.config) if args.config else {}
        if not isinstance(config, dict):
            raise ConfigError('%s: expected a mapping' % args.config)
        state = State(args.state_file)
        if state.load_or_seed(config) and (config.get('workspace') or config.get('projects')):
            sys.stderr.write('emulator: %s exists: its state is used and the seed in --config is ignored\n' % args.state_file)
        emulator = Emulator(state, verbose=args.verbose)
        fault_specs = config.get('faults') or []
        if not isinstance(fault_specs, list):
            raise ConfigError('faults: expected a list')
        for spec in fault_specs:
            Faults.validate(spec)
            emulator.faults.add(spec)
    except (OSError, ValueError, ConfigError) as exc:
        sys.stderr.write('emulator: %s\n' % exc)
        return 2
    except ApiError as exc:
        sys.stderr.write('emulator: invalid fault in config: %s\n' % exc.message)
        return 2
    try:
        server = EmulatorServer(emulator, args.port)
    except OSError as exc:
        sys.stderr.write('emulator: cannot listen on 127.0.0.1:%d: %s\n' % (args.port, exc))
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, name='emulator', daemon=True)
    thread.start()
    sys.stdout.write(json.dumps(emulator.info()) + '\n')
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    state.save()
    return 0


if __name__ == '__main__':
    sys.exit(main())
