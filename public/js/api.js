// HTTP calls to the service: GET /v1/documents, GET /v1/prompts, POST /v1/ask and POST /v1/feedback.
// A failed request becomes an ApiError carrying the server's {error: {code, message}} and the status.

export class ApiError extends Error {
  /** @param {string} code @param {string} message @param {number} [status] */
  constructor(code, message, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** The documents the index holds: [{id, title, authors, year, kind, url, pages, chunks}]. */
export async function fetchDocuments() {
  const { documents = [] } = await getJson("/v1/documents");
  return documents;
}

/** The prompt versions: {default, versions}. */
export function fetchPrompts() {
  return getJson("/v1/prompts");
}

/**
 * POST /v1/ask. Resolves with the Response (a text/event-stream when body.stream is true) once the
 * status is 2xx; rejects with an ApiError otherwise, or with the fetch's own error (AbortError included).
 */
export async function postAsk(body, signal) {
  const res = await fetch("/v1/ask", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: body.stream ? "text/event-stream" : "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** POST /v1/feedback {answerId, rating: "up"|"down"}; rejects with an ApiError on a non-2xx status. */
export async function postFeedback(answerId, rating) {
  const res = await fetch("/v1/feedback", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ answerId, rating }),
  });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export function isAbort(err) {
  return /** @type {Error} */ (err)?.name === "AbortError";
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

/** The ApiError for a non-2xx response: the body's {error: {code, message}} when it has one, else the status line. */
async function errorOf(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || "request failed";
  try {
    const body = await res.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  if (res.status === 429) message += " (rate limited — wait a moment and try again)";
  return new ApiError(code, message, res.status);
}
