export declare const EMBEDDED_USER: string;
export declare const EMBEDDED_DATABASE: string;
export declare function freePort(): Promise<number>;

export interface EmbeddedPostgresHandle {
  /** Contains a generated password: never print it. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export declare function startEmbeddedPostgres(options?: { port?: number; log?: (message: unknown) => void }): Promise<EmbeddedPostgresHandle>;
