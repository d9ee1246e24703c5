# Console plane: project API keys (/projects/{project}/tokens) and workspace API keys (/workspaces/{workspace}/tokens).
from __future__ import annotations

from .errors import ApiError, bad_request
from .state import console_key_record, new_console_secret, parse_rfc3339, rfc3339
from .web import Request, empty_response, json_response, opt_str

ROUTES = (
    ('POST', '/projects/{project}/tokens', 'create_project_key'),
    ('GET', '/projects/{project}/tokens', 'list_project_keys'),
    ('DELETE', '/projects/{project}/tokens/{token_id}', 'delete_project_key'),
    ('GET', '/workspaces/{workspace}/tokens', 'list_workspace_keys'),
    ('POST', '/workspaces/{workspace}/tokens', 'create_workspace_key'),
    ('DELETE', '/workspaces/{workspace}/tokens/{token_id}', 'delete_workspace_key'),
)

WAK_CANNOT_MANAGE = 'workspace API keys cannot be managed with a workspace API key; use a user session (for example the Ory CLI or Console)'


def key_json(rec: dict, value: str | None = None) -> dict:
    out = {
        'id': rec['id'],
        'name': rec['name'],
        'owner_id': rec['owner_id'],
        'created_at': rfc3339(rec['created_at']),
        'updated_at': rfc3339(rec['updated_at']),
        'expires_at': rfc3339(rec.get('expires_at')),
        'last_characters': rec.get('last_characters', ''),
    }
    for name in ('project_id', 'workspace_id'):
        if name in rec:
            out[name] = rec[name]
    if value is not None:
        out['value'] = value
    return out


class ConsoleApi:
    def __init__(self, state):
        self.state = state

    # ----- shared checks -----
    def authenticate(self, req: Request) -> dict:
        """Require a live workspace API key. Returns the key record."""
        token = req.bearer()
        if token is None:
            raise ApiError(401, 'The request could not be authorized: no bearer token was sent')
        kind, key = self.state.console_key(token)
        if kind is None:
            raise ApiError(401, 'The request could not be authorized: the API key is invalid or has expired')
        if kind == 'project':
            raise ApiError(403, 'Project API keys cannot manage API keys; use a workspace API key')
        return key

    def _project(self, req: Request) -> dict:
        proj = self.state.project(req.params['project'])
        if proj is None:
            raise ApiError(404, 'Unable to locate the project: %s' % req.params['project'])
        return proj

    def _workspace(self, req: Request) -> dict:
        if not self.state.workspace_matches(req.params['workspace']):
            raise ApiError(404, 'Unable to locate the workspace: %s' % req.params['workspace'])
        return self.state.workspace

    def _create_body(self, req: Request):
        body = req.json(required=True)
        name = opt_str(body, 'name')
        if name is None or not name.strip():
            raise bad_request('name is required')
        expires = body.get('expires_at')
        expires_at = None
        if expires is not None:
            if not isinstance(expires, str):
                raise bad_request('expires_at must be an RFC 3339 date-time string or null')
            try:
                expires_at = parse_rfc3339(expires)
            except (ValueError, OverflowError) as exc:
                raise bad_request('expires_at is not a valid RFC 3339 date-time: %s' % expires) from exc
            if expires_at <= self.state.now():
                raise bad_request('expires_at must be in the future')
        return name, expires_at

    # ----- project keys -----
    def create_project_key(self, req: Request):
        owner = self.authenticate(req)
        with self.state.lock:
            proj = self._project(req)
            name, expires_at = self._create_body(req)
            value = new_console_secret('ory_pat_')
            rec = console_key_record(name, owner['owner_id'], value, self.state.now(), expires_at, project_id=proj['id'])
            self.state.data['project_keys'].append(rec)
            self.state.save()
            return json_response(201, key_json(rec, value))

    def list_project_keys(self, req: Request):
        self.authenticate(req)
        with self.state.lock:
            proj = self._project(req)
            keys = [key_json(rec) for rec in self.state.data['project_keys'] if rec['project_id'] == proj['id']]
        return json_response(200, keys)

    def delete_project_key(self, req: Request):
        self.authenticate(req)
        with self.state.lock:
            proj = self._project(req)
            keys = self.state.data['project_keys']
            for index, rec in enumerate(keys):
                if rec['id'] == req.params['token_id'] and rec['project_id'] == proj['id']:
                    del keys[index]
                    self.state.save()
                    return empty_response(204)
        raise ApiError(404, 'Unable to locate the API key: %s' % req.params['token_id'])

    # ----- workspace keys -----
    def list_workspace_keys(self, req: Request):
        self.authenticate(req)
        with self.state.lock:
            wsp = self._workspace(req)
            keys = [key_json(rec) for rec in self.state.data['workspace_keys'] if rec['workspace_id'] == wsp['id']]
        return json_response(200, keys)

    def create_workspace_key(self, req: Request):
        self.authenticate(req)
        self._workspace(req)
        raise ApiError(403, WAK_CANNOT_MANAGE)

    def delete_workspace_key(self, req: Request):
        self.authenticate(req)
        self._workspace(req)
        raise ApiError(403, WAK_CANNOT_MANAGE)
