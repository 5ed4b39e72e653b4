import { DatabaseRuntimeError } from "./errors.js";

/**
 * Next.js sets `EdgeRuntime` in the Edge runtime, where TCP sockets (and so
 * pg, mysql2 and the mongodb driver) do not exist. Saying so plainly beats the
 * driver's stack trace about a missing `net` module.
 */
export function assertNodeRuntime(name: string): void {
  if (typeof (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime === "string") {
    throw new DatabaseRuntimeError(
      name,
      `database "${name}" was used from the Edge runtime, which cannot open TCP connections. ` +
        `Use the Node.js runtime for this route (export const runtime = "nodejs"), ` +
        `or an HTTP-based driver through defineAdapter().`,
    );
  }
}
