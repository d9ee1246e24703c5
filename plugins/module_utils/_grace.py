# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The grace period in the key modules: what one run does with the vault variable's ``previous`` key.

The rule itself (when a previous key is due, what its record holds, when a replacement keeps a key live) is the
planner's (``previous_due``, ``previous_record``, ``grace_wanted``, ``previous_of``); this file only applies it to the
one key of a module task. The record comes from the vault file's ``<vault_var>_meta.previous``, which the action plugin
passes to the module in its environment (never a task option), and goes back to it in the result key ``previous_key``.
"""

from __future__ import annotations

from ansible_collections.ory.network.plugins.module_utils._api_keys import now, parse_duration, parse_time
from ansible_collections.ory.network.plugins.module_utils._options import OptionError
from ansible_collections.ory.network.plugins.module_utils._planner import (
    deferred_reason, grace_wanted, previous_due, previous_of, previous_record,
)

SUPERSEDED = 'previous key, superseded again: only one previous key is kept'
NOT_CURRENT = ('previous key record dropped: the key whose secret the vault file holds is not live, so the previous key '
               'is handled as any other key of this name')
GONE = 'previous key, no longer live'


class Grace:
    """The grace period of one module task: its options, the vault variable's previous key, and what becomes of it."""

    def __init__(self, params, when_used=False):
        retire_after = parse_duration(params.get('retire_after'), 'retire_after')
        self.retire_after = retire_after or None            # 0 = off
        self.retire_when_used = bool(when_used)
        self.retire_previous = bool(params.get('retire_previous'))
        # With vault_dest only (the action plugin then says which key's secret the file holds): the record lives there.
        self.stored_id = params.get('stored_key_id')
        self.previous = previous_of({'previous': params.get('previous_key')}) if self.stored_id is not None else None
        self.looked = False       # the task's key was looked up by name (set_aside ran): only then is the record settled
        self.applies = False      # the previous key is set aside (the key whose secret is stored is live)
        self.live = None          # the previous key as listed, when it is live

    @property
    def wanted(self):
        """Whether a replacement of a key whose secret is stored keeps the replaced key live as the new previous key."""
        return self.stored_id is not None and grace_wanted(self.retire_after, self.retire_when_used)

    def set_aside(self, keys, id_field):
        """The live keys of the task's name without the previous key, which is never matched as the key of the task nor
        retired as a leftover of an interrupted replacement. Only while the key whose secret is stored is live; else the
        previous key is one more key of this name (the lost-secret rules apply to it)."""
        self.looked = True
        if not self.previous or not self.stored_id or self.previous['key_id'] == self.stored_id:
            return keys
        if not any(str(k.get(id_field)) == self.stored_id for k in keys):
            return keys
        self.applies = True
        found = [k for k in keys if str(k.get(id_field)) == self.previous['key_id']]
        self.live = found[0] if found else None
        return [k for k in keys if k not in found]

    def aside(self, id_field):
        """set_aside() for keys whose id is in ``id_field``, as a function of the keys."""
        def split(keys):
            return self.set_aside(keys, id_field)
        return split

    def settle(self, at, new_key=None, superseded=False, expired=False):
        """(state, reason) of the previous key: ``retire`` (due now), ``waiting`` or ``gone``; None without a record, or when
        the task's key was not looked up by its name (by id: the record is left as it is)."""
        if not self.previous or not self.looked:
            return None
        if not self.applies:
            return 'gone', NOT_CURRENT
        if self.live is None:
            return 'gone', GONE
        if expired:
            return 'retire', 'previous key, expired'
        due, why = previous_due(self.previous, at, self.retire_previous, new_key)
        if superseded and not due:
            return 'retire', SUPERSEDED
        return ('retire' if due else 'waiting'), why

    def defers(self, at, what, current=None):
        """Why a replacement that is due waits (the planner's ``deferred_reason``): the previous key is still in its grace
        period, and replacing now would retire it while services may still use it. None when nothing holds it back."""
        settled = self.settle(at, new_key=current)
        if settled is None or settled[0] != 'waiting':
            return None
        return deferred_reason(what, self.previous['key_id'])

    def record(self, key_id, name, replaced_at, at):
        """The result ``previous_key`` for the key a replacement keeps live (see ``kept_record``)."""
        kept = kept_record(key_id, name, replaced_at, at, self.retire_after, self.retire_when_used)
        return dict(kept, state='waiting', reason=previous_due(kept, at)[1])

    def outcome(self, state, reason):
        """The result ``previous_key`` for the variable's existing record."""
        return dict(self.previous, state=state, reason=reason)


def server_now(client, fallback=None):
    """Ory Network's clock (the Date of its latest answer), which grace periods are measured on; else ``fallback`` (the
    run's own time), else the controller's clock now. The engine and the key modules both ask this."""
    return getattr(client, 'server_time', None) or fallback or now()


def kept_record(key_id, name, created, at, retire_after, retire_when_used):
    """The ``previous`` record of a key that a replacement keeps live: replaced when the new key was created, as Ory
    Network reports it (``created``), or ``at`` (Ory Network's clock now) when that time is missing or unreadable."""
    try:
        replaced_at = parse_time(created) or at
    except OptionError:
        replaced_at = at
    return previous_record(key_id, name, replaced_at, retire_after, retire_when_used)
