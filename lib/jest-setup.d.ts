// Types for `leakguard/jest/setup`: importing it once (or listing it in tsconfig `types`)
// brings leakguard/jest's matcher augmentation (`jest.Matchers` and the `expect` package's
// `Matchers`) into scope, as the setup file brings the matcher into every test file at run time.
import type {} from './jest';
