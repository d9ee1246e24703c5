# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module of the collection."""

    DOCUMENTATION = r"""
options:
  workspace_api_key:
    description:
      - Workspace API key (C(ory_wak_...)) for the console API.
      - Needed by the modules that manage project API keys and list workspace API keys.
      - If not set, the environment variable E(ORY_WORKSPACE_API_KEY) is used.
    type: str
  workspace_id:
    description:
      - ID of the workspace, used by the modules that list workspace API keys; the other modules accept and ignore it, so
        that it can be set once in C(module_defaults) for C(group/ory.network.ory).
      - If not set, the environment variable E(ORY_WORKSPACE_ID) is used.
    type: str
  console_api_url:
    description:
      - Base URL of the Ory Network console API.
      - If not set, the environment variable E(ORY_CONSOLE_API_URL) is used, then V(https://api.console.ory.sh).
    type: str
  project_api_key:
    description:
      - Project API key (C(ory_pat_...)) for the project API, where issued API keys live.
      - If not set, the environment variable E(ORY_PROJECT_API_KEY) is used.
    type: str
  project_id:
    description:
      - ID or slug of the project, used by the modules that manage project API keys; the other modules accept and ignore it,
        so that it can be set once in C(module_defaults) for C(group/ory.network.ory).
      - If not set, the environment variable E(ORY_PROJECT_ID) is used.
    type: str
  project_slug:
    description:
      - Slug of the project whose project API is called; fills the C(%s) in O(project_api_url).
      - If not set, the environment variable E(ORY_PROJECT_SLUG) is used.
    type: str
  project_api_url:
    description:
      - Base URL of the project API, or a template with C(%s) where the project slug goes.
      - If not set, the environment variable E(ORY_PROJECT_API_URL) is used, then V(https://%s.projects.oryapis.com).
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API.
      - If not set, the environment variable E(ORY_VALIDATE_CERTS) is used (V(true) or V(false)), then V(true).
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM file of CA certificates used to verify the API's certificate.
      - If not set, the environment variable E(ORY_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for one HTTP response, and the budget for waiting between retries.
      - If not set, the environment variable E(ORY_TIMEOUT) is used, then V(30).
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504 or a connection error.
      - Reads are retried as they are. A write is never sent twice blindly; see the module's notes.
      - If not set, the environment variable E(ORY_MAX_RETRIES) is used, then V(5).
      - An HTTP 429 that says when Ory Network's rate limit resets (C(x-ratelimit-reset)) does not count; the request waits and is
        sent again, for at most O(timeout) × (O(retries) + 1) seconds (at least 120) of such waits per request. Before that, the
        modules pace themselves from the rate limit headers; see the R(rate limits guide,ansible_collections.ory.network.docsite.rate_limits).
    type: int
    default: 5
notes:
  - Every module of the group accepts all of these options and ignores the ones it does not need, so one set of C(module_defaults)
    for C(group/ory.network.ory) serves every module.
  - Option values come from the task first, then from C(module_defaults) for the group C(group/ory.network.ory), then from the E(ORY_*)
    environment variables.
  - Credentials are never logged; error messages name the HTTP status, the API's reason code and request id, never a key.
requirements:
  - requests
"""
