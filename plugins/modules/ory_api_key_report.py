#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ory_api_key_report
short_description: Write the key audits of many environments as one report (JSON, Markdown, HTML)
version_added: 0.1.0
description:
  - Combines the results of M(ory.network.ory_api_key_audit) from every environment into one report and writes it on the
    controller as JSON (machine-readable), Markdown (for pull requests and chat) and a self-contained HTML page (no external
    scripts, fonts or stylesheets) with a summary table per environment and an expiry timeline chart (inline SVG, one row per key,
    today marked, the expiring window and each key's rotate window shaded, bars coloured by flag).
  - The output is sorted and depends only on the audits, so reports can be diffed and committed. A file is rewritten only when
    its content changes.
  - Runs on the controller only; use it with C(run_once).
author:
  - ory.network collection maintainers (@ory-network-ansible)
attributes:
  check_mode:
    description: In check mode, nothing is written; the result tells whether a file would change.
    support: full
  diff_mode:
    description: No diff is shown.
    support: none
  action:
    description: Runs as an action plugin on the controller.
    support: full
options:
  audits:
    description:
      - The C(audit) return values of M(ory.network.ory_api_key_audit), one per environment.
    type: list
    elements: dict
    required: true
  dest:
    description:
      - Directory the report files are written to (created when missing). A relative path is relative to the playbook.
    type: path
    required: true
  basename:
    description:
      - File name of the report, without extension.
    type: str
    default: ory-api-key-audit
  formats:
    description:
      - Which files to write.
    type: list
    elements: str
    choices: [json, markdown, html]
    default: [json, markdown, html]
  title:
    description:
      - Title of the HTML page.
    type: str
    default: Ory Network API key audit
seealso:
  - module: ory.network.ory_api_key_audit
"""

EXAMPLES = r"""
- name: Audit each environment (one inventory host per environment)
  ory.network.ory_api_key_audit:
    environment: "{{ inventory_hostname }}"
    audit_time: "{{ now(utc=true).strftime('%Y-%m-%dT00:00:00Z') }}"
  register: key_audit

- name: Write one report for all environments of the play
  ory.network.ory_api_key_report:
    audits: "{{ ansible_play_hosts | map('extract', hostvars, ['key_audit', 'audit']) | list }}"
    dest: reports/
  run_once: true
  register: report

- name: Say where it is
  ansible.builtin.debug:
    msg: "Open {{ report.files.html }}"
  run_once: true
"""

RETURN = r"""
files:
  description: The files written (or that would be), by format.
  returned: success
  type: dict
  sample: {json: /srv/reports/ory-api-key-audit.json, markdown: /srv/reports/ory-api-key-audit.md, html: /srv/reports/ory-api-key-audit.html}
totals:
  description: Environments, keys and flagged keys of the report, and the count of each flag across environments.
  returned: success
  type: dict
  sample: {environments: 2, key_count: 14, flagged: 5, flags: {expired: 0, expiring: 2, unmarked: 2}}
"""
