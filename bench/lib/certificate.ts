// A self-signed certificate for the production-like targets, made at start
// with openssl: RSA 2048 (what managed databases commonly present), valid for
// the address the clients dial (127.0.0.1), so clients verify it in full
// (sslmode=verify-full, a CA in mysql2's ssl option) instead of skipping it.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Certificate {
  keyPath: string;
  certPath: string;
  /** The certificate in PEM: also its own CA. */
  pem: string;
}

export async function makeCertificate(dir: string): Promise<Certificate> {
  const keyPath = join(dir, "server.key");
  const certPath = join(dir, "server.crt");
  await run("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", keyPath, "-out", certPath,
  ], { timeout: 60_000 });
  return { keyPath, certPath, pem: await readFile(certPath, "utf8") };
}
