import { basename } from 'node:path';
import contentDisposition from 'content-disposition';
import { marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import { errors, kernelErrors, reply, type HttpRouter, type User } from 'plinth/sdk';
import type { Job, JobStore } from './job-store';
import { ArtifactQuery, IdParams } from './schemas';

/**
 * An artifact is whatever a job's command wrote, shown on the dashboard's origin: it is answered
 * as inert content (no sniffing, a sandboxing CSP), so an HTML file cannot script the session.
 */
const INERT = { 'x-content-type-options': 'nosniff', 'content-security-policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'" };

/** Markdown (or plain text) to HTML without scripts, handlers or javascript: links. */
export function markdownToSafeHtml(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true });
  return sanitizeHtml(html, { allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'h1', 'h2', 'del', 'input'], allowedSchemes: ['http', 'https', 'mailto'],
    allowedAttributes: { ...sanitizeHtml.defaults.allowedAttributes, input: ['type', 'checked', 'disabled'], code: ['class'] } });
}

const isText = (mediaType: string) => mediaType.startsWith('text/') || /json|xml|yaml|markdown/.test(mediaType);

/** `GET /api/jobs/:id/artifact`: the latest attempt's artifact, raw, as a download, or rendered. */
export function registerArtifactRoutes(http: HttpRouter, store: JobStore, owned: (id: string, user: User | undefined) => Promise<Job>): void {
  http.get('/:id/artifact', {
    auth: 'user', params: IdParams, query: ArtifactQuery,
    summary: 'The latest attempt\'s artifact (the file a job named with request.artifact); ?download=1 as an attachment, ?format=html renders Markdown to sanitized HTML',
  }, async req => {
    const job = await owned(req.params.id, req.user);
    const artifact = await store.artifacts.latest(job.id);
    if (!artifact) {
      throw kernelErrors.error('PLINTH_ERR_NOT_FOUND', `job ${job.id} has no artifact: none of its ${job.attempts} attempt(s) kept a file (a job names one with request.artifact)`,
        { details: { job: job.id, state: job.state, attempts: job.attempts } });
    }
    const q = req.query as { download?: string; format?: string };
    const bytes = await store.artifacts.bytes(job.id, artifact.attempt);
    const headers: Record<string, string> = { ...INERT, 'x-plinth-artifact-attempt': String(artifact.attempt) };
    if (q.download === '1' || q.download === 'true') headers['content-disposition'] = contentDisposition(basename(artifact.name));
    if (q.format === 'html') {
      if (!isText(artifact.mediaType)) throw errors.validation(`artifact ${artifact.name} is ${artifact.mediaType}: format=html renders Markdown or text only`, [{ field: 'query/format', message: 'not a text artifact' }]);
      return reply(200, markdownToSafeHtml(bytes.toString('utf8')), { headers, type: 'text/html; charset=utf-8' });
    }
    return reply(200, bytes, { headers, type: artifact.mediaType });
  });
}
