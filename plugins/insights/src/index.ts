import { definePlugin } from 'plinth/sdk';
import { modelRouterRef, turnRecordsRef } from 'plinth/contracts/agents';
import { AnalysisStore } from './analysis-store';
import { migrations } from './migrations';
import { Recommendations } from './recommendations';
import { registerInsightRoutes } from './routes';
import { TurnInsights, type InsightSettings } from './turn-insights';

export default definePlugin<{ records: typeof turnRecordsRef; models: typeof modelRouterRef }, InsightSettings>({
  deps: { records: turnRecordsRef, models: modelRouterRef },
  async setup({ http, storage, config, clock, records, models }) {
    const now = () => clock.now();
    const analyses = new AnalysisStore(await storage.open({ migrations }), now);
    const insights = new TurnInsights({ records, models, analyses, settings: config, now });
    const recommendations = new Recommendations({ records, insights, analyses, limit: config.recommendationTurns });
    registerInsightRoutes(http, { insights, recommendations, analyses });
  },
});
