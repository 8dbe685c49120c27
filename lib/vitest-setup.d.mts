// Types for `leakguard/vitest/setup`: importing it once (or listing it in tsconfig `types`)
// brings leakguard/vitest's `Assertion` augmentation into scope, as the setup file brings the
// matcher into every test file at run time.
import type {} from './vitest.mjs';
