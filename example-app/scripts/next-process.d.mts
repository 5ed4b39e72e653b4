import type { ChildProcess } from "node:child_process";

export declare const repoRoot: string;
export declare const appDir: string;
export declare const DRIVER_VARIABLES: string[];

export interface NextProcess {
  child: ChildProcess;
  exited: Promise<number | string | null>;
  output(): string;
  stop(timeoutMs?: number): Promise<number | string | null>;
}

type Env = Record<string, string | undefined>;

export declare function startNext(args: string[], options?: { cwd?: string; env?: Env; echo?: boolean }): NextProcess;
export declare function runNext(args: string[], options?: { cwd?: string; env?: Env; echo?: boolean }): Promise<string>;
export declare function waitForHttp(url: string, proc: NextProcess, timeoutMs?: number): Promise<number>;
export declare function withoutDatabaseEnv(env?: Env): Env;
