#!/usr/bin/env bash
# A play whose connection is only in play-level module_defaults for group/ory.network.ory (no ORY_* environment,
# no task options): every module of the group and the api_key_bootstrap role must run with it.
set -eu
config=../../integration_config.yml
if [ ! -s "$config" ] || ! grep -q '^ory_workspace_api_key: .' "$config"; then
  echo "no Ory Network connection in integration_config.yml: skipped"
  exit 0
fi
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^ORY_' || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > "$work/vault-password")
ansible-playbook play.yml -i "${INVENTORY_PATH:-../../inventory}" -e "@$config" -e "work_dir=$work" \
  --vault-password-file "$work/vault-password" "$@"
