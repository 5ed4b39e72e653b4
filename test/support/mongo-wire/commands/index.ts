// Command dispatch: name lookup, injected faults, error-to-reply conversion.
import type { Document } from 'bson';
import { commandNotFound, toErrorReply } from '../errors.js';
import { adminCommands } from './admin.js';
import { authCommands, checkAuthenticated } from './auth.js';
import { collectionCommands } from './collections.js';
import type { CommandContext, CommandHandler } from './context.js';
import { readCommands } from './read.js';
import { testingCommands } from './testing.js';
import { rejectTransaction, transactionCommands } from './transactions.js';
import { writeCommands } from './write.js';

export type { CommandContext, CommandHandler } from './context.js';

const handlers: Record<string, CommandHandler> = {
  ...adminCommands,
  ...authCommands,
  ...collectionCommands,
  ...readCommands,
  ...writeCommands,
  ...transactionCommands,
  ...testingCommands,
};

/** The command name is the first field of the body, e.g. { find: 'users', ... }. */
export function commandName(body: Document): string {
  return Object.keys(body)[0] ?? '';
}

export async function runCommand(ctx: CommandContext): Promise<Document> {
  const name = commandName(ctx.body);
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  // mongod looks the command up first: an unknown command is 59 even before authentication.
  if (!handler) return commandNotFound(name).toReply();
  const unauthorized = checkAuthenticated(ctx, name);
  if (unauthorized) return unauthorized.toReply();
  const noTransactions = rejectTransaction(ctx.body);
  if (noTransactions) return noTransactions.toReply();
  try {
    return await handler(ctx);
  } catch (err) {
    return toErrorReply(err);
  }
}
