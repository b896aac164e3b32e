/**
 * A loopback OTLP/HTTP trace receiver for tests: POST /v1/traces in http/json or http/protobuf, decoded
 * into flat spans (hex trace id, name, attributes as plain values). The protobuf side is decoded with
 * protobufjs over the part of the OTLP trace schema (opentelemetry-proto, trace/v1 and common/v1) the
 * tests read; the field numbers are the specification's, unknown fields are skipped.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;
const Request = protobuf.parse(PROTO, { keepCase: false }).root.lookupType("ExportTraceServiceRequest");

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  service: unknown;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the requests received. */
  contentTypes: string[];
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type AnyValue = Record<string, any> | undefined;

function value(v: AnyValue): unknown {
  if (!v) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) return (v.arrayValue?.values ?? []).map(value);
  return undefined;
}

const attrs = (list: Array<{ key: string; value: AnyValue }> | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
const hex = (id: unknown) => (typeof id === "string" ? id : id instanceof Uint8Array ? Buffer.from(id).toString("hex") : "");

function flatten(req: any): ReceivedSpan[] {
  return (req.resourceSpans ?? []).flatMap((rs: any) => {
    const service = attrs(rs.resource?.attributes)["service.name"];
    return (rs.scopeSpans ?? []).flatMap((ss: any) =>
      (ss.spans ?? []).map((s: any) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name,
        kind: Number(s.kind ?? 0),
        attributes: attrs(s.attributes),
        service,
      })),
    );
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const state: OtlpReceiver = { url: "", spans: [], contentTypes: [], waitFor: async () => [], close: async () => {} };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    const type = req.headers["content-type"] ?? "";
    state.contentTypes.push(type);
    const body = Buffer.concat(chunks);
    const decoded = type.includes("protobuf") ? Request.toObject(Request.decode(body), { longs: Number }) : JSON.parse(body.toString("utf8"));
    state.spans.push(...flatten(decoded));
    if (type.includes("protobuf")) res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    else res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.waitFor = async (pred, ms = 10_000) => {
    const until = Date.now() + ms;
    while (!pred(state.spans)) {
      if (Date.now() > until) throw new Error(`the OTLP receiver did not get the expected spans in ${ms} ms (got: ${state.spans.map((s) => s.name).join(", ") || "none"})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return state.spans;
  };
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}
