// Benchmark helper: serves the files of a directory over HTTP on 127.0.0.1 (Bun.file bodies,
// sent with sendfile), printing the port on stdout. Runs as its own process so the client
// being measured does not share an event loop with it.
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) throw new Error("usage: bun bench/fetch_server.ts DIR");
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  fetch(req) {
    const name = new URL(req.url).pathname.replace(/^\/+/, "");
    if (!/^[\w.-]+$/.test(name)) return new Response("bad name", { status: 400 });
    return new Response(Bun.file(join(dir, name)));
  },
});
console.log(server.port);
