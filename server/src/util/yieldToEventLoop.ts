/**
 * Lets timers, signals and worker messages run between synchronous training steps. Awaiting an
 * already-resolved promise is not enough: that only drains microtasks.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
