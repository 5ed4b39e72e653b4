// Types for next-connect@0 installed under the alias "next-connect-v0".
// Its own d.ts declares the ambient module "next-connect", which would shadow
// next-connect v1's types in this project; tsconfig `paths` points here instead.
import type { IncomingMessage, ServerResponse } from "node:http";

type NextHandler = (err?: any) => void;
type RequestHandler<Req, Res> = (req: Req, res: Res, next: NextHandler) => any;

interface Options<Req, Res> {
  onError?: (err: any, req: Req, res: Res, next: NextHandler) => any;
  onNoMatch?: (req: Req, res: Res) => any;
  attachParams?: boolean;
}

type Route<Req, Res, T> = {
  (...handlers: RequestHandler<Req, Res>[]): T;
  (pattern: string | RegExp, ...handlers: RequestHandler<Req, Res>[]): T;
};

export interface NextConnect<Req, Res> {
  (req: Req, res: Res): Promise<void>;
  use: Route<Req, Res, this>;
  all: Route<Req, Res, this>;
  get: Route<Req, Res, this>;
  post: Route<Req, Res, this>;
  put: Route<Req, Res, this>;
  patch: Route<Req, Res, this>;
  delete: Route<Req, Res, this>;
  run(req: Req, res: Res): Promise<void>;
}

declare function nextConnect<Req = IncomingMessage, Res = ServerResponse>(options?: Options<Req, Res>): NextConnect<Req, Res>;
export default nextConnect;
