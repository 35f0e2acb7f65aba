"use strict";Object.defineProperty(exports, "__esModule", {value: true});// src/compat/legacy-serializer.ts
var FLAG_STRING = 0;
var FLAG_JSON = 2;
var FLAG_BINARY = 4;
var FLAG_NUMERIC = 8;
var NEEDS_ESCAPE = /[\r\n]/;
var ESCAPED = /\\[\r\n]/;
function escapeValue(text) {
  return NEEDS_ESCAPE.test(text) ? text.replace(/(\r|\n)/g, "\\$1") : text;
}
function unescapeValue(text) {
  return ESCAPED.test(text) ? text.replace(/\\(\r|\n)/g, "$1") : text;
}
var legacySerializer = {
  serialize(value) {
    let flags = FLAG_STRING;
    let text;
    if (Buffer.isBuffer(value)) {
      flags = FLAG_BINARY;
      text = value.toString("latin1");
    } else if (typeof value === "number") {
      flags = FLAG_NUMERIC;
      text = value.toString();
    } else if (typeof value === "string") {
      text = value;
    } else {
      flags = FLAG_JSON;
      const json = JSON.stringify(value);
      if (json === void 0) throw new TypeError(`a value of type ${typeof value} has no JSON form`);
      text = json;
    }
    return { data: Buffer.from(escapeValue(text), "utf8"), flags };
  },
  deserialize(data, flags) {
    const text = unescapeValue(data.toString("utf8"));
    switch (flags) {
      case FLAG_JSON:
        return JSON.parse(text);
      case FLAG_NUMERIC:
        return +text;
      case FLAG_BINARY:
        return Buffer.from(text, "latin1");
      default:
        return text;
    }
  }
};



exports.legacySerializer = legacySerializer;

//# sourceMappingURL=chunk-GTFQDHZS.cjs.map
