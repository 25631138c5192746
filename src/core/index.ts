export * from "./errors.ts";
export * from "./meta.ts";
export * from "./options.ts";
export * from "./request.ts";
export * from "./resource.ts";
export * from "./selectors.ts";
export * from "./validation.ts";
export * from "./version.ts";
