// Types for `leakguard/register` (`node -r leakguard/register app.js`, or `import 'leakguard/register'`):
// loading it installs dumpOnSignal() configured from LEAKGUARD_* environment variables.
declare namespace register {
  /** Removes the signal handler that loading this module installed. */
  export function uninstall(): void;
  /** Under LEAKGUARD_DIAGNOSE=1: the sampler whose leak alerts are diagnosed (listen for 'diagnosis'); else null. */
  export const sampler: import('..').MemorySampler | null;
}

export = register;
