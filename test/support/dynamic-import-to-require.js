/**
 * A jest transform for PGlite's CommonJS build. PGlite loads Node's built-in modules with
 * `await import("fs")` and the like; jest runs test code in a vm context, where a dynamic
 * import needs node --experimental-vm-modules, and without it PGlite fails to start. In
 * plain Node (npm start) nothing of this applies. Rewriting `import("<literal>")` to
 * `Promise.resolve(require("<literal>"))` gives PGlite the same modules, synchronously
 * resolved, inside jest only. (The module's `require` is captured first: Emscripten's code
 * declares a `var require` of its own, which would shadow it.)
 */
module.exports = {
  process(source) {
    const code = source.replace(/\bimport\(("[^"]+")\)/g, 'Promise.resolve(__jestRequire($1))');
    return { code: `const __jestRequire = require;${code}` };
  },
  getCacheKey(source, path) {
    return `dynamic-import-to-require-2:${path}:${require('node:crypto').createHash('sha256').update(source).digest('hex')}`;
  },
};
