// The web role: nginx-style service, its content directory, and its own motd (which wins over
// the base's default). Composed with the base either as one program (web-node.ts) or on the
// command line: nexus provision examples/fleet/base.ts examples/fleet/web.ts
import { directory, file, fragment, group, service, user, type Spec } from "nexus";

export const web = <V extends Spec>() =>
  fragment<V>("web", [
    group("www", { gid: 1900, system: true }),
    user("www", { uid: 1900, primaryGroup: "www", noCreateHome: true, system: true, shell: "/usr/sbin/nologin" }),
    directory("/srv/www", { mode: 0o755, user: "www", group: "www" }),
    file("/srv/www/index.html", { contents: "<h1>It works</h1>\n", mode: 0o644, user: "www", group: "www" }),
    file("/etc/motd", { contents: "Web server. Logs: journalctl -u www.service\n", mode: 0o644 }),
    service("www.service", {
      unit: { Description: "Static web server", After: "network-online.target" },
      service: { User: "www", ExecStart: "/usr/bin/busybox httpd -f -p 80 -h /srv/www" },
      install: { WantedBy: "multi-user.target" },
    }),
  ]);

export default web();
