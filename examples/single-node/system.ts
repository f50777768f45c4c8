// One machine: a web node with an admin account (keys from a file), an application service
// reading a secret token, and host settings. Try:
//   nexus check examples/single-node/system.ts
//   nexus provision examples/single-node/system.ts --set hostname=web-7 -p
import { directory, dropin, file, group, link, param, read, secret, service, system, text, user } from "nexus";

const hostname = param("hostname", "web-1", "the machine's host name");
const workers = param("workers", 4, "application worker processes");
// Read when the program runs; its bytes reach the output config and nothing else.
const token = secret("api-token", { file: "./secrets/api-token" });

export default system({ spec: "3.4.0" }, [
  file("/etc/hostname", { contents: `${hostname}\n`, mode: 0o644, overwrite: true }),
  link("/etc/localtime", { target: "/usr/share/zoneinfo/UTC", overwrite: true }),
  file("/etc/sysctl.d/90-web.conf", { contents: "net.core.somaxconn = 4096\nvm.swappiness = 10\n", mode: 0o644 }),

  group("web", { gid: 1800, system: true }),
  user("web", { uid: 1800, primaryGroup: "web", homeDir: "/var/lib/web", noCreateHome: true, shell: "/usr/sbin/nologin", system: true }),
  user("admin", { groups: ["wheel"], sshAuthorizedKeys: [read("./keys/admin.pub")] }),

  directory("/var/lib/web", { mode: 0o750, user: "web", group: "web" }),
  file("/etc/web/app.env", {
    contents: text`WORKERS=${String(workers)}\nAPI_TOKEN=${token}\n`,
    mode: 0o640,
    user: "root",
    group: "web",
  }),
  service("web.service", {
    unit: { Description: "Web application", After: "network-online.target", Wants: "network-online.target" },
    service: {
      Type: "simple",
      User: "web",
      EnvironmentFile: "/etc/web/app.env",
      ExecStart: "/usr/local/bin/web --listen 0.0.0.0:8080",
      Restart: "on-failure",
    },
    install: { WantedBy: "multi-user.target" },
  }),
  dropin("systemd-journald.service", "10-size.conf", "[Journal]\nSystemMaxUse=200M\n"),
]);
