/** What /api/status answers (example-app/app/api/status/route.ts). */
export interface AppStatus {
  driver: string;
  pid: number;
  stats: {
    state: string;
    connects: number;
    failures: number;
    pool: { open: number; idle: number; inUse: number; waiting: number; max: number } | null;
  };
  serverConnections: number | null;
  databaseModuleEvaluations: number;
  entries: Array<{ entry: string; moduleEvaluation: number; uses: number }>;
}

export interface Reply {
  status: number;
  retryAfter: string | null;
  body: any;
}

export async function request(base: string, path: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // an HTML page or an empty 204
  }
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
}

export const sendJson = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

export async function appStatus(base: string): Promise<AppStatus> {
  const reply = await request(base, "/api/status");
  if (reply.status !== 200) throw new Error(`/api/status answered ${reply.status}`);
  return reply.body as AppStatus;
}
