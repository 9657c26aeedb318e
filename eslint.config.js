// typescript-eslint's recommended, type-checked rules over every TypeScript file of the
// project; `npm test` runs it with --max-warnings 0.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'packages/*/dist/', 'coverage/', '.tap/', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // An async function without `await` is how a synchronous body keeps a promise contract:
      // the store port's methods on SQLite, fastify's plugins and hooks, tap's subtests. Its
      // throw becomes a rejection, which is the point.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tap awaits each subtest it is handed (`t.test(…)` returns one); nothing floats.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] },
      ],
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  // The pages a browser runs: the console and the frontend example.
  { files: ['console/**', 'examples/frontend/**'], languageOptions: { globals: globals.browser } },
);
