/**
 * "host:port/database" for log lines and error messages, from the options or
 * the connection URL, never with credentials. A courtesy: an unparseable URL
 * leaves the parts unknown (validation reports it).
 */
export function targetLabel(
  parts: { host?: string | undefined; port?: string | number | undefined; database?: string | undefined },
  url: unknown,
  defaultPort: number,
): string {
  let { host, port, database } = parts;
  if (typeof url === "string") {
    try {
      const parsed = new URL(url);
      host ??= parsed.hostname || undefined;
      port ??= parsed.port || undefined;
      database ??= decodeURIComponent(parsed.pathname.slice(1)) || undefined;
    } catch {
      // left unknown
    }
  }
  return `${host ?? "localhost"}:${port ?? defaultPort}/${database ?? ""}`;
}
