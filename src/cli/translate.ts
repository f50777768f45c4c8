// nexus-init translate — placeholder until its issue lands.
export const summary = "(translate: in progress)";
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("nexus-init translate: not available in this build\n");
  return 2;
}
