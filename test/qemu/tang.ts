// A real tang server for the clevis tests and `make demo TANG=1`: Debian's tangd (which speaks
// HTTP on standard input and output, one request per process, as systemd's tangd.socket runs
// it) behind a TCP listener on the host's loopback, one tangd per connection. The guest reaches
// it through slirp at 10.0.2.2:<port>. Keys are made with tangd-keygen in a directory of their
// own; stop() and start() again keep them, so "tang is down" is a real refused connection.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";

export const TANGD = process.env.NEXUS_TANGD ?? "/usr/libexec/tangd";
export const TANGD_KEYGEN = process.env.NEXUS_TANGD_KEYGEN ?? "/usr/libexec/tangd-keygen";

/** A running (or stopped) tang server. */
export interface TangServer {
  /** The host loopback port (fixed for the server's life, also across stop/start). */
  port: number;
  /** The key directory. */
  keyDir: string;
  /** The S256 thumbprint of the signing key, as a config's `thumbprint`. */
  thumbprint: string;
  /** The advertisement (JSON text), as a config's `advertisement`. */
  advertisement: string;
  /** How many requests it answered, by path ("/adv", "/rec/…"). */
  requests: string[];
  /** The URL the QEMU guest uses (slirp's host address). */
  guestUrl: string;
  stop(): void;
  /** Listens again on the same port. */
  start(): void;
}

function run(argv: string[], stdin?: string): string {
  const r = Bun.spawnSync(argv, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit code ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** Keys in keyDir (made when it has none), and the advertisement and thumbprint they give. */
export function prepareTangKeys(keyDir: string): { thumbprint: string; advertisement: string } {
  mkdirSync(keyDir, { recursive: true });
  if (!readdirSync(keyDir).some((f) => f.endsWith(".jwk"))) run([TANGD_KEYGEN, keyDir]);
  const reply = run([TANGD, keyDir], "GET /adv HTTP/1.1\r\nHost: tang\r\n\r\n");
  const advertisement = reply.slice(reply.indexOf("\r\n\r\n") + 4).trim();
  // tangd-keygen names each key file by its S256 thumbprint; the signing key is the one that verifies.
  const signing = readdirSync(keyDir).find((f) => f.endsWith(".jwk") && /"verify"/.test(readFileSync(join(keyDir, f), "utf8")));
  if (!signing) throw new Error(`Cannot find the signing key in "${keyDir}"`);
  return { thumbprint: signing.replace(/\.jwk$/, ""), advertisement };
}

/** Starts tangd behind a loopback port (0: any free port). */
export function startTang(keyDir: string, port = 0): TangServer {
  const { thumbprint, advertisement } = prepareTangKeys(keyDir);
  const requests: string[] = [];
  type Conn = { proc?: ReturnType<typeof Bun.spawn>; head: string };
  let listener: TCPSocketListener<Conn> | undefined;
  const listen = (p: number) =>
    Bun.listen<Conn>({
      hostname: "127.0.0.1",
      port: p,
      socket: {
        open(socket: Socket<Conn>) {
          const proc = Bun.spawn([TANGD, keyDir], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
          socket.data = { proc, head: "" };
          void (async () => {
            for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) socket.write(chunk);
            socket.end();
          })();
        },
        data(socket: Socket<Conn>, data: Buffer) {
          const conn = socket.data;
          if (conn.head.length < 200) {
            conn.head += data.toString("latin1");
            const m = /^[A-Z]+ (\S+)/.exec(conn.head);
            if (m && conn.head.includes("\r\n")) {
              requests.push(m[1]!);
              conn.head = "x".repeat(200);
            }
          }
          const stdin = conn.proc?.stdin;
          if (stdin && typeof stdin !== "number") {
            stdin.write(data);
            stdin.flush();
          }
        },
        close(socket: Socket<Conn>) {
          const stdin = socket.data?.proc?.stdin;
          if (stdin && typeof stdin !== "number") void stdin.end();
        },
      },
    });
  listener = listen(port);
  const bound = listener.port;
  return {
    port: bound,
    keyDir,
    thumbprint,
    advertisement,
    requests,
    guestUrl: `http://10.0.2.2:${bound}`,
    stop() {
      listener?.stop(true);
      listener = undefined;
    },
    start() {
      if (!listener) listener = listen(bound);
    },
  };
}
