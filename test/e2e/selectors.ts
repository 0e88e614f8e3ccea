// Every DOM selector the end-to-end tests use, in one place: VS Code 1.100's workbench (as served
// by code-server 4.100.3) and the R1 webviews (client/src/webview/*.ts). When a VS Code update
// moves something, this is the file to fix.

/** The VS Code workbench. */
export const workbench = {
  root: '.monaco-workbench',
  editorPart: '.monaco-workbench .part.editor',
  statusBar: '.monaco-workbench .part.statusbar',
  /** The extension's status bar item (id `<publisher>.<name>.<item id>`). */
  r1StatusItem: '[id="r1-workbench.r1-workbench.r1.status"]',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputTitle: '.quick-input-widget .quick-input-title',
  quickInputRow: '.quick-input-widget .quick-input-list .monaco-list-row',
  /** The label of a quick-input row (command title, stage id, file name). */
  quickInputRowLabel: '.label-name',
  /** A modal dialog (e.g. "Command … resulted in an error"): it blocks everything else. */
  dialog: '.monaco-dialog-box',
  notificationToast: '.notifications-toasts .notification-toast',
  notificationMessage: '.notification-list-item-message',
  notificationButton: '.notification-list-item-buttons-container .monaco-button',
  activeTab: '.part.editor .tabs-container .tab.active',
  tab: '.part.editor .tabs-container .tab',
};

/** The text editor (Monaco). */
export const editor = {
  /** The focused editor of the active group. */
  active: '.part.editor .editor-group-container.active .monaco-editor',
  viewLine: '.view-lines .view-line',
  /** A token: rendered spans carry `mtkN`, N the colour the theme gives the token's scopes. */
  token: '.view-lines .view-line span > span[class*="mtk"]',
  codeLens: '.contentWidgets .codelens-decoration a',
  squiggleError: '.view-overlays .squiggly-error',
};

/** Panels of the workbench. */
export const panels = {
  problems: '.markers-panel',
  problemRow: '.markers-panel .monaco-list-row',
};

/** Webviews: the outer iframe once loaded, then the frame that holds the extension's page. */
export const webview = {
  outerFrame: 'iframe.webview.ready',
  /** Inside the outer frame: the page's frame (renamed from `pending-frame` once loaded). */
  innerFrame: 'iframe#active-frame',
};

/** The Training Dashboard (client/src/webview/dashboard.ts). */
export const dashboard = {
  timeline: '#timeline',
  stage: (id: string) => `#timeline .stage:has(.stage-name:text-is("${id}"))`,
  stageState: '.stage-state',
  noData: '#nodata',
  banner: '#banner',
  chart: (id: string) => `#chart-${id}`,
  chartCanvas: (id: string) => `#chart-${id} canvas`,
};

/** The Rewards Panel (client/src/webview/rewards.ts). */
export const rewards = {
  title: 'header.toolbar h1',
  promptText: '.prompt-text',
  summary: '.prompt .summary',
  groupNav: '.group-nav',
  completion: '.completions article.card',
  completionText: 'pre.completion',
  thinkSegment: '.seg-think',
  rewardChip: '.chip',
  banner: '.banner',
};
