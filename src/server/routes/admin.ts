/**
 * Admin API (Bearer ADMIN_TOKEN): re-index jobs, adding and removing documents.
 * With no ADMIN_TOKEN configured every admin route answers 403 ADMIN_DISABLED.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { Router, type NextFunction, type Request, type Response } from "express";
import multer from "multer";
import { AppError } from "../../errors.js";
import type { QaService } from "../../service/index.js";
import { addDocumentUrlBody, parseBody, reindexBody, type Body, type documentAdded, type documentRemoved, type reindexJob, type reindexStarted } from "../schemas.js";

export function adminRoutes(service: QaService): Router {
  const r = Router();
  const { config } = service;
  r.use("/v1/admin", requireAdmin(config.admin.token));

  r.post("/v1/admin/reindex", async (req, res) => {
    const body = parseBody(reindexBody, req.body);
    const job = await service.startReindex({ force: body.force });
    res.status(202).location(`/v1/admin/reindex/${job.jobId}`).json({ jobId: job.jobId, status: job.status } satisfies Body<typeof reindexStarted>);
  });

  r.get("/v1/admin/reindex/:jobId", async (req, res) => {
    res.json((await service.job(String(req.params.jobId))) satisfies Body<typeof reindexJob>);
  });

  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: config.http.uploadLimitBytes, files: 1, fields: 10 } });
  r.post("/v1/admin/documents", (req, res, next) => {
    if (!req.is("multipart/form-data")) return next();
    upload.single("file")(req, res, (err: unknown) => {
      if (!err) return next();
      const e = err as { code?: string; message?: string };
      if (e.code === "LIMIT_FILE_SIZE")
        return next(new AppError("PAYLOAD_TOO_LARGE", `the file is larger than UPLOAD_LIMIT_MB (${config.http.uploadLimitBytes / 1048576} MB)`));
      next(new AppError("VALIDATION_FAILED", `malformed multipart upload: ${e.message ?? "unreadable"}; send one file in the field "file"`));
    });
  });

  r.post("/v1/admin/documents", async (req, res) => {
    let doc;
    if (req.file) {
      const fields = req.body as Record<string, string | undefined>;
      doc = { originalName: req.file.originalname, data: req.file.buffer, id: fields.id || undefined, title: fields.title || undefined };
    } else if (req.is("multipart/form-data")) {
      throw new AppError("VALIDATION_FAILED", 'multipart upload without a file: send the document in the field "file"');
    } else {
      doc = parseBody(addDocumentUrlBody, req.body);
    }
    const { document: entry, job } = await service.addDocument(doc);
    res
      .status(202)
      .json({ document: { id: entry.id, title: entry.title, file: entry.file, mediaType: entry.mediaType, sha256: entry.sha256 }, jobId: job.jobId } satisfies Body<typeof documentAdded>);
  });

  r.delete("/v1/admin/documents/:id", async (req, res) => {
    const job = await service.removeDocument(String(req.params.id));
    res.status(202).json({ removed: String(req.params.id), jobId: job.jobId } satisfies Body<typeof documentRemoved>);
  });

  return r;
}

function requireAdmin(token: string | undefined) {
  const expected = token ? createHash("sha256").update(token).digest() : undefined;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!expected) return next(new AppError("ADMIN_DISABLED", "admin routes are disabled: set ADMIN_TOKEN to enable them"));
    const header = req.get("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) return next(new AppError("UNAUTHORIZED", "missing admin token: send Authorization: Bearer <ADMIN_TOKEN>"));
    // Compare fixed-length digests so neither length nor content leaks through timing.
    const given = createHash("sha256").update(m[1]!.trim()).digest();
    if (!timingSafeEqual(given, expected)) return next(new AppError("FORBIDDEN", "the admin token is wrong"));
    next();
  };
}
