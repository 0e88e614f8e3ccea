// Byte-level tokenizer: ids 0-255 are UTF-8 bytes, so any text round-trips; the reasoning
// template's tags, end-of-sequence, padding and the chat roles are single special tokens.

export const SPECIAL_TOKENS = [
  '<|pad|>',
  '<|endoftext|>',
  '<think>',
  '</think>',
  '<answer>',
  '</answer>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export interface TokenizerJson {
  type: 'byte-level';
  version: 1;
  specialTokens: Record<string, number>;
  vocabSize: number;
}

const BYTE_COUNT = 256;
const SPECIAL_PATTERN = new RegExp(SPECIAL_TOKENS.map((t) => t.replace(/[|<>/]/g, (ch) => `\\${ch}`)).join('|'), 'g');

export class Tokenizer {
  readonly vocabSize = BYTE_COUNT + SPECIAL_TOKENS.length;
  private readonly specialIds = new Map<string, number>(SPECIAL_TOKENS.map((t, i) => [t, BYTE_COUNT + i]));
  private readonly encoder = new TextEncoder();

  get pad(): number {
    return this.id('<|pad|>');
  }
  get eos(): number {
    return this.id('<|endoftext|>');
  }

  id(token: SpecialToken): number {
    return this.specialIds.get(token)!;
  }

  isSpecial(id: number): boolean {
    return id >= BYTE_COUNT;
  }

  /** Text -> ids; special-token strings in the text become their single ids. */
  encode(text: string): number[] {
    const ids: number[] = [];
    let last = 0;
    for (const m of text.matchAll(SPECIAL_PATTERN)) {
      this.pushBytes(text.slice(last, m.index), ids);
      ids.push(this.specialIds.get(m[0])!);
      last = m.index! + m[0].length;
    }
    this.pushBytes(text.slice(last), ids);
    return ids;
  }

  /** ids -> text. Padding is dropped; invalid byte sequences decode to U+FFFD. */
  decode(ids: readonly number[]): string {
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    };
    for (const id of ids) {
      if (id < BYTE_COUNT) {
        bytes.push(id);
        continue;
      }
      flush();
      if (id !== this.pad) out += SPECIAL_TOKENS[id - BYTE_COUNT] ?? '';
    }
    flush();
    return out;
  }

  toJSON(): TokenizerJson {
    return {
      type: 'byte-level',
      version: 1,
      specialTokens: Object.fromEntries(this.specialIds),
      vocabSize: this.vocabSize,
    };
  }

  static fromJSON(json: TokenizerJson): Tokenizer {
    const tok = new Tokenizer();
    if (json.type !== 'byte-level' || json.vocabSize !== tok.vocabSize) {
      throw new Error(`tokenizer.json: unsupported tokenizer (type ${json.type}, vocabSize ${json.vocabSize})`);
    }
    return tok;
  }

  private pushBytes(text: string, into: number[]): void {
    if (text) for (const b of this.encoder.encode(text)) into.push(b);
  }
}

/** Decodes a stream of ids incrementally, holding back incomplete UTF-8 sequences. */
export class StreamingDecoder {
  private pending: number[] = [];
  constructor(private readonly tok: Tokenizer) {}

  push(id: number): string {
    if (this.tok.isSpecial(id)) {
      const head = this.flush();
      return head + this.tok.decode([id]);
    }
    this.pending.push(id);
    const text = Buffer.from(this.pending).toString('utf8');
    if (text.endsWith('\uFFFD') && this.pending.length < 4) return '';
    this.pending = [];
    return text;
  }

  flush(): string {
    const text = this.pending.length ? Buffer.from(this.pending).toString('utf8') : '';
    this.pending = [];
    return text;
  }
}
