// Fan-out of metrics and job events to every listener (LSP client, WebSocket clients), with a
// bounded replay log so a late joiner (a reopened dashboard) sees the current run so far.
import type { JobEvent, MetricNotification, WsMessage } from '../protocol/messages';

export type HubListener = (msg: Extract<WsMessage, { type: 'metric' | 'event' }>) => void;

/** Caps of the in-memory replay log; older entries are dropped first. */
export interface HubLimits {
  metrics: number;
  events: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = { metrics: 20_000, events: 2_000 };

/** Broadcasts metrics and job events and remembers those of the current (or last) run. */
export class EventHub {
  private metrics: MetricNotification[] = [];
  private events: JobEvent[] = [];
  private progress?: JobEvent;
  private readonly listeners = new Set<HubListener>();

  constructor(private readonly limits: HubLimits = DEFAULT_HUB_LIMITS) {}

  /** Adds a listener for live messages; returns a function that removes it. */
  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  metric(data: MetricNotification): void {
    this.metrics.push(data);
    this.metrics = trim(this.metrics, this.limits.metrics);
    this.emit({ type: 'metric', data });
  }

  event(data: JobEvent): void {
    // A job that starts begins a new run: the replay is about what is happening now.
    if (data.kind === 'started') {
      this.metrics = [];
      this.events = [];
      this.progress = undefined;
    }
    // Progress comes several times a second and only the latest matters; logging each one would
    // push the few events a dashboard needs (stage done, failed) out of the bounded log.
    if (data.kind === 'progress') this.progress = data;
    else {
      this.events.push(data);
      this.events = trim(this.events, this.limits.events);
    }
    this.emit({ type: 'event', data });
  }

  /** The replay message a new WebSocket client gets after `hello`: events in order, then the latest progress. */
  replay(): Extract<WsMessage, { type: 'replay' }> {
    const events = this.progress ? [...this.events, this.progress] : [...this.events];
    return { type: 'replay', metrics: [...this.metrics], events };
  }

  private emit(msg: Parameters<HubListener>[0]): void {
    for (const listener of this.listeners) {
      try {
        listener(msg);
      } catch {
        // One broken listener (a closed socket) must not starve the others.
      }
    }
  }
}

// Trims in chunks (10% slack) so a full log does not copy the whole array on every push.
function trim<T>(items: T[], cap: number): T[] {
  return items.length > cap + Math.ceil(cap / 10) ? items.slice(items.length - cap) : items;
}
