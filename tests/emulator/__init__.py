# A local Ory Network emulator (console API-key endpoints and Talos issued API keys) for tests and demos.
# Start it with: python -m tests.emulator [--port N] [--state-file F] [--config F]. See README.md beside this file.
