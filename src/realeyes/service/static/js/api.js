// The only place that talks to the server: adds the API key, turns error bodies into ApiError, and asks for a key
// (then retries once per new key) when the server answers 401.

const KEY_STORAGE = 'realeyes.apiKey';

export class ApiError extends Error {
  constructor(status, code, message, requestId = null, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter;
  }
}

// sessionStorage only: the key dies with the tab and is never written to disk-backed localStorage.
export const getKey = () => sessionStorage.getItem(KEY_STORAGE);
export const setKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_STORAGE);

let keyPrompt = null; // async (reason) => key | null, installed by the auth dialog
let pendingPrompt = null; // several requests may hit 401 at once: they share one dialog

export function setKeyPrompt(prompt) {
  keyPrompt = prompt;
}

function promptForKey(reason) {
  if (!pendingPrompt) pendingPrompt = keyPrompt(reason).finally(() => { pendingPrompt = null; });
  return pendingPrompt;
}

async function toError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (e.g. a proxy's HTML page): fall back to the status line below.
  }
  const error = body && body.error ? body.error : {};
  const retryAfter = response.headers.get('Retry-After');
  let message = error.message || `The server answered ${response.status} ${response.statusText}.`;
  if (response.status === 429 && retryAfter) message += ` Try again in ${retryAfter} s.`;
  return new ApiError(response.status, error.code || `http_${response.status}`, message, error.request_id, retryAfter);
}

/** fetch() with auth and error mapping. Resolves to the Response (2xx only); rejects with ApiError. */
export async function request(path, { method = 'GET', body, json } = {}) {
  for (;;) {
    const key = getKey();
    const headers = {};
    if (key) headers.Authorization = `Bearer ${key}`;
    let payload = body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch {
      throw new ApiError(0, 'network_error', 'Cannot reach the RealEyes server. Check the connection and try again.');
    }
    if (response.status === 401 && keyPrompt) {
      // The key in storage may already have been replaced by a concurrent request's dialog: retry with it first.
      if (getKey() && getKey() !== key) continue;
      if (key) forgetKey(); // a rejected key is useless: do not keep sending it
      const reason = key ? 'The server rejected this API key. Enter a valid key.' : null;
      const newKey = await promptForKey(reason);
      if (newKey) {
        setKey(newKey);
        continue;
      }
    }
    if (!response.ok) throw await toError(response);
    return response;
  }
}

export const getJSON = async (path) => (await request(path)).json();

export async function postJSON(path, json) {
  return (await request(path, { method: 'POST', json })).json();
}

export async function postForm(path, formData) {
  const response = await request(path, { method: 'POST', body: formData });
  return { status: response.status, data: await response.json() };
}

// Images need the Authorization header too, which <img src> cannot send: fetch them and use blob: URLs,
// grouped by "scope" so that a view can release its URLs when it re-renders.
const scopes = new Map();

export async function blobUrl(path, scope) {
  const blob = await (await request(path)).blob();
  const url = URL.createObjectURL(blob);
  if (!scopes.has(scope)) scopes.set(scope, []);
  scopes.get(scope).push(url);
  return url;
}

export function releaseScope(scope) {
  for (const url of scopes.get(scope) || []) URL.revokeObjectURL(url);
  scopes.delete(scope);
}

/** Load an API image into an <img>; resolves when it is decoded (or rejects with the reason). */
export async function loadImage(img, path, scope) {
  img.src = await blobUrl(path, scope);
  await img.decode();
}
