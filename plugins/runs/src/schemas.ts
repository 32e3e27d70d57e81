import { paginationQuery } from 'plinth/sdk';

const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, required, properties });

export const IdParams = obj({ id });
export const RepoParams = obj({ project_id: id, repo_id: id });
export const CreateProject = obj({ name: { type: 'string', minLength: 1, maxLength: 200 } }, ['name']);
export const AddRepo = obj({
  name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' },
  repo_path: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^/' },
}, ['name', 'repo_path']);
export const ListQuery = obj({ ...paginationQuery });
export const ListRunsQuery = obj({ ...paginationQuery, project_id: id, status: { enum: ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] } });
export const CreateRun = obj({
  agent_id: { type: 'string', minLength: 1, maxLength: 200 },
  task: { type: 'string', minLength: 1, maxLength: 100_000 },
  source_branch: { type: 'string', minLength: 1, maxLength: 250, default: 'HEAD' },
  project_id: id,
}, ['agent_id', 'task']);
export const ContinueRun = obj({ message: { type: 'string', minLength: 1, maxLength: 100_000 } });
export const InputRun = obj({ message: { type: 'string', minLength: 1, maxLength: 100_000 } }, ['message']);
// By shape: { notify } is the runner's completion notification, { message } types into the CLI (as /input).
export const NotifyRun = { oneOf: [InputRun, obj({ notify: { type: 'boolean' } }, ['notify'])] };
export const NotificationSettingsBody = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: {
    discord_webhook_url: { type: ['string', 'null'], maxLength: 2000, pattern: '^https?://' },
    webhook_url: { type: ['string', 'null'], maxLength: 2000, pattern: '^https?://' },
    events: { type: 'array', uniqueItems: true, items: { enum: ['completed', 'failed', 'needs_attention'] } },
  },
};
export const CommitBody = obj({ message: { type: 'string', minLength: 1, maxLength: 10_000 }, repo: id }, ['message']);
export const RenameBody = obj({ name: { type: 'string', minLength: 1, maxLength: 250 } }, ['name']);
export const RepoBody = obj({ repo: id });
export const PullRequestBody = obj({ repo: id, title: { type: 'string', minLength: 1, maxLength: 256 }, body: { type: 'string', maxLength: 65_536 } });
export const RepoQuery = obj({ repo: id });
export const EventsQuery = obj({ after: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 }, type: { type: 'string', maxLength: 60 } });
export const StreamQuery = obj({ last_event_id: { type: 'string', pattern: '^[0-9]{1,15}$' } });
export const LogsQuery = obj({ after: { type: 'integer', minimum: 0, default: 0 } });
export const HookBody = { type: 'object' };
export const BranchQuery = obj({ repo_id: id, branch: { type: 'string', minLength: 1, maxLength: 250 } }, ['repo_id', 'branch']);
const branchName = { type: 'string', minLength: 1, maxLength: 250 };
// repo_id and branch come in the body or (the coding-agent runner's form) the query; into/onto default to the repo's checked-out branch.
export const MergeBody = obj({ repo_id: id, branch: branchName, into: branchName });
export const RebaseBody = obj({ repo_id: id, branch: branchName, onto: branchName });
export const MergeQuery = obj({ repo_id: id, branch: branchName, into: branchName });
export const RebaseQuery = obj({ repo_id: id, branch: branchName, onto: branchName });
