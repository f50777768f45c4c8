// What every machine of the fleet shares: the operators' accounts, SSH hardening, journald
// limits and a default message of the day a role may replace. A fragment is an ordinary
// function; making it generic in the spec lets a pinned system check its fields too.
// As an entry program: nexus provision examples/fleet/base.ts examples/fleet/web.ts
import { dropin, file, fragment, mkDefault, user, type Spec } from "nexus";

export const OPERATOR_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEV4YW1wbGUta2V5LW5vdC1mb3ItcmVhbC11c2Utb3Bz ops@example";

export const base = <V extends Spec>(site: string) =>
  fragment<V>("base", [
    user("ops", { groups: ["wheel"], sshAuthorizedKeys: [OPERATOR_KEY] }),
    file("/etc/ssh/sshd_config.d/10-hardening.conf", {
      contents: "PasswordAuthentication no\nPermitRootLogin no\n",
      mode: 0o644,
    }),
    dropin("systemd-journald.service", "10-size.conf", "[Journal]\nSystemMaxUse=500M\n"),
    file("/etc/fleet/site", { contents: `${site}\n`, mode: 0o644 }),
    // A default: a role's own /etc/motd replaces it without a conflict.
    mkDefault(file("/etc/motd", { contents: `Fleet machine at ${site}.\n`, mode: 0o644 })),
  ]);

export default base("eu-west");
