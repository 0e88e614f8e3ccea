// Tiny DOM helpers for the webviews (no innerHTML: every text goes in as a text node).
import type { Segment } from './highlight';
import { segments } from './highlight';

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string | number | boolean | EventListener>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (k === 'className') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A completion with its `<think>`/`<answer>` parts in their own spans. */
export function highlighted(text: string): HTMLElement {
  return h('pre', { className: 'completion' }, ...segments(text).map((s: Segment) => segmentEl(s)));
}

function segmentEl(s: Segment): Node {
  return s.kind === 'text' ? document.createTextNode(s.text) : h('span', { className: `seg-${s.kind}` }, s.text);
}

/** Reads a VS Code theme colour variable, with a fallback. */
export function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function formatNumber(v: number | undefined, digits = 3): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? v.toExponential(2) : v.toFixed(digits);
}
