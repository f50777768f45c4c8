// A byte-level description of a directory tree, for tests that compare two roots: every node's
// path, type, mode, owner, contents hash and size or link target, and which files are hard links
// of one another. Equal snapshots mean the trees cannot be told apart by a user of the root.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** One line per node under dir, in sorted order; directories named in skip are not entered. */
export function snapshotTree(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const rp = `${rel}/${n}`;
      const st = lstatSync(p);
      let what: string;
      if (st.isDirectory()) what = "dir";
      else if (st.isSymbolicLink()) what = `link -> ${readlinkSync(p)}`;
      else if (st.isFile()) {
        what = `file ${createHash("sha1").update(readFileSync(p)).digest("hex").slice(0, 12)} ${st.size}`;
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first) what += ` hardlink-of ${first}`;
          else inodes.set(st.ino, rp);
        }
      } else what = "special";
      out.push(`${rp} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
      if (st.isDirectory() && !skip.includes(rp)) walk(p, rp);
    }
  };
  walk(dir, "");
  return out;
}
