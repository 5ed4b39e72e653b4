// What one connection costs, outside Next.js: the time strategy a pays on
// every request (connect, query, close) against a query on an already open
// connection. It bounds how far apart a and the pooled strategies can be:
// when HTTP and Next.js cost more per request than a connect does, a pool
// cannot be 20× faster than connecting, however good it is.
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pg from "pg";
import type { Driver, Network } from "../strategies.js";
import { median, round } from "../lib/stats.js";

export interface ConnectCost {
  driver: Driver;
  /** Absent in older results: local. */
  network?: Network;
  samples: number;
  /** Median ms for connect + query + close (strategy a's per-request work). */
  connectQueryCloseMs: number;
  /** Median ms for the same query on an open connection. */
  queryOnOpenMs: number;
}

async function timeEach(samples: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return round(median(times), 3);
}

export async function measureConnectCost(driver: Driver, url: string, samples: number): Promise<ConnectCost> {
  if (driver === "pg") {
    const fresh = async () => {
      const c = new pg.Client({ connectionString: url });
      c.on("error", () => {});
      await c.connect();
      await c.query("SELECT 1 AS one");
      await c.end();
    };
    const open = new pg.Client({ connectionString: url });
    open.on("error", () => {});
    await open.connect();
    try {
      return { driver, samples, connectQueryCloseMs: await timeEach(samples, fresh), queryOnOpenMs: await timeEach(samples, () => open.query("SELECT 1 AS one")) };
    } finally {
      await open.end();
    }
  }
  if (driver === "mysql2") {
    const fresh = async () => {
      const c = await mysql.createConnection({ uri: url });
      await c.query("SELECT 1 AS one");
      await c.end();
    };
    const open = await mysql.createConnection({ uri: url });
    try {
      return { driver, samples, connectQueryCloseMs: await timeEach(samples, fresh), queryOnOpenMs: await timeEach(samples, () => open.query("SELECT 1 AS one")) };
    } finally {
      await open.end();
    }
  }
  const find = (client: MongoClient) => client.db("bench").collection<{ _id: number }>("items").findOne({ _id: 1 });
  const fresh = async () => {
    const c = new MongoClient(url);
    await c.connect();
    await find(c);
    await c.close();
  };
  const open = new MongoClient(url);
  await open.connect();
  try {
    return { driver, samples, connectQueryCloseMs: await timeEach(samples, fresh), queryOnOpenMs: await timeEach(samples, () => find(open)) };
  } finally {
    await open.close();
  }
}
