/**
 * Masks what must never leave the CLI: URLs (they carry hosts and often
 * credentials) and values written next to password-like keys. Applied to
 * every line of code the CLI prints (the --dry diff); reports print no code.
 */
const URL_LIKE = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"`)]+/gi;
const SECRET_VALUE = /\b(password|passwd|pwd|pass|secret|token|apiKey|api_key)(\s*[:=]\s*)(['"`])(?:\\.|(?!\3).)*\3/gi;

export function redact(text: string): string {
  return text.replace(URL_LIKE, "$1://…").replace(SECRET_VALUE, "$1$2$3…$3");
}
