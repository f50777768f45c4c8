// Telling a program from a config. nexus-init never runs code from a config: a TypeScript or
// JavaScript program handed to it (as a file, a URL, fw_cfg, user data) is refused with a message
// saying how to compile it, and `nexus` compiles such programs before using them.

/** File names of programs: TypeScript and JavaScript modules. */
const PROGRAM_EXTENSIONS = /\.(?:[cm]?ts|tsx|[cm]?js|jsx)$/i;

/** True when a file name is a program's (system.ts, fleet.mjs). */
export function isProgramPath(path: string): boolean {
  return PROGRAM_EXTENSIONS.test(path);
}

// The first statement of a module: an import or export, after comments and blank lines. Neither
// JSON nor a Butane document (a YAML mapping) starts like this: "import: x" is a YAML key.
const PROGRAM_START = /^\uFEFF?(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(?:import|export)(?:\s+(?!:)|\s*[{*])/;

/** True when a document is a TypeScript or JavaScript program rather than a config. */
export function looksLikeProgram(text: string): boolean {
  return PROGRAM_START.test(text);
}

/** Why nexus-init refuses a program, and what to do instead. */
export const PROGRAM_REFUSAL =
  "this is a TypeScript/JavaScript program, not a config: nexus-init never runs code from a config. " +
  "Compile it on your workstation with `nexus provision system.ts -o system.ign` and provision with the JSON";
