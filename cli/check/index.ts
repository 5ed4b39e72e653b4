import type { SourceFile } from "ts-morph";
import type { Finding } from "../report.js";
import { cachedRejection } from "./cached-rejection.js";
import { checkoutWithoutRelease } from "./checkout-without-release.js";
import { isConnected } from "./is-connected.js";
import { nodeEnvSingleton } from "./node-env-singleton.js";
import { perRequestClient } from "./per-request-client.js";

const CHECKS = [perRequestClient, checkoutWithoutRelease, nodeEnvSingleton, cachedRejection, isConnected];

export function checkFile(file: SourceFile, rel: string): Finding[] {
  const findings = CHECKS.flatMap((check) => check(file)).map((h) => ({ file: rel, line: h.node.getStartLineNumber(), rule: h.rule, message: h.message }));
  return findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}
