// The result report, /etc/.nexus-result.json in the target root: when provisioning ran, where
// the config came from, each stage with its timing, and the outcome. Never secrets: no config
// contents, and the source is a redacted URL or a provider name.
import pkg from "../../package.json" with { type: "json" };
import { Root } from "../system/root.ts";
import { redactUrl } from "../log/redact.ts";
import type { StageName } from "./names.ts";
import type { StageRecord } from "./state.ts";

/** Where the report goes inside the root. */
export const RESULT_PATH = "/etc/.nexus-result.json";

/** The report's content. */
export interface ResultReport {
  tool: "nexus-init";
  version: string;
  /** ISO time the report was written. */
  provisioningDate: string;
  /** Where the config came from: "file:/path", a redacted URL, or a provider name. */
  configSource: string;
  outcome: "success" | "failure";
  failedStage?: StageName;
  error?: string;
  stages: StageRecord[];
}

/** Builds a report (the source is redacted here once more, to be sure). */
export function buildReport(args: {
  now: number;
  configSource: string;
  stages: readonly StageRecord[];
  failedStage?: StageName;
  error?: string;
}): ResultReport {
  return {
    tool: "nexus-init",
    version: pkg.version,
    provisioningDate: new Date(args.now).toISOString(),
    configSource: /^[a-z][a-z0-9+.-]*:\/\//i.test(args.configSource) || args.configSource.startsWith("data:") ? redactUrl(args.configSource) : args.configSource,
    outcome: args.failedStage ? "failure" : "success",
    ...(args.failedStage ? { failedStage: args.failedStage, error: args.error } : {}),
    stages: args.stages.map((s) => ({ ...s, ms: Math.round(s.ms * 10) / 10 })),
  };
}

/** Writes the report atomically into the root (mode 0644, root-owned). */
export async function writeReport(rootDir: string, report: ResultReport): Promise<void> {
  await Root.open(rootDir).writeFileWithParents(RESULT_PATH, { mode: 0o644, uid: 0, gid: 0 }, (sink) =>
    sink.write(new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n")),
  );
}
