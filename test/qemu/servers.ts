// Config servers for the boot scenarios, on the host's loopback only: a plain HTTP server
// (the guest reaches it at 10.0.2.2 through slirp), and mocks of the GCP metadata server and
// of EC2's IMDSv2 (reached from the guest at 169.254.169.254 through a slirp guestfwd).
// Each records the requests it answered so a scenario can prove the guest used it.

/** One request as a mock saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  status: number;
}

/** A running mock. */
export interface MockServer {
  port: number;
  requests: SeenRequest[];
  stop(): void;
}

function serve(handler: (req: Request, url: URL) => Response): MockServer {
  const requests: SeenRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const res = handler(req, url);
      requests.push({ method: req.method, path: url.pathname, headers: Object.fromEntries(req.headers), status: res.status });
      return res;
    },
  });
  return { port: server.port!, requests, stop: () => void server.stop(true) };
}

/** Serves `files` (path → body) with 200, anything else with 404. */
export function startHttpServer(files: Record<string, string>): MockServer {
  return serve((_req, url) => {
    const body = files[url.pathname];
    return body === undefined ? new Response("not found\n", { status: 404 }) : new Response(body);
  });
}

/** The GCP metadata server: instance attribute user-data, only with "Metadata-Flavor: Google". */
export function startGcpMetadata(userData: string): MockServer {
  return serve((req, url) => {
    if (req.headers.get("metadata-flavor") !== "Google") return new Response("Missing Metadata-Flavor:Google header.\n", { status: 403 });
    if (url.pathname === "/computeMetadata/v1/instance/attributes/user-data") {
      return new Response(userData, { headers: { "Metadata-Flavor": "Google" } });
    }
    return new Response("not found\n", { status: 404, headers: { "Metadata-Flavor": "Google" } });
  });
}

/** EC2 IMDSv2: PUT /latest/api/token (TTL header required) issues a token; user data needs it. */
export function startEc2Imds(userData: string): MockServer & { token: string } {
  const token = `tok-${crypto.randomUUID()}`;
  const server = serve((req, url) => {
    if (url.pathname === "/latest/api/token") {
      if (req.method !== "PUT") return new Response("", { status: 405 });
      if (!req.headers.get("x-aws-ec2-metadata-token-ttl-seconds")) return new Response("", { status: 400 });
      return new Response(token);
    }
    if (req.headers.get("x-aws-ec2-metadata-token") !== token) return new Response("", { status: 401 });
    if (url.pathname === "/latest/user-data" || /^\/[\d-]+\/user-data$/.test(url.pathname)) return new Response(userData);
    return new Response("", { status: 404 });
  });
  return { ...server, token };
}

/** One answer of a scripted server. */
export interface ScriptedAnswer {
  status: number;
  body?: string;
}

/**
 * A metadata look-alike answering "METHOD /path" (query string ignored) from a queue per route:
 * each request takes the next answer, the last one repeats; unknown routes get 404.
 */
export function startScriptedServer(routes: Record<string, ScriptedAnswer[]>): MockServer {
  const queues = new Map(Object.entries(routes).map(([k, v]) => [k, [...v]]));
  return serve((req, url) => {
    const q = queues.get(`${req.method} ${url.pathname}`);
    if (!q || q.length === 0) return new Response("not found\n", { status: 404 });
    const a = q.length > 1 ? q.shift()! : q[0]!;
    return new Response(a.status === 204 ? null : (a.body ?? ""), { status: a.status });
  });
}
