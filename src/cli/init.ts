// nexus-init init — placeholder until its issue lands.
export const summary = "(init: in progress)";
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("nexus-init init: not available in this build\n");
  return 2;
}
