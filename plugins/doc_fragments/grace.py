# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The grace period of a replaced key in the key modules (read with the secret fragment: it needs vault_dest)."""

    DOCUMENTATION = r"""
options:
  retire_after:
    description:
      - Grace period of a replaced key, a duration such as V(24h) or V(7d); V(0) (the default when not set) turns it off.
      - When a replacement (rotation, expiry replacement, recreation) supersedes a key whose secret is stored in O(vault_dest),
        the old key is not retired in the same run. It stays live, so that services still using its secret keep working until
        they get the new one, and it is recorded in the vault file as the previous key of O(vault_var) (C(<vault_var>_meta.previous)
        holds its C(key_id), C(name), C(replaced_at), C(retire_after) and C(retire_when_used); never its secret).
      - A later run of the task with the same O(vault_dest) retires it once this long has passed since the new key was created,
        measured on Ory Network's clock (the C(Date) of its answers).
      - Requires O(vault_dest) and O(vault_var).
    type: str
  retire_previous:
    description:
      - Retire the previous key of O(vault_var) now (for example in the last play of a deploy, once every service has the new secret).
      - Only a key that was already the previous key before this run is retired; a key replaced in the same run still waits.
      - Requires O(vault_dest) and O(vault_var).
    type: bool
    default: false
notes:
  - "Grace period: a previous key is retired by whichever of these comes first - a run after its O(retire_after) time, a run with
    O(retire_previous=true), or (issued keys with O(ory.network.ory_issued_api_key#module:retire_when_used=true)) a run that sees the new key used.
    One previous key is kept per variable: a replacement that comes due while a previous key waits is deferred until that key is
    retired (RV(ory.network.ory_project_api_key#module:deferred) says so), since it would retire a key services may still use.
    See the R(rotation guide,ansible_collections.ory.network.docsite.rotation)."
  - A key replaced because O(vault_dest) does not hold its secret (a lost secret) is never kept as the previous key - nobody
    holds that secret - and is retired in the same run.
"""
