// Strategy c-app: the same hand-written globalThis singleton as c, in an App
// Router route handler, so that e is compared with c on the same router.
import { globalSingleton } from "../../../../lib/global-singleton";
import { answerApp } from "../../../../lib/respond";
import { isDriver } from "../../../../lib/settings";

export const dynamic = "force-dynamic";

const strategy = globalSingleton("c-app");

export async function GET(_req: Request, ctx: { params: Promise<{ driver: string }> }): Promise<Response> {
  const { driver } = await ctx.params;
  if (!isDriver(driver)) return Response.json({ error: "unknown_driver" }, { status: 404 });
  return answerApp(strategy[driver]);
}
