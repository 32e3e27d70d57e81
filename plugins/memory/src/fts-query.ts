import { PlinthError, type Dialect } from 'plinth/sdk';
import { errorCodes } from './errors';

/** `all`: every word must match (the search box); `any`: rank by any word (context recall); `raw`: the dialect's own syntax. */
export type QueryMode = 'all' | 'any' | 'raw';

const HAS_WORD = /[\p{L}\p{N}_]/u;
const MAX_WORDS = 32;

/**
 * Turns what a user typed into a full-text query that cannot be a syntax error: each word becomes
 * a quoted FTS5 string (`"it's"` → `"it's"`, doubled quotes inside) or a tsquery lexeme; a trailing
 * `*` keeps its meaning as a prefix search. Answers `undefined` when nothing searchable is left.
 */
export function compileQuery(dialect: Dialect, input: string, mode: QueryMode): string | undefined {
  if (mode === 'raw') return input.trim() ? input : undefined;
  const tokens = input.split(/\s+/).filter(tok => HAS_WORD.test(tok)).slice(0, MAX_WORDS);
  if (!tokens.length) return undefined;
  if (dialect === 'sqlite') {
    const parts = tokens.map(tok => {
      const prefix = tok.length > 1 && tok.endsWith('*');
      const word = prefix ? tok.slice(0, -1) : tok;
      return `"${word.replace(/"/g, '""')}"${prefix ? '*' : ''}`;
    });
    return parts.join(mode === 'any' ? ' OR ' : ' ');
  }
  // A quoted tsquery operand goes through the same parser as the documents (so `e-mail` and
  // `don't` split the way to_tsvector split them); only `'` (doubled) and `\\` are special inside.
  const parts = tokens.map(tok => {
    const prefix = tok.length > 1 && tok.endsWith('*');
    const word = (prefix ? tok.slice(0, -1) : tok).replace(/\\/g, '').replace(/'/g, "''");
    return `'${word}'${prefix ? ':*' : ''}`;
  });
  return parts.join(mode === 'any' ? ' | ' : ' & ');
}

/** A full-text syntax error from either database, as a 400 that says what to do. */
export function queryError(err: unknown, query: string): PlinthError | undefined {
  const message = String((err as Error)?.message ?? err);
  const code = (err as any)?.driverError?.code ?? (err as any)?.code;
  const isSyntax = /fts5: syntax error|unterminated string|unknown special query|no such column|fts5: column queries|syntax error in tsquery|malformed MATCH/i.test(message)
    || (code === '42601' && /tsquery/i.test(message));
  if (!isSyntax) return undefined;
  const reason = message.replace(/^SQLITE_ERROR:\s*/, '').replace(/^QueryFailedError:\s*/, '');
  return errorCodes.error('PLINTH_ERR_SEARCH_SYNTAX', `invalid full-text query ${JSON.stringify(query)}: ${reason}. Plain words always work; raw=true passes the database's own query syntax through.`, { details: { query, reason }, cause: err });
}
