import type { Context, Next } from 'koa';
import { kernelErrors, PlinthError } from '../../sdk';
import type { RouteGroup, RouteSpec } from './routes';

/**
 * Which owner serves a path. Owners claim prefixes (`/api/<id>`, or what the manifest
 * declares); the longest claimed prefix wins. Swapping a plugin's group is one Map write, so a
 * request sees either the old generation or the new one, never a mix.
 */
export class RouteTable {
  private readonly claims = new Map<string, string>();
  private readonly groups = new Map<string, RouteGroup>();

  /**
   * Throws when `prefixes` would take paths another owner serves: the same prefix, or one nested
   * in (or around) another owner's, unless the two plugins depend on each other that way (the
   * telegram plugin's `/api/channels/telegram` inside the channels plugin's `/api/channels`).
   * The kernel's prefixes never nest with anything.
   */
  checkClaims(owner: string, prefixes: string[], mayNestUnder: (holder: string) => boolean, mayHoldInside: (holder: string) => boolean): void {
    for (const raw of prefixes) {
      const p = normalize(raw);
      for (const [claimed, holder] of this.claims) {
        if (holder === owner) continue;
        const kernel = holder === 'kernel' || owner === 'kernel';
        if (claimed === p) throw claimError(p, holder, claimed);
        if (isUnder(p, claimed) && (kernel || !mayNestUnder(holder))) throw claimError(p, holder, claimed);
        if (isUnder(claimed, p) && (kernel || !mayHoldInside(holder))) throw claimError(p, holder, claimed);
      }
    }
  }

  /** Replaces an owner's claims in one step (an empty list drops them). */
  setClaims(owner: string, prefixes: string[]): void {
    for (const [claimed, holder] of [...this.claims]) if (holder === owner) this.claims.delete(claimed);
    for (const p of prefixes) this.claims.set(normalize(p), owner);
    this.ownerCache.clear();
  }

  ownsPath(owner: string, path: string): boolean {
    return this.ownerOf(path) === owner;
  }

  /** Paths seen recently and their owner; cleared whenever claims change. */
  private readonly ownerCache = new Map<string, string | undefined>();

  ownerOf(path: string): string | undefined {
    if (this.ownerCache.has(path)) return this.ownerCache.get(path);
    const owner = this.findOwner(path);
    if (this.ownerCache.size >= 10_000) this.ownerCache.clear();
    this.ownerCache.set(path, owner);
    return owner;
  }

  private findOwner(path: string): string | undefined {
    let p = normalize(path);
    for (;;) {
      const owner = this.claims.get(p) ?? this.patternOwner(p);
      if (owner) return owner;
      const cut = p.lastIndexOf('/');
      if (cut <= 0) return this.claims.get('/');
      p = p.slice(0, cut);
    }
  }
  /**
   * A claim with `:param` segments (`/api/turns/:id/tips`) takes that one path shape inside
   * another owner's prefix: a plugin adds a route to a resource another plugin serves.
   */
  private patternOwner(p: string): string | undefined {
    const segs = p.split('/');
    for (const [claimed, holder] of this.claims) {
      if (!claimed.includes('/:')) continue;
      const c = claimed.split('/');
      if (c.length === segs.length && c.every((s, i) => s === segs[i] || (s.startsWith(':') && segs[i] !== ''))) return holder;
    }
    return undefined;
  }


  setGroup(owner: string, group: RouteGroup | undefined): void {
    if (group) this.groups.set(owner, group);
    else this.groups.delete(owner);
  }

  group(owner: string): RouteGroup | undefined {
    return this.groups.get(owner);
  }

  allRoutes(): Array<RouteSpec & { owner: string }> {
    return [...this.groups.values()].flatMap(g => g.routes.map(r => ({ ...r, owner: g.owner })));
  }

  dispatch(ctx: Context, next: Next): Promise<unknown> {
    const owner = this.ownerOf(ctx.path);
    const group = owner ? this.groups.get(owner) : undefined;
    return group ? group.dispatch(ctx, next) : next();
  }
}

function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path.startsWith(prefix + '/');
}

function claimError(prefix: string, holder: string, claimed: string): PlinthError {
  return kernelErrors.error('PLINTH_ERR_ROUTE_CLAIM', `path ${prefix} is already claimed by ${holder} (${claimed})`);
}

function normalize(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
