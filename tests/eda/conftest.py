from tests.awx.conftest import ansible_env, emulator  # noqa: F401 pylint: disable=unused-import
