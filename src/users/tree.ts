// A model of the target root's directory tree, as shadow's tools see it through chroot: read
// lazily from the real root (through a TreeReader), changed in memory as the planned account
// operations would change it (homes created, moved, removed, given new owners). Planning a
// sequence of tool runs asks it what each run would find: does the home exist, who owns it, is
// it a directory. Symlinks are followed inside the root, "/" being the root.

/** What an lstat says about one node. */
export interface NodeInfo {
  kind: "dir" | "file" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

/** Read access to the real root: lstat and readlink of paths whose parents are real directories. */
export interface TreeReader {
  lstat(path: string): NodeInfo | null;
  readlink(path: string): string;
}

/** Ownership changes applied to a subtree (chown_tree), also to what is read from it later. */
interface OwnerMap {
  oldUid: number;
  newUid: number;
  oldGid: number;
  newGid: number;
}

interface VNode {
  info: NodeInfo;
  /** Where children are read from in the real root; null for nodes this model created. */
  origin: string | null;
  children: Map<string, VNode | null>;
  target?: string;
  /** Owner changes made to this subtree that nodes read later must get too. */
  maps: OwnerMap[];
}

/** The kernel's limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

const splitPath = (p: string): string[] => p.split("/").filter((c) => c !== "" && c !== ".");

function applyMap(info: NodeInfo, m: OwnerMap): NodeInfo {
  const uid = m.oldUid === -1 || info.uid === m.oldUid ? (m.newUid === -1 ? info.uid : m.newUid) : info.uid;
  const gid = m.oldGid === -1 || info.gid === m.oldGid ? (m.newGid === -1 ? info.gid : m.newGid) : info.gid;
  return { ...info, uid, gid };
}

/** Where a path led: the node's parent, its name in it, and the node (null: nothing there). */
interface Resolved {
  parent: VNode | null;
  name: string;
  node: VNode | null;
  /** The clean path of the node inside the root. */
  path: string;
}

/** The modelled tree. */
export class RootTree {
  private readonly root: VNode;

  constructor(private readonly reader: TreeReader) {
    const info = reader.lstat("/") ?? { kind: "dir" as const, mode: 0o755, uid: 0, gid: 0, size: 0 };
    this.root = { info, origin: "/", children: new Map(), maps: [] };
  }

  private child(dir: VNode, name: string): VNode | null {
    if (dir.children.has(name)) return dir.children.get(name)!;
    let node: VNode | null = null;
    if (dir.origin !== null) {
      const path = dir.origin === "/" ? `/${name}` : `${dir.origin}/${name}`;
      const info = this.reader.lstat(path);
      if (info) {
        let mapped = info;
        for (const m of dir.maps) mapped = applyMap(mapped, m);
        node = { info: mapped, origin: info.kind === "dir" ? path : null, children: new Map(), maps: [...dir.maps] };
        if (info.kind === "symlink") node.target = this.reader.readlink(path);
        if (info.kind !== "dir") node.origin = path;
      }
    }
    dir.children.set(name, node);
    return node;
  }

  /** Resolves a path; the last component is followed only with followLast. Null: not reachable. */
  private resolve(path: string, followLast: boolean): Resolved | null {
    const pending = splitPath(path);
    const stack: { node: VNode; name: string }[] = [];
    let links = 0;
    const cur = (): VNode => (stack.length > 0 ? stack[stack.length - 1]!.node : this.root);
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === "..") {
        stack.pop();
        continue;
      }
      const dir = cur();
      if (dir.info.kind !== "dir") return null;
      const next = this.child(dir, c);
      const isLast = pending.length === 0;
      if (next?.info.kind === "symlink" && (!isLast || followLast)) {
        if (++links > MAX_SYMLINKS) return null;
        const target = next.target ?? "";
        if (target.startsWith("/")) stack.length = 0;
        pending.unshift(...splitPath(target));
        continue;
      }
      if (isLast) return { parent: dir, name: c, node: next, path: "/" + [...stack.map((s) => s.name), c].join("/") };
      if (!next) return null;
      stack.push({ node: next, name: c });
    }
    const top = stack[stack.length - 1];
    return {
      parent: stack.length >= 2 ? stack[stack.length - 2]!.node : stack.length === 1 ? this.root : null,
      name: top?.name ?? "",
      node: cur(),
      path: "/" + stack.map((s) => s.name).join("/"),
    };
  }

  /** lstat: the node itself (a symlink is not followed). */
  lstat(path: string): NodeInfo | null {
    return this.resolve(path, false)?.node?.info ?? null;
  }

  /** stat: following symlinks. */
  stat(path: string): NodeInfo | null {
    return this.resolve(path, true)?.node?.info ?? null;
  }

  /** access(F_OK). */
  exists(path: string): boolean {
    return this.stat(path) !== null;
  }

  /** Where a path leads inside the root, symlinks followed (the last one only with followLast). */
  where(path: string, followLast = true): string | null {
    const r = this.resolve(path, followLast);
    return r ? r.path : null;
  }

  /** Records a new directory (or file) at path; its parent must exist. */
  create(path: string, info: NodeInfo): void {
    const r = this.resolve(path, false);
    if (!r?.parent || r.node) throw new Error(`Cannot model creating "${path}"`);
    r.parent.children.set(r.name, { info, origin: null, children: new Map(), maps: [] });
  }

  /** Removes the node at path (not following a final symlink) with everything below it. */
  remove(path: string): void {
    const r = this.resolve(path, false);
    if (r?.parent && r.node) r.parent.children.set(r.name, null);
  }

  /** rename(2) of a node (not following a final symlink) to a path where nothing is. */
  rename(from: string, to: string): void {
    const a = this.resolve(from, false);
    const b = this.resolve(to, false);
    if (!a?.parent || !a.node || !b?.parent) throw new Error(`Cannot model moving "${from}" to "${to}"`);
    b.parent.children.set(b.name, a.node);
    a.parent.children.set(a.name, null);
  }

  /** Sets the owner of one node (not following a final symlink). */
  chown(path: string, uid: number, gid: number): void {
    const n = this.resolve(path, false)?.node;
    if (n) n.info = { ...n.info, uid, gid };
  }

  /** Sets the mode of one node (following symlinks). */
  chmod(path: string, mode: number): void {
    const n = this.resolve(path, true)?.node;
    if (n) n.info = { ...n.info, mode };
  }

  /** chown_tree(): the ownership change on a directory and everything below it. */
  chownTree(path: string, m: OwnerMap): void {
    const n = this.resolve(path, false)?.node;
    if (!n || n.info.kind !== "dir") return;
    const walk = (v: VNode) => {
      v.info = applyMap(v.info, m);
      v.maps.push(m);
      for (const c of v.children.values()) if (c) walk(c);
    };
    walk(n);
  }

  /** Records a file's new size (a record written past its end). */
  setSize(path: string, size: number): void {
    const n = this.resolve(path, true)?.node;
    if (n) n.info = { ...n.info, size };
  }
}
