// nexus-init run — placeholder until its issue lands.
export const summary = "(run: in progress)";
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("nexus-init run: not available in this build\n");
  return 2;
}
