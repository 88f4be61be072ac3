// A tiny require hook that lets plain `node` run the TypeScript sources (the
// demo, the sample, the standalone gateway, benchmarks, test child processes):
//   node -r ./scripts/swc-register.js some-script.ts
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const swc = require('@swc/core');
const options = require('./swc.options.js');

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = swc.transformSync(source, { ...options, filename });
  module._compile(code, filename);
};
