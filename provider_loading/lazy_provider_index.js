// Loaded into the jsii kernel (node) by provider_loading/lazy_index.py before the AWS provider's assembly.
// @cdktf/provider-aws's lib/index.js requires all ~2,135 resource namespaces (2.8 s, ~430 MB);
// this serves the same exports as getters that require a namespace on first use.
// Anything unexpected falls back to the original, eager file.
"use strict";
const Module = require("module");
const fs = require("fs");
const path = require("path");

const PACKAGE = "@cdktf/provider-aws";
const LINE = /^exports\.([A-Za-z0-9_$]+) = require\("(\.\/[A-Za-z0-9_.-]+)"\);$/gm;
const eager = Module._extensions[".js"];

function isProviderIndex(filename) {
  if (path.basename(filename) !== "index.js" || path.basename(path.dirname(filename)) !== "lib") return false;
  try {
    return JSON.parse(fs.readFileSync(path.join(filename, "..", "..", "package.json"), "utf8")).name === PACKAGE;
  } catch {
    return false;
  }
}

Module._extensions[".js"] = function lazyProviderIndex(module, filename) {
  if (!isProviderIndex(filename)) return eager(module, filename);
  const entries = [...fs.readFileSync(filename, "utf8").matchAll(LINE)];
  if (entries.length < 100) return eager(module, filename);
  const dir = path.dirname(filename);
  const exported = module.exports;
  Object.defineProperty(exported, "__esModule", { value: true });
  for (const [, name, relative] of entries) {
    Object.defineProperty(exported, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = module.require(path.join(dir, relative));
        Object.defineProperty(exported, name, { value, enumerable: true, writable: true });
        return value;
      },
    });
  }
};
