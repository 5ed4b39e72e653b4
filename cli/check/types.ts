import type { Node } from "ts-morph";

export interface CheckHit {
  node: Node;
  rule: "per-request-client" | "checkout-without-release" | "node-env-singleton" | "cached-rejection" | "is-connected";
  message: string;
}
