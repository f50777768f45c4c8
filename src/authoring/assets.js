// What `dist/nexus` embeds besides its code: the TypeScript checker (native, from the typescript
// package), its standard library and the DSL's declarations (both made by
// scripts/build-nexus-assets.ts into build/). Plain JavaScript so the project's own type check
// does not need build/ to exist; assets.d.ts types it. Each import is a file path: a real path
// when run from source, a path inside the executable when compiled.
import checker from "../../node_modules/@typescript/typescript-linux-x64/lib/tsc" with { type: "file" };
import standardLibrary from "../../build/nexus-assets/tslib.json" with { type: "file" };
import declarations from "../../build/nexus-assets/types.json" with { type: "file" };

export { checker, declarations, standardLibrary };
