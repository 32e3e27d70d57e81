import type { SqlRunner } from 'plinth/sdk';
import type { TurnRecords, TurnView } from './contract';
import type { ProviderRouter } from './provider-router';
import type { SessionStore } from './session-store';
import { fromRow, type TurnStore } from './turn-store';

/** The `turnRecordsRef` service: read-only views of the turn store for analysing plugins. */
export function turnRecords(db: SqlRunner, d: { turns: TurnStore; sessions: SessionStore; router: ProviderRouter; price: TurnRecords['price']; defaultModel: () => string }): TurnRecords {
  const t = db.table('turns');
  const f = db.table('feedback');
  const view = (r: any) => fromRow(r) as unknown as TurnView;
  return {
    turn: async (id, user) => (await d.turns.get(id, user)) as unknown as TurnView,
    async sessionTurns(sessionId, user) {
      await d.sessions.getOwned(sessionId, user);
      return (await db.query(`SELECT * FROM ${t} WHERE session_id = ? ORDER BY created_at, id`, [sessionId])).map(view);
    },
    async recentTurns(owner, limit) {
      const rows = await db.query(
        `SELECT t.*, f.grade AS grade FROM ${t} t LEFT JOIN ${f} f ON f.turn_id = t.id
         WHERE t.status <> 'running'${owner ? ' AND t.owner = ?' : ''} ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, owner ? [owner, limit] : [limit]);
      return rows.map(r => ({ ...view(r), grade: r.grade === null || r.grade === undefined ? null : Number(r.grade) }));
    },
    breakers: () => d.router.capacity().providers.map(p => ({ provider: p.provider, breaker: p.breaker })),
    async spend(owner) {
      const { total } = await d.turns.costs(owner, { group: 'model' });
      return { cost: total.cost, turns: total.turns };
    },
    price: d.price,
    defaultModel: d.defaultModel,
  };
}
