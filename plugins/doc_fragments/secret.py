# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Where the new secret of a key module goes: options read by the module's action plugin."""

    DOCUMENTATION = r"""
options:
  reveal_secret:
    description:
      - Show the new secret in the task output.
      - By default a secret that stays in the result (because the task is registered) is hidden from the output
        (callbacks, C(-v), AWX job events) as if the task set C(no_log=true); the registered variable still has it.
      - A secret stored with O(vault_dest) is removed from the result, so this option does not show it.
    type: bool
    default: false
  vault_dest:
    description:
      - Path of an Ansible Vault encrypted YAML vars file to store the new secret in, on the controller.
      - The file is created (mode C(0600), missing directories C(0700)) or updated; only the entries of O(vault_var) are
        replaced or appended, so comments, order and the other variables stay as they were.
        It is encrypted with the vault secrets of the run (C(--vault-id), C(--vault-password-file), or an AWX Vault credential);
        no password is ever passed to the task.
      - Before the module runs, the file is checked (a vault secret must be loaded, an existing file must decrypt to a YAML mapping
        that can be updated entry by entry, and the directory must take the lock and a new file). A failed check stops the task before
        any key is created.
      - Once stored, the secret is removed from the result; the result key C(vault) (C(path), C(var), C(changed)) tells where it went.
      - A relative path is relative to the playbook directory.
      - Requires O(vault_var).
    type: path
  vault_var:
    description:
      - Name of the variable that holds the secret in O(vault_dest).
      - The key's metadata goes to the variable with the suffix C(_meta) (C(key_id), C(name), C(expires_at), C(last_characters), C(stored_at)).
      - Requires O(vault_dest).
    type: str
  vault_id:
    description:
      - Vault id (label) of the loaded vault secret that encrypts O(vault_dest), for example V(prod) from C(--vault-id prod@prompt).
      - By default, the vault id that decrypts the existing file; for a new file, the configured default encrypt identity
        (C(DEFAULT_VAULT_ENCRYPT_IDENTITY)) when it is loaded, else the first loaded vault secret.
    type: str
  retire_replaced:
    description:
      - Whether the key that a new key replaces (rotation, expiry replacement, recreation) is retired by the module in the same run;
        a project API key is deleted, an issued API key is revoked.
      - V(false) leaves the old key live and returns its id in C(old_key_id), so that it can be retired once the new secret is stored
        (so there is no gap; clients keep working until they have the new secret).
      - With O(vault_dest), the order is always gap-free - the old key is retired only after the new secret is stored in the vault
        file, and it is not retired when storing failed.
    type: bool
    default: true
  on_missing_secret:
    description:
      - With O(vault_dest), what to do when the live key's secret is not stored there (missing, or stored for another key id).
      - V(rotate) gives an issued key a successor and replaces a project key, gap-free (the new secret is stored before the
        old key is retired); check mode reports it. V(fail) fails before any change.
      - Without O(vault_dest) the module cannot know where the secret is, and this option is not used.
    type: str
    choices: [rotate, fail]
    default: rotate
notes:
  - A new secret appears only when a key was just created or rotated; it is never read back from Ory Network later.
  - "Where a secret may appear: in the registered variable (hidden from the output unless O(reveal_secret=true)), and in the
    O(vault_dest) file. Never in a message, a warning, an error or a diff: the diff of the vault file lists variable names only."
  - A task that would create or rotate a key whose secret is neither registered, stored with O(vault_dest), nor revealed fails
    before it changes anything.
  - If storing in O(vault_dest) fails after a key was created or rotated, the task fails with the key id and the path, and the secret is
    dropped. Fix the cause and run again; a key whose secret is missing from the vault file is rotated or replaced by the next run.
  - Two tasks writing to one O(vault_dest) at the same time (for example on several hosts) are serialized by a lock on its
    directory (no lock file is left behind); no update is lost. Temporary files left by a killed run are removed by the next write.
  - In check mode, the vault file is compared but never written.
  - With O(vault_dest), when several live keys have the task's name, the one whose secret the file holds is the task's key. The
    others were left by an interrupted run (a replaced key that was not retired yet, or a new key whose secret never reached the
    file, so nobody holds it) and are retired; their ids are in RV(retired_key_ids). Without a stored one, the task fails naming them.
"""
