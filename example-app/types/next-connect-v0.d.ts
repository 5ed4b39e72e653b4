// next-connect 0.13, installed at the repository root under the alias
// "next-connect-v0". Its bundled declarations describe the module
// "next-connect", which would shadow v1's types here; tsconfig `paths` maps the
// alias to this file instead. Only what the example uses is declared.
import type { IncomingMessage, ServerResponse } from "node:http";

type NextHandler = (err?: unknown) => void;
type Middleware<Req, Res> = (req: Req, res: Res, next: NextHandler) => unknown;

interface Options<Req, Res> {
  onError?: (err: unknown, req: Req, res: Res, next: NextHandler) => unknown;
  onNoMatch?: (req: Req, res: Res) => unknown;
}

export interface NextConnect<Req, Res> {
  (req: Req, res: Res): Promise<void>;
  use(...handlers: Middleware<Req, Res>[]): this;
  get(...handlers: Middleware<Req, Res>[]): this;
  post(...handlers: Middleware<Req, Res>[]): this;
}

export default function nextConnect<Req = IncomingMessage, Res = ServerResponse>(options?: Options<Req, Res>): NextConnect<Req, Res>;
