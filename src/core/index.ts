export * from "./errors.ts";
export * from "./meta.ts";
