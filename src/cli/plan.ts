// nexus-init plan — placeholder until its issue lands.
export const summary = "(plan: in progress)";
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("nexus-init plan: not available in this build\n");
  return 2;
}
