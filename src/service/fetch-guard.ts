/**
 * Downloads of documents added by URL, guarded against server-side request forgery: the admin API
 * must not become a way to reach this machine, its network or a cloud metadata service.
 *
 * Before each connection, the first and every redirect hop:
 *   - the scheme must be http or https;
 *   - the host is resolved (through an injectable resolver, so tests map names without DNS) and
 *     every address must be public unicast: loopback, private, carrier-grade NAT, link-local (the
 *     169.254.169.254 metadata service), unique-local (fd00:ec2::254), multicast, reserved,
 *     unspecified, IPv4-mapped or -translated IPv6 forms of those, 6to4 and Teredo are refused
 *     (ipaddr.js classifies; anything it does not call "unicast" is refused);
 *   - a host listed in ALLOWED_FETCH_HOSTS skips the address check (nothing else).
 * The connection then goes to the addresses that were checked, not to a second resolution (the
 * connector's lookup is pinned to them), so a name that resolves to a public address once and to a
 * private one the next time (DNS rebinding) still reaches only the checked address. Redirects are
 * followed by hand (`redirect: "manual"`), at most FETCH_MAX_REDIRECTS of them; the whole download
 * has one deadline (FETCH_TIMEOUT_MS) and a size cap (UPLOAD_LIMIT_MB) counted as the bytes arrive.
 *
 * Why written here rather than taken from a library: request-filtering-agent and ssrf-req-filter
 * wrap node:http agents, not fetch, and neither checks redirect hops against an allow list of our
 * own; the address classification, the part that is easy to get wrong, is ipaddr.js's.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import ipaddr from "ipaddr.js";
import { Agent, fetch as undiciFetch, type Dispatcher } from "undici";
import { AppError } from "../errors.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Host name -> addresses (every one of them is checked). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS). */
export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** What the guard needs of a response. undici's fetch gives one; tests give a stand-in. */
export interface GuardedResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: (AsyncIterable<Uint8Array> & { cancel(reason?: unknown): Promise<void> }) | null;
}

/** The one place a connection is made: undici's fetch with the pinned dispatcher; tests replace it. */
export type GuardFetch = (url: URL, init: { redirect: "manual"; dispatcher: Dispatcher; signal: AbortSignal }) => Promise<GuardedResponse>;

export interface FetchLimits {
  /** Hosts exempt from the address check (lower case, IPv6 without brackets). */
  allowedHosts: readonly string[];
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
}

export interface GuardDeps {
  resolver?: Resolver;
  fetch?: GuardFetch;
}

export interface Downloaded {
  /** Where the bytes came from, after redirects. */
  url: URL;
  contentType: string;
  data: Buffer;
}

/** Why an address is refused ("loopback", "private", "linkLocal" …), or null for a public unicast address. */
export function refusedRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    const v4 = (ip as ipaddr.IPv6).toIPv4Address();
    const inner = v4.range();
    return inner === "unicast" ? null : `IPv4-mapped ${inner}`;
  }
  const range = ip.range();
  return range === "unicast" ? null : range;
}

const bare = (hostname: string) => hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");

/**
 * The addresses a URL may be fetched from, or URL_NOT_ALLOWED naming the reason. Resolves the host
 * (an IP literal is its own address) and checks every address unless the host is allowed.
 */
export async function vetUrl(url: URL, allowedHosts: readonly string[], resolver: Resolver): Promise<ResolvedAddress[]> {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new AppError("URL_NOT_ALLOWED", `${redact(url)}: only http and https URLs are fetched, not ${url.protocol.replace(/:$/, "")}`);
  if (url.username || url.password) throw new AppError("URL_NOT_ALLOWED", `${redact(url)}: URLs with credentials are not fetched`);
  const host = bare(url.hostname);
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: host.includes(":") ? 6 : 4 }];
  else {
    try {
      addresses = await resolver(host);
    } catch (err) {
      throw new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (addresses.length === 0) throw new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: ${host} has no address`);
  }
  if (allowedHosts.includes(host)) return addresses;
  for (const a of addresses) {
    const range = refusedRange(a.address);
    if (range)
      throw new AppError(
        "URL_NOT_ALLOWED",
        `${redact(url)}: ${host === a.address ? "" : `${host} resolves to `}${a.address}, a ${range} address; documents are fetched from public addresses only (ALLOWED_FETCH_HOSTS lists exceptions)`,
      );
  }
  return addresses;
}

/**
 * A connector lookup that answers only with addresses checked before: a host that was not checked
 * gets an error instead of a connection (net.connect calls it for host names, not for IP literals,
 * which are checked as they are).
 */
export function pinnedLookup(pinned: ReadonlyMap<string, ResolvedAddress[]>) {
  return (hostname: string, options: { all?: boolean }, callback: (...args: any[]) => void): void => {
    const addresses = pinned.get(bare(hostname));
    if (!addresses?.length) {
      callback(Object.assign(new Error(`${hostname} was not checked before connecting`), { code: "ENOTFOUND" }));
      return;
    }
    if (options?.all) callback(null, addresses.map((a): LookupAddress => ({ address: a.address, family: a.family })));
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Downloads a URL under the guard and the limits; throws URL_NOT_ALLOWED, PAYLOAD_TOO_LARGE or INVALID_DOCUMENT. */
export async function guardedDownload(input: string, limits: FetchLimits, deps: GuardDeps = {}): Promise<Downloaded> {
  const resolver = deps.resolver ?? systemResolver;
  const doFetch = deps.fetch ?? (undiciFetch as unknown as GuardFetch);
  const pinned = new Map<string, ResolvedAddress[]>();
  const agent = new Agent({ connect: { lookup: pinnedLookup(pinned) as never } });
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError("VALIDATION_FAILED", `url: not a URL: ${input.slice(0, 200)}`);
  }
  try {
    for (let hop = 0; ; hop++) {
      pinned.set(bare(url.hostname), await vetUrl(url, limits.allowedHosts, resolver));
      const res = await doFetch(url, { redirect: "manual", dispatcher: agent, signal }).catch((err: unknown) => {
        throw failure(url, err, limits);
      });
      if (REDIRECTS.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        const location = res.headers.get("location");
        if (!location) throw new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: HTTP ${res.status} without a Location`);
        if (hop >= limits.maxRedirects) throw new AppError("INVALID_DOCUMENT", `could not download ${input}: more than ${limits.maxRedirects} redirects (FETCH_MAX_REDIRECTS)`);
        try {
          url = new URL(location, url);
        } catch {
          throw new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: its redirect to ${location.slice(0, 200)} is not a URL`);
        }
        continue;
      }
      if (res.status < 200 || res.status > 299) {
        await res.body?.cancel().catch(() => {});
        throw new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: HTTP ${res.status}`);
      }
      const length = Number(res.headers.get("content-length") ?? 0);
      if (length > limits.maxBytes) {
        await res.body?.cancel().catch(() => {});
        throw tooLarge(url, limits, length);
      }
      const parts: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body ?? []) {
          size += chunk.byteLength;
          if (size > limits.maxBytes) {
            await res.body?.cancel().catch(() => {});
            throw tooLarge(url, limits);
          }
          parts.push(Buffer.from(chunk));
        }
      } catch (err) {
        throw err instanceof AppError ? err : failure(url, err, limits);
      }
      return { url, contentType: res.headers.get("content-type") ?? "", data: Buffer.concat(parts) };
    }
  } finally {
    await agent.close().catch(() => {});
  }
}

function tooLarge(url: URL, limits: FetchLimits, length?: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `${redact(url)} is ${length ? `${length} bytes, ` : ""}over the limit of ${limits.maxBytes} bytes (UPLOAD_LIMIT_MB)`);
}

function failure(url: URL, err: unknown, limits: FetchLimits): AppError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError")
    return new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: no complete answer within ${limits.timeoutMs} ms (FETCH_TIMEOUT_MS)`);
  return new AppError("INVALID_DOCUMENT", `could not download ${redact(url)}: ${e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)}`);
}

/** A URL as it may be shown: without credentials or query. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
