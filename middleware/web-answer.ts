import type { Answer } from "../src/request.js";
import { unavailableParts } from "./answer-body.js";

/**
 * Answers for Web handlers (App Router route handlers, createEdgeRouter): a
 * 503 `Response`; a rejected configuration is thrown, for Next.js (or the
 * router's error handler) to report.
 */
export const webAnswer: Answer<Response> = {
  unavailable(err) {
    const { status, headers, body } = unavailableParts(err);
    return new Response(body, { status, headers });
  },
  misconfigured(err) {
    throw err;
  },
};
