// Types for `leakguard/register` (`node -r leakguard/register app.js`, or `import 'leakguard/register'`):
// loading it installs dumpOnSignal() configured from LEAKGUARD_* environment variables.
declare namespace register {
  /** Removes the signal handler that loading this module installed. */
  export function uninstall(): void;
}

export = register;
