import type { SourceFile } from "ts-morph";
import { Morph, SK } from "../parser.js";
import type { CheckHit } from "./types.js";

/** `client.isConnected()`: removed in MongoDB driver 4, so this line throws on 4.x to 7.x. */
export function isConnected(file: SourceFile): CheckHit[] {
  return file
    .getDescendantsOfKind(SK.CallExpression)
    .filter((c) => {
      const callee = c.getExpression();
      return Morph.Node.isPropertyAccessExpression(callee) && callee.getName() === "isConnected";
    })
    .map((node) => ({ node, rule: "is-connected" as const, message: "client.isConnected() was removed in MongoDB driver 4 (it throws a TypeError on 4.x to 7.x)" }));
}
