// Fault injection for tests: slow replies, refused sockets, failing commands.
import type { Document } from 'bson';

export interface InjectedError {
  code: number;
  codeName?: string;
  errmsg?: string;
}

// Failing these by default would break connection setup (authentication
// included), monitoring or MongoClient.close() rather than the operation a
// test is aiming at.
const SPARED_BY_DEFAULT = new Set(['hello', 'ismaster', 'ping', 'endsessions', 'saslstart', 'saslcontinue']);

export class Faults {
  replyDelayMs = 0;
  refuseConnections = false;
  private failRemaining = 0;
  private failError: InjectedError = { code: 1, codeName: 'InternalError' };
  private failOnly: Set<string> | null = null;

  failNext(n: number, error?: InjectedError, commands?: string[]): void {
    this.failRemaining = Math.max(0, Math.floor(n));
    this.failError = error ?? { code: 1, codeName: 'InternalError' };
    this.failOnly = commands ? new Set(commands.map((c) => c.toLowerCase())) : null;
  }

  /** The error reply to send instead of running `command`, consuming one injected failure. */
  take(command: string): Document | null {
    if (this.failRemaining <= 0) return null;
    const name = command.toLowerCase();
    const applies = this.failOnly ? this.failOnly.has(name) : !SPARED_BY_DEFAULT.has(name);
    if (!applies) return null;
    this.failRemaining--;
    const { code, codeName, errmsg } = this.failError;
    return {
      ok: 0,
      errmsg: errmsg ?? `injected failure for '${command}'`,
      code,
      ...(codeName ? { codeName } : {}),
    };
  }

  clear(): void {
    this.replyDelayMs = 0;
    this.refuseConnections = false;
    this.failRemaining = 0;
    this.failOnly = null;
  }
}
