// OpenAI-compatible HTTP API (`/v1/models`, `/v1/completions`, `/v1/chat/completions`) over
// the served checkpoint, so the `openai` npm package and curl can talk to the trained model.
// Prompts go through the model's chat template; `stream: true` answers with server-sent events.
import { randomInt, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { BackendName } from '../backend/backend';
import type { ChatMessage } from '../tokenizer/chatTemplate';
import { isUserError } from '../util/errors';
import { bearerToken, tokenMatches } from './wsServer';
import type { SampleOutcome, SampleSpec } from './workerProtocol';

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;
const DEFAULT_MAX_TOKENS = 256;
// Far beyond any context this workbench trains (a few thousand byte-level tokens), so only
// hostile or mistaken requests hit it; they get a 400 before the text reaches the sampler.
const MAX_PROMPT_CHARS = 64 * 1024;

export interface ApiOptions {
  token: string;
  /** The served checkpoint folder, if any. */
  served: () => string | undefined;
  sample: (spec: SampleSpec, onChunk?: (text: string) => void) => Promise<SampleOutcome>;
  backend?: BackendName;
  log: (message: string) => void;
}

/** The model id clients see: `run/stage` for a stage checkpoint, else the folder name. */
export function checkpointName(dir: string): string {
  const abs = path.resolve(dir);
  if (path.basename(abs) !== 'checkpoint') return path.basename(abs);
  const stage = path.dirname(abs);
  return `${path.basename(path.dirname(stage))}/${path.basename(stage)}`;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function errorBody(e: ApiError) {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit the rest is read and dropped: answering while the client still uploads
    // makes it see a connection reset instead of the 413. A client that keeps going is cut off.
    if (size > MAX_DRAIN_BYTES) break;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new ApiError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'request body must be a JSON object');
  return body as Record<string, unknown>;
}

function numberParam(body: Record<string, unknown>, name: string, lo: number, hi: number, def: number): number {
  const v = body[name];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    throw new ApiError(400, `"${name}" must be a number between ${lo} and ${hi}`, undefined, name);
  return v;
}

function intParam(body: Record<string, unknown>, name: string, def: number | undefined): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ApiError(400, `"${name}" must be a positive integer`, undefined, name);
  return v;
}

function promptOf(body: Record<string, unknown>): string {
  const p = body.prompt;
  if (typeof p === 'string') return p;
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') return p[0];
  throw new ApiError(400, '"prompt" must be a string (or an array of one string)', undefined, 'prompt');
}

function messagesOf(body: Record<string, unknown>): ChatMessage[] {
  const ms = body.messages;
  if (!Array.isArray(ms) || ms.length === 0)
    throw new ApiError(400, '"messages" must be a non-empty array', undefined, 'messages');
  return ms.map((m: unknown, i) => {
    const msg = (m ?? {}) as { role?: unknown; content?: unknown };
    const role = msg.role === 'developer' ? 'system' : msg.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      throw new ApiError(400, `messages[${i}].role must be system, user or assistant`, undefined, 'messages');
    // Content may be a string or a list of text parts (what newer clients send).
    const c = msg.content;
    const parts = Array.isArray(c) ? c.map((p: { type?: unknown; text?: unknown }) => p?.text) : [c];
    if (!parts.every((p) => typeof p === 'string'))
      throw new ApiError(400, `messages[${i}].content must be a string or text parts`, undefined, 'messages');
    return { role, content: parts.join('') };
  });
}

/** The sampling settings of a request, checked (OpenAI's defaults: temperature 1, top_p 1). */
function sampleSpec(body: Record<string, unknown>, chat: boolean, checkpoint: string, backend?: BackendName) {
  if (intParam(body, 'n', 1) !== 1) throw new ApiError(400, 'only "n": 1 is supported', undefined, 'n');
  if (body.stream !== undefined && typeof body.stream !== 'boolean')
    throw new ApiError(400, '"stream" must be a boolean', undefined, 'stream');
  const maxTokens =
    intParam(body, 'max_tokens', undefined) ?? intParam(body, 'max_completion_tokens', DEFAULT_MAX_TOKENS)!;
  const topP = numberParam(body, 'top_p', 0, 1, 1);
  const prompt = chat ? messagesOf(body) : promptOf(body);
  const chars = typeof prompt === 'string' ? prompt.length : prompt.reduce((n, m) => n + m.content.length + 1, 0);
  if (chars > MAX_PROMPT_CHARS) {
    throw new ApiError(
      400,
      `the prompt has ${chars} characters, more than the ${MAX_PROMPT_CHARS} this server accepts (the model's context is far shorter)`,
      undefined,
      chat ? 'messages' : 'prompt',
      'context_length_exceeded',
    );
  }
  const spec: SampleSpec = {
    checkpoint,
    prompt,
    maxTokens,
    // top_p 0 keeps only the most likely token, i.e. greedy decoding.
    temperature: topP === 0 ? 0 : numberParam(body, 'temperature', 0, 2, 1),
    topP: topP || 1,
    seed: typeof body.seed === 'number' && Number.isInteger(body.seed) ? body.seed : randomInt(2 ** 31),
    backend,
  };
  return { spec, stream: body.stream === true };
}

/** The request handler of the HTTP server (the WebSocket upgrade is handled separately). */
export function createApiHandler(opts: ApiOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    handle(req, res, opts).catch((err: unknown) => {
      const e =
        err instanceof ApiError
          ? err
          : isUserError(err)
            ? new ApiError(400, (err as Error).message)
            : new ApiError(500, (err as Error)?.message ?? String(err), 'server_error');
      if (e.status >= 500) opts.log(`http ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, e.status, errorBody(e));
      else if (!res.writableEnded) res.end(`data: ${JSON.stringify(errorBody(e))}\n\n`);
    });
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, opts: ApiOptions): Promise<void> {
  if (!tokenMatches(bearerToken(req), opts.token)) {
    const e = new ApiError(
      401,
      'missing or invalid bearer token (see the daemon token file)',
      undefined,
      null,
      'invalid_api_key',
    );
    return sendJson(res, 401, errorBody(e), { 'WWW-Authenticate': 'Bearer' });
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const served = opts.served();
  const route = url.pathname.replace(/\/+$/, '');
  if (route === '/v1/models') {
    if (req.method !== 'GET') throw new ApiError(405, 'use GET');
    const data = served
      ? [{ id: checkpointName(served), object: 'model', created: 0, owned_by: 'r1-workbench', root: served }]
      : [];
    return sendJson(res, 200, { object: 'list', data });
  }
  if (route !== '/v1/completions' && route !== '/v1/chat/completions')
    throw new ApiError(404, `unknown path ${url.pathname} (have /v1/models, /v1/completions, /v1/chat/completions)`);
  if (req.method !== 'POST') throw new ApiError(405, 'use POST');
  const body = await readJsonBody(req);
  if (!served)
    throw new ApiError(503, 'no checkpoint is served: start the daemon with --checkpoint DIR', 'server_error');
  const chat = route === '/v1/chat/completions';
  const { spec, stream } = sampleSpec(body, chat, served, opts.backend);
  const meta = {
    id: `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model: checkpointName(served),
  };
  const usage = (o: SampleOutcome) => ({
    prompt_tokens: o.promptTokens,
    completion_tokens: o.tokens,
    total_tokens: o.promptTokens + o.tokens,
  });
  if (!stream) {
    const o = await opts.sample(spec);
    // `refusal` is required (nullable) in the SDK's ChatCompletionMessage; this model never refuses.
    const message = { role: 'assistant', content: o.text, refusal: null };
    const choice = chat
      ? { index: 0, message, logprobs: null, finish_reason: o.finishReason }
      : { index: 0, text: o.text, logprobs: null, finish_reason: o.finishReason };
    return sendJson(res, 200, {
      ...meta,
      object: chat ? 'chat.completion' : 'text_completion',
      choices: [choice],
      usage: usage(o),
    });
  }
  return streamCompletion(res, opts, spec, chat, meta, body, usage);
}

async function streamCompletion(
  res: http.ServerResponse,
  opts: ApiOptions,
  spec: SampleSpec,
  chat: boolean,
  meta: { id: string; created: number; model: string },
  body: Record<string, unknown>,
  usage: (o: SampleOutcome) => Record<string, number>,
): Promise<void> {
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const wantUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  // With include_usage, OpenAI gives every chunk a `usage` field: null until the last, extra chunk.
  const noUsage = wantUsage ? { usage: null } : {};
  const send = (choices: unknown[], extra: Record<string, unknown> = noUsage) => {
    if (!res.destroyed) res.write(`data: ${JSON.stringify({ ...meta, object, choices, ...extra })}\n\n`);
  };
  const choice = (text: string | undefined, finish: string | null, first = false) =>
    chat
      ? {
          index: 0,
          delta:
            text === undefined ? {} : first ? { role: 'assistant', content: text, refusal: null } : { content: text },
          logprobs: null,
          finish_reason: finish,
        }
      : { index: 0, text: text ?? '', logprobs: null, finish_reason: finish };
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  if (chat) send([choice('', null, true)]);
  // The worker keeps generating if the client goes away (sampling is one synchronous loop);
  // the pieces are simply not written.
  const outcome = await opts.sample(spec, (piece) => send([choice(piece, null)]));
  send([choice(chat ? undefined : '', outcome.finishReason)]);
  if (wantUsage) send([], { usage: usage(outcome) });
  if (!res.destroyed) res.end('data: [DONE]\n\n');
}
