/** POST /v1/feedback: a thumbs up or down on an answer (by its answerId), with an optional comment and expected answer. */
import { Router } from "express";
import type { QaService } from "../../service/index.js";
import { feedbackBody, parseBody, type Body, type feedbackRecorded } from "../schemas.js";

export function feedbackRoutes(service: QaService): Router {
  const r = Router();
  r.post("/v1/feedback", async (req, res) => {
    const body = parseBody(feedbackBody, req.body);
    const record = await service.feedback(body);
    req.log.info({ answerId: record.answerId, rating: record.rating, promptVersion: record.promptVersion }, "feedback");
    res.status(201).json({ answerId: record.answerId, rating: record.rating, promptVersion: record.promptVersion, at: record.at } satisfies Body<typeof feedbackRecorded>);
  });
  return r;
}
