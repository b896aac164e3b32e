/**
 * Absolute links for what the service returns as paths (citations' `url`, documents' file): on
 * PUBLIC_URL when it is set, else on the address the request came to (its Host, or X-Forwarded-*
 * from a proxy on loopback, the app's `trust proxy`).
 */
import type { Request } from "express";

export function baseUrl(req: Request, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.get("host") ?? "localhost"}`;
}

/** A path made absolute on `base`; anything else (already a URL) as it is. */
export const absolute = (base: string | undefined, url: string) => (base && url.startsWith("/") ? `${base}${url}` : url);

export function linkCitations<T extends { url: string }>(citations: readonly T[], base: string | undefined): T[] {
  return citations.map((c) => ({ ...c, url: absolute(base, c.url) }));
}
