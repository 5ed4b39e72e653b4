// Command dispatch: name lookup, injected faults, error-to-reply conversion.
import type { Document } from 'bson';
import { commandNotFound, toErrorReply } from '../errors.js';
import { adminCommands } from './admin.js';
import { collectionCommands } from './collections.js';
import type { CommandContext, CommandHandler } from './context.js';
import { readCommands } from './read.js';
import { writeCommands } from './write.js';

export type { CommandContext, CommandHandler } from './context.js';

const handlers: Record<string, CommandHandler> = {
  ...adminCommands,
  ...collectionCommands,
  ...readCommands,
  ...writeCommands,
};

/** The command name is the first field of the body, e.g. { find: 'users', ... }. */
export function commandName(body: Document): string {
  return Object.keys(body)[0] ?? '';
}

export function runCommand(ctx: CommandContext): Document {
  const name = commandName(ctx.body);
  const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
  if (!handler) return commandNotFound(name).toReply();
  try {
    return handler(ctx);
  } catch (err) {
    return toErrorReply(err);
  }
}
