# -*- coding: utf-8 -*-
# Copyright: ory.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes shared by the modules of the collection."""

    DOCUMENTATION = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/ory.network.ory) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ory.network.ory
"""

    # For the modules that change keys.
    ACTIONS = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status prediction without modifying the target.
    support: full
  diff_mode:
    description: Returns details on what has changed (or possibly needs changing in check mode), when in diff mode. Secrets never appear in a diff.
    support: full
"""

    # For the read-only modules.
    INFO = r"""
options: {}
attributes:
  check_mode:
    description: The module only reads, so it runs the same way in check mode.
    support: full
    details: This action does not modify state.
  diff_mode:
    description: The module only reads; there is never a difference to show.
    support: N/A
    details: This action does not modify state.
"""
