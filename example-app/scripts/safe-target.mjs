// Where a connection string points, for a log line: scheme, host(s), port and
// database. Userinfo (password) and query string (may hold secrets) are dropped.
export function safeTarget(connectionString) {
  const withoutQuery = String(connectionString).split("?")[0];
  return withoutQuery.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1");
}
