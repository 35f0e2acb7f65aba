// ESM entry: re-exports the CommonJS build, so import and require share one copy of every class.
import cjs from "./compat.cjs";
export default cjs;
