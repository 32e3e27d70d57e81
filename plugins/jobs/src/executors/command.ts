import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { sandboxFor, type SandboxMode, type SandboxService } from 'plinth/sdk';
import type { JobExecutionContext, JobExecutor } from '../contract';
import { CommandRequest } from '../schemas';
import { PER_FIRE } from '../job-defaults';

export interface CommandOptions {
  workDir: string;
  timeoutMs: number;
  path?: string;
  /** The kernel's sandbox, and the plugin's `sandbox` mode and `allowedHosts` for command jobs. */
  sandbox?: SandboxService;
  sandboxMode: SandboxMode;
  allowedHosts: string[];
  /** Told the pid as soon as the process exists, so a later kernel can find an orphan. */
  onSpawn(jobId: string, pid: number): void;
}

/** How long output is still read after the main process exited, while something it left holds the pipes. */
const STDIO_GRACE_MS = 2000;

/**
 * Runs a process with a minimal environment: PATH, HOME (the job's folder), LANG and the job's
 * own variables, never the kernel's environment. A minimal environment is no boundary while the
 * process runs as the kernel's user beside it (it could read /proc/<kernel>/environ), so it runs
 * inside the kernel's sandbox: only its folder writable, the data dir hidden, no network but the
 * configured hosts. The process gets its own process group, so a timeout or cancel kills its
 * children too.
 */
export function commandExecutor(options: CommandOptions): JobExecutor {
  return {
    kind: 'command',
    requestSchema: CommandRequest,
    run: ctx => runCommand(ctx, options),
  };
}

async function runCommand(ctx: JobExecutionContext, o: CommandOptions): Promise<unknown> {
  const req = ctx.job.request as { command?: string; argv?: string[]; cwd?: string; env?: Record<string, string>; timeoutMs?: number; artifact?: string; process_scope?: string };
  const home = join(o.workDir, ctx.job.id);
  mkdirSync(home, { recursive: true });
  const cwd = req.cwd ? (isAbsolute(req.cwd) ? req.cwd : join(home, req.cwd)) : home;
  const env: Record<string, string> = {
    PATH: o.path ?? [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: home, LANG: 'C.UTF-8', ...req.env,
    PLINTH_JOB_ID: ctx.job.id, PLINTH_JOB_ATTEMPT: String(ctx.job.attempt),
    ...(req.artifact ? { PLINTH_ARTIFACT: join(home, req.artifact) } : {}),
    // A crew's results reach a command as JSON (keyed by step id, or job id outside a template).
    ...(Object.keys(ctx.job.parentResults).length ? { PLINTH_PARENT_RESULTS: JSON.stringify(ctx.job.parentResults) } : {}),
  };
  const [file, args] = req.command ? ['/bin/sh', ['-c', req.command]] : [req.argv![0], req.argv!.slice(1)];
  const timeoutMs = req.timeoutMs ?? o.timeoutMs;
  const sandbox = await sandboxFor(o.sandbox, o.sandboxMode, ctx.user.role === 'admin');
  const cmd = sandbox
    ? await sandbox.wrap({ file, args, cwd, env, writable: [home], allowedHosts: o.allowedHosts })
    : { file, args, env, release() {} };
  // A cancel (or the kernel stopping) while the sandbox was being prepared fired before anything
  // listened for it: the process was then started anyway and never killed. Nothing starts now.
  if (ctx.signal.aborted) { cmd.release(); throw new Error('command cancelled'); }
  const child = spawn(cmd.file, cmd.args, { cwd, env: cmd.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('close', () => cmd.release());
  const tail: string[] = [];
  const lineReader = (stream: 'stdout' | 'stderr') => {
    let buf = '';
    return {
      push(chunk: Buffer) {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) { emit(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
        if (buf.length > 64 * 1024) { emit(buf); buf = ''; }
      },
      flush() { if (buf) emit(buf); buf = ''; },
    };
    function emit(line: string) {
      ctx.log(stream === 'stderr' ? `[stderr] ${line}` : line);
      tail.push(line);
      if (tail.length > 50) tail.shift();
    }
  };
  const out = lineReader('stdout');
  const err = lineReader('stderr');
  child.stdout!.on('data', d => out.push(d));
  child.stderr!.on('data', d => err.push(d));
  const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
  let why: string | undefined;
  // Node's timer, not ctx.timers: the kill must fire even while the generation is being disposed (a reload stops running jobs).
  const timer = setTimeout(() => { why = `timed out after ${timeoutMs} ms`; killGroup(); }, timeoutMs);
  const onAbort = () => { why = 'cancelled'; killGroup(); };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // 'close' may follow 'exit' in the same tick: listened for from the start.
    const closed = new Promise<void>(resolve => child.once('close', () => resolve()));
    // The job ends with its main process ('exit'), not when every copy of its stdout closes: a
    // background process holding the pipe would otherwise hold the job until it ends.
    const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => o.onSpawn(ctx.job.id, child.pid!));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    // per_fire: what the command left running in the background ends with it (a named scope keeps it).
    if ((req.process_scope ?? PER_FIRE) === PER_FIRE) killGroup();
    // The output still in the pipes is read; a kept background process may hold them open, so only for a while.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise(resolve => { grace = setTimeout(resolve, STDIO_GRACE_MS); })]);
    clearTimeout(grace);
    child.stdout!.destroy();
    child.stderr!.destroy();
    out.flush();
    err.flush();
    // Kept whatever the outcome: a failing run's report is often what someone needs to read.
    if (req.artifact && why !== 'cancelled') await keepArtifact(ctx, home, req.artifact);
    if (why) throw new Error(`command ${why}`);
    if (code !== 0) throw new Error(`command exited with ${code ?? signal}: ${tail.slice(-3).join(' | ')}`);
    return { exitCode: code, output: tail.join('\n') };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Saves the file the request named. The process could have made it a symlink to a file of the
 * kernel's (it runs as the same OS user), so only a file whose real path stays in the job's
 * folder is read.
 */
async function keepArtifact(ctx: JobExecutionContext, home: string, name: string): Promise<void> {
  let real: string;
  try { real = realpathSync(join(home, name)); } catch { ctx.log(`[artifact] ${name} was not written`); return; }
  if (!real.startsWith(realpathSync(home) + sep)) { ctx.log(`[artifact] ${name} leads out of the job's folder: not kept`); return; }
  try {
    await ctx.saveArtifact?.(name, readFileSync(real));
    ctx.log(`[artifact] kept ${name}`);
  } catch (err: any) {
    ctx.log(`[artifact] ${name} not kept: ${err.message}`);
  }
}

/**
 * Kills what is left of an attempt whose kernel died. The pid is only trusted when the process
 * still carries the job's id in its environment, so a reused pid is never killed.
 */
export function killOrphan(jobId: string, pid: number | null): boolean {
  if (!pid) return false;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    if (!environ.split('\0').includes(`PLINTH_JOB_ID=${jobId}`)) return false;
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
