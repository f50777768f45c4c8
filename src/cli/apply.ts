// nexus-init apply — placeholder until its issue lands.
export const summary = "(apply: in progress)";
export async function main(_args: string[]): Promise<number> {
  process.stderr.write("nexus-init apply: not available in this build\n");
  return 2;
}
