// Strategy a: a new client per request (connect, query, close). Every request
// pays a TCP connect, the handshake and authentication, and opens one server
// connection; this is the pattern the package exists to replace.
import { MongoClient } from "mongodb";
import mysql from "mysql2/promise";
import pg from "pg";
import { mongoQuery, mysqlQuery, pgQuery } from "./query";
import { MONGO_DB, urlFor, type Driver } from "./settings";

export const perRequest: Record<Driver, () => Promise<unknown>> = {
  async pg() {
    const client = new pg.Client({ connectionString: urlFor("pg", "a") });
    client.on("error", () => {});
    await client.connect();
    try {
      return await pgQuery(client);
    } finally {
      await client.end();
    }
  },
  async mysql2() {
    const connection = await mysql.createConnection({ uri: urlFor("mysql2", "a") });
    connection.on("error", () => {});
    try {
      return await mysqlQuery(connection);
    } finally {
      await connection.end();
    }
  },
  async mongodb() {
    const client = new MongoClient(urlFor("mongodb", "a"));
    await client.connect();
    try {
      return await mongoQuery(client.db(MONGO_DB));
    } finally {
      await client.close();
    }
  },
};
