// Child process (node --expose-gc): imports a module `n` times under fresh
// URLs, runs its query each time, and prints the heap growth as JSON.
// Usage: node --expose-gc reevaluate.mjs <package-database|module-pool> <n>
const [kind, count] = process.argv.slice(2);
const n = Number(count);
const file = new URL(`./${kind}.mjs`, import.meta.url).href;

function settledHeap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

// The first evaluation loads the driver and connects; growth is counted after it.
await (await import(`${file}?v=0`)).query();
const before = settledHeap();
for (let i = 1; i <= n; i++) await (await import(`${file}?v=${i}`)).query();
await new Promise((r) => setTimeout(r, 500));
const after = settledHeap();
process.stdout.write(JSON.stringify({ heapBefore: before, heapAfter: after, rss: process.memoryUsage().rss }) + "\n");
process.exit(0);
