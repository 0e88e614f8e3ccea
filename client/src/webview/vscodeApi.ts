// The webview side of `acquireVsCodeApi`, typed per panel.
interface VsCodeApi<S, M> {
  postMessage(message: M): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S, M>(): VsCodeApi<S, M>;

export function vscodeApi<S, M>(): VsCodeApi<S, M> {
  return acquireVsCodeApi<S, M>();
}
