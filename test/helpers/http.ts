/** A tiny HTTP client for tests against a real server. */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function postJson<T = any>(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function getJson<T = any>(base: string, path: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(`${base}${path}`, { headers });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body };
}

export interface SseEvent {
  event: string;
  data: any;
}

/** POSTs and reads a whole Server-Sent Events stream. */
export async function postSse(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; events: SseEvent[] }> {
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  const events = text
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      return { event, data: JSON.parse(data) };
    });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", events };
}
