/**
 * A local OpenAI-compatible server for tests: POST /v1/chat/completions, streaming and not, with usage.
 * `behaviour` decides each reply: a text, a delay past the client's timeout, or an HTTP error.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Behaviour = { kind: "reply"; text: string; promptTokens?: number; completionTokens?: number } | { kind: "hang"; ms: number } | { kind: "status"; status: number };

export interface FakeOpenAi {
  url: string;
  requests: any[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const state: FakeOpenAi = { url: "", requests: [], behaviour: { kind: "reply", text: "ok" }, close: async () => {} };
  const server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(raw);
    state.requests.push(body);
    const b = state.behaviour;
    if (b.kind === "status") {
      res.writeHead(b.status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
      return;
    }
    if (b.kind === "hang") {
      const t = setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end("{}"), b.ms);
      res.on("close", () => clearTimeout(t));
      return;
    }
    const usage = { prompt_tokens: b.promptTokens ?? 120, completion_tokens: b.completionTokens ?? 9, total_tokens: (b.promptTokens ?? 120) + (b.completionTokens ?? 9) };
    const base = { id: "chatcmpl-test", created: 1, model: body.model };
    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({ ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: b.text }, finish_reason: "stop" }], usage }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    const pieces = b.text.match(/\S+\s*/g) ?? [b.text];
    send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    for (const p of pieces) send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: p }, finish_reason: null }] });
    send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    if (body.stream_options?.include_usage) send({ ...base, object: "chat.completion.chunk", choices: [], usage });
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}
