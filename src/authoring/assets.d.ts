// Types of assets.js: paths of the embedded files.
/** The TypeScript checker binary. */
export declare const checker: string;
/** JSON: the standard library files a check needs, by file name. */
export declare const standardLibrary: string;
/** JSON: the DSL's declaration files, by path below the types folder. */
export declare const declarations: string;
