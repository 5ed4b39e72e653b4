// A plain Node.js server for the CommonJS fixture app: GET /<name> runs the
// next-connect (or plain) handler exported by <app>/api/<name>.js, with the
// res.status()/res.json() helpers Next.js adds. GET /__reload drops every
// module of the app from require's cache, so the next request evaluates them
// again, as a dev hot reload does. Prints {"port":N} once listening.
"use strict";
const http = require("node:http");
const path = require("node:path");

const appDir = path.resolve(process.argv[2]);

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  req.query = Object.fromEntries(url.searchParams);
  res.status = (code) => ((res.statusCode = code), res);
  res.json = (body) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/__reload") {
    for (const key of Object.keys(require.cache)) if (key.startsWith(appDir + path.sep)) delete require.cache[key];
    return res.end("reloaded");
  }
  try {
    const handler = require(path.join(appDir, "api", `${url.pathname.slice(1)}.js`));
    await handler(req, res);
  } catch (err) {
    if (res.headersSent) return res.destroy();
    res.statusCode = 500;
    res.end(JSON.stringify({ error: "server", message: String(err && err.message) }));
  }
});

server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
