// The boot entry the kargs stage edits: the kernel arguments the boot loader passes on the
// next boot. NexusOS boots with GRUB, whose grub.cfg passes `$kernelopts` from its environment
// block (`load_env`), as Fedora and RHEL 8 did with grubby; the block is a 1024-byte file,
// "# GRUB Environment Block" then name=value lines, padded with '#'. This file holds the pure
// reading and writing of such a block.

/** The environment block's first line. */
export const GRUBENV_SIGNATURE = "# GRUB Environment Block\n";
/** Its fixed size: GRUB rewrites it in place and refuses another size. */
export const GRUBENV_SIZE = 1024;
/** The variable grub.cfg passes to the kernel. */
export const KERNELOPTS = "kernelopts";

/** Parses an environment block into its variables, in order; throws when it is not one. */
export function parseGrubEnv(text: string): Map<string, string> {
  if (!text.startsWith(GRUBENV_SIGNATURE)) throw new Error(`not a GRUB environment block (it does not start with "${GRUBENV_SIGNATURE.trim()}")`);
  const vars = new Map<string, string>();
  let i = GRUBENV_SIGNATURE.length;
  while (i < text.length) {
    if (text[i] === "#" || text[i] === "\n") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    const eq = text.indexOf("=", i);
    if (eq < 0) break;
    const name = text.slice(i, eq);
    let value = "";
    let j = eq + 1;
    for (; j < text.length && text[j] !== "\n"; j++) {
      // A backslash escapes the next character (a backslash or a newline).
      if (text[j] === "\\" && j + 1 < text.length) j++;
      value += text[j];
    }
    vars.set(name, value);
    i = j + 1;
  }
  return vars;
}

/** Formats variables as an environment block of GRUBENV_SIZE bytes; throws when they do not fit. */
export function formatGrubEnv(vars: ReadonlyMap<string, string>): string {
  let body = GRUBENV_SIGNATURE;
  for (const [name, value] of vars) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`Cannot write GRUB variable "${name}": not a plain name`);
    body += `${name}=${value.replace(/[\\\n]/g, (c) => "\\" + c)}\n`;
  }
  const size = new TextEncoder().encode(body).length;
  if (size > GRUBENV_SIZE) throw new Error(`Cannot write the GRUB environment block: ${size} bytes do not fit in ${GRUBENV_SIZE}`);
  return body + "#".repeat(GRUBENV_SIZE - size);
}
