// HTTP side of docs/protocol.md: POST /api/login and GET /api/me, plus the
// token kept in sessionStorage (one browser tab = one login; closing the tab
// forgets it).

const TOKEN_KEY = 'nc-agent-token';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function loadToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage unavailable: nothing to forget */
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

/** POST /api/login -> {token, agent}; throws ApiError('bad_credentials') on 401. */
export async function login(username, password) {
  let response;
  try {
    response = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch {
    throw new ApiError('network', 'The service cannot be reached.', 0);
  }
  const body = await readJson(response);
  if (response.status === 401) throw new ApiError('bad_credentials', 'Wrong username or password.', 401);
  if (!response.ok || typeof body.token !== 'string') {
    throw new ApiError(body.error || 'http', `Login failed (HTTP ${response.status}).`, response.status);
  }
  return body;
}

/** GET /api/me -> {agent}; throws ApiError('unauthorized') when the token is no longer valid. */
export async function me(token) {
  let response;
  try {
    response = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError('network', 'The service cannot be reached.', 0);
  }
  const body = await readJson(response);
  if (response.status === 401 || response.status === 403) {
    throw new ApiError('unauthorized', 'Your session has expired; log in again.', response.status);
  }
  if (!response.ok) throw new ApiError(body.error || 'http', `HTTP ${response.status}`, response.status);
  return body;
}

/** GET `path` with the agent's token -> the JSON body; throws ApiError with the service's message. */
export async function getJson(path, token) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError('network', 'The service cannot be reached.', 0);
  }
  const body = await readJson(response);
  if (!response.ok) throw new ApiError(body.error || 'http', body.message || `HTTP ${response.status}`, response.status);
  return body;
}
