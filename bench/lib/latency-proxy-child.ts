// The TCP proxy of the tests (test/support/tcp-proxy.ts) in a process of its
// own, adding a delay to every chunk in both directions: run in the bench
// runner, whose event loop also drives autocannon, its timers would add the
// runner's own stalls to the network's latency.
//   node --import tsx bench/lib/latency-proxy-child.ts <host> <port> <ms>
import { TcpProxy } from "../../test/support/tcp-proxy.js";

const [host, port, ms] = process.argv.slice(2);
const proxy = new TcpProxy(host!, Number(port));
proxy.latency(Number(ms));
const listening = await proxy.up();
console.log(`READY ${listening}`);
process.on("SIGTERM", () => void proxy.down().then(() => process.exit(0)));
