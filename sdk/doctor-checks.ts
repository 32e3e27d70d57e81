/**
 * Checks a plugin contributes to `plinth doctor`. The manifest names the module
 * (`"contributes": { "checks": "src/checks.ts" }`); its default export is `defineDoctorChecks({...})`.
 *
 * Why a module named by the manifest and not a `ctx.registerCheck()` in setup: the doctor's job is
 * to say what is wrong when the server does not start, so it runs without a kernel (no database,
 * no setup of any plugin). It reads each plugin's manifest and config as the host would, and loads
 * only this small module, which must import nothing heavier than the SDK.
 */
export interface DoctorCheckResult {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  /** What to do about it; shown when the status is not `ok`. */
  fix?: string;
}

export interface DoctorCheckContext<Config = Record<string, unknown>> {
  /** The plugin's config from the registry, validated against its configSchema with its defaults applied. */
  config: Config;
  /** The environment variables the manifest's `permissions.secrets` names, and no others. */
  secrets: Record<string, string | undefined>;
  /** Aborted when the doctor stops waiting for this check. */
  signal: AbortSignal;
}

export type DoctorCheck<Config = Record<string, unknown>> =
  (ctx: DoctorCheckContext<Config>) => Promise<DoctorCheckResult | DoctorCheckResult[]>;

/** Checks by label; a check that throws is shown as `fail` under its label with the error's message. */
export function defineDoctorChecks<Config = Record<string, unknown>>(checks: Record<string, DoctorCheck<Config>>): Record<string, DoctorCheck<Config>> {
  return checks;
}
