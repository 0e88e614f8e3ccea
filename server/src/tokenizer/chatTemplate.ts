// How prompts and completions become token sequences. The prompt ends with the assistant
// role token so that generation starts the completion directly.
import { Tokenizer } from './tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const ROLE_TOKEN = { system: '<|system|>', user: '<|user|>', assistant: '<|assistant|>' } as const;

export function encodePrompt(tok: Tokenizer, prompt: string | ChatMessage[]): number[] {
  const messages: ChatMessage[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  const ids: number[] = [];
  for (const m of messages) ids.push(tok.id(ROLE_TOKEN[m.role]), ...tok.encode(m.content));
  ids.push(tok.id('<|assistant|>'));
  return ids;
}

export function encodeCompletion(tok: Tokenizer, completion: string): number[] {
  return [...tok.encode(completion), tok.eos];
}
