// ESM entry: re-exports the CommonJS build, so import and require share one copy of every class.
export { KeyvMemcluster, toSeconds } from "./keyv.cjs";
