// The one parse cache: a config is parsed once per process. `apply` validates the config it was
// given and the file platform reads the same bytes again; every stage after the fetch stages
// reads back the rendered config they cached (a megabyte for a large fleet config). Each slot
// remembers one parse, reused while its key (the text, or the file's identity) is the same.
// Values handed out are shared: treat them as read-only.

/** What a parse depends on: compared part by part (a config's text is not copied into a key). */
export type ParseKey = readonly (string | boolean | undefined)[];

const slots = new Map<string, { key: ParseKey; value: unknown }>();

const sameKey = (a: ParseKey, b: ParseKey) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The value remembered in `slot` under `key`, else compute()'s, remembered in its place. */
export function rememberParsed<T>(slot: string, key: ParseKey, compute: () => T): T {
  const hit = slots.get(slot);
  if (hit && sameKey(hit.key, key)) return hit.value as T;
  const value = compute();
  slots.set(slot, { key, value });
  return value;
}

/** Remembers `value` as the parse of `slot` under `key` (its producer already has it). */
export function rememberAs(slot: string, key: ParseKey, value: unknown): void {
  slots.set(slot, { key, value });
}

/** Forgets what `slot` remembers. */
export function forgetParsed(slot: string): void {
  slots.delete(slot);
}
