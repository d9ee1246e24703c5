#!/usr/bin/env bash
# Vault password of a molecule scenario (ANSIBLE_VAULT_PASSWORD_FILE points here): a random password made
# on first use and kept, mode 0600, in the scenario's ephemeral directory. Nothing else knows it.
set -euo pipefail
file="${MOLECULE_EPHEMERAL_DIRECTORY:?run this under molecule}/vault-password"
if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > "$file.tmp" && mv "$file.tmp" "$file")
fi
cat "$file"
