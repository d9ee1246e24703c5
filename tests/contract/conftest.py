# Fixtures for the emulator contract tests: emulators started as subprocesses (one shared per worker, fresh ones on demand).
from __future__ import annotations

import uuid

import pytest

from .helpers import Emulator


@pytest.fixture(scope='session')
def emu(tmp_path_factory):
    """A shared emulator for tests that only add their own keys (unique actor ids)."""
    emulator = Emulator(tmp_path_factory.mktemp('emu-shared')).start()
    yield emulator
    assert emulator.stop() == 0
    assert 'Traceback' not in emulator.stderr(), emulator.stderr()


@pytest.fixture
def make_emu(tmp_path):
    """Factory for fresh, isolated emulators; all are stopped after the test."""
    started = []

    def factory(config=None, state_file=None, args=()):
        emulator = Emulator(tmp_path, config=config, state_file=state_file, args=args).start()
        started.append(emulator)
        return emulator

    yield factory
    codes = [emulator.stop() for emulator in started]
    assert codes == [0] * len(started)
    for emulator in started:
        assert 'Traceback' not in emulator.stderr(), emulator.stderr()


@pytest.fixture
def fresh(make_emu):
    return make_emu()


@pytest.fixture
def actor():
    return 'actor-%s' % uuid.uuid4().hex[:12]
