// A standalone mongod has no transactions: any command carrying a txnNumber
// (a statement of a transaction, commitTransaction, abortTransaction) fails
// with IllegalOperation instead of running without atomicity. Drivers send no
// txnNumber for retryable writes to a standalone, so only transactions meet this.
import type { Document } from 'bson';
import { CommandError } from '../errors.js';
import type { CommandHandler } from './context.js';

const illegalOperation = () =>
  new CommandError(20, 'IllegalOperation', 'Transaction numbers are only allowed on a replica set member or mongos');

export function rejectTransaction(body: Document): CommandError | null {
  return body.txnNumber !== undefined ? illegalOperation() : null;
}

// Registered so that they answer like mongod (20) rather than CommandNotFound.
const endTransaction: CommandHandler = () => {
  throw illegalOperation();
};

export const transactionCommands: Record<string, CommandHandler> = {
  commitTransaction: endTransaction,
  abortTransaction: endTransaction,
};
