/**
 * GET /v1/documents/:id/file: the indexed copy of a document, what citations link to.
 *   - a PDF as application/pdf, inline, with range requests (206, 416), ETag / Last-Modified
 *     (304) and an hour's caching: a citation's `#page=N` opens the browser's viewer at the page;
 *   - markdown and HTML as a readable page (sanitised, an anchor per section, a citation's
 *     `#<anchor>` scrolls to its section), with an ETag from the file's checksum (304);
 *     `?raw` gives the file itself as text/plain (an HTML file never runs as a page of this origin).
 */
import { Router, type NextFunction, type Response } from "express";
import { AppError } from "../../errors.js";
import type { DocumentFile, QaService } from "../../service/index.js";

const HOUR = 3600;

export function fileRoutes(service: QaService): Router {
  const r = Router();

  r.get("/v1/documents/:id/file", async (req, res, next) => {
    const file = await service.documentFile(String(req.params.id));
    const raw = req.query.raw !== undefined;
    if (file.format === "pdf" || raw) {
      res.setHeader("Content-Disposition", `inline; filename="${file.fileName.replace(/["\\]/g, "")}"`);
      res.sendFile(
        file.path,
        {
          maxAge: HOUR * 1000,
          // The path is the service's own (the corpus folder and a manifest file name), never the request's:
          // a corpus under a dot folder (.cache/…) must not be refused as a dotfile.
          dotfiles: "allow",
          acceptRanges: true,
          etag: true,
          lastModified: true,
          headers: { "Content-Type": file.format === "pdf" ? "application/pdf" : "text/plain; charset=utf-8" },
        },
        (err) => sendFailed(err, file, res, next),
      );
      return;
    }
    const page = await service.documentPage(file.id);
    res.set({ "Cache-Control": `public, max-age=${HOUR / 12}`, ETag: `"${page.file.sha256.slice(0, 32)}"` });
    res.type("html").send(page.html); // 304 when If-None-Match has the ETag (res.send checks freshness)
  });

  return r;
}

function sendFailed(err: unknown, file: DocumentFile, res: Response, next: NextFunction): void {
  if (!err) return;
  const e = err as NodeJS.ErrnoException & { status?: number };
  // The file's headers were set before sendFile failed: the JSON error must not go out as a PDF.
  if (!res.headersSent) for (const h of ["Content-Type", "Content-Disposition", "Cache-Control", "ETag", "Last-Modified", "Accept-Ranges"]) res.removeHeader(h);
  if (e.status === 416) {
    if (!res.headersSent) res.setHeader("Content-Range", `bytes */${file.size}`);
    return next(new AppError("RANGE_NOT_SATISFIABLE", `the requested range is outside ${file.fileName} (${file.size} bytes)`));
  }
  if (e.code === "ENOENT" || e.status === 404) return next(new AppError("NOT_FOUND", `the indexed file of "${file.id}" is no longer in the corpus folder`));
  if (e.code === "ECONNABORTED" || e.code === "ECONNRESET") return; // the client went away mid-file
  next(err);
}
