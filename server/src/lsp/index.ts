// Wires the dataset language features onto an LSP connection: incremental document sync,
// debounced diagnostics, hovers, code lenses and document symbols for JSONL datasets.
import { Connection, ServerCapabilities, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeLenses } from './codeLens';
import { DiagnosticScheduler } from './diagnostics';
import { forgetDocument, isDatasetDocument, trackedDocuments } from './documents';
import { hoverAt } from './hover';
import { documentSymbols } from './symbols';

/** What the language features need the server to announce in `initialize`. */
export const LANGUAGE_CAPABILITIES: ServerCapabilities = {
  textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
  hoverProvider: true,
  codeLensProvider: { resolveProvider: false },
  documentSymbolProvider: true,
};

/** The keys of `initializationOptions` the language features read (the client sends more). */
export interface LanguageInitOptions {
  /**
   * Milliseconds of quiet after an edit before diagnostics are recomputed (default
   * DIAGNOSTICS_DEBOUNCE_MS, 200). 0 recomputes after every edit: benchmarks use it to time the
   * work itself rather than the wait.
   */
  diagnosticsDebounceMs?: number;
}

/** Longest accepted debounce: anything longer would look like diagnostics being broken. */
const MAX_DEBOUNCE_MS = 10_000;

export interface LanguageFeatures {
  /** The open documents (the custom requests read unsaved editor text from them). */
  documents: TextDocuments<TextDocument>;
  /** Applies the client's `initializationOptions`; values out of range are ignored. */
  configure(initializationOptions: unknown): void;
}

/** Registers the language features on the connection. */
export function registerLanguageFeatures(connection: Connection, log: (message: string) => void): LanguageFeatures {
  const documents = new TextDocuments(trackedDocuments);
  const dataset = (uri: string) => {
    const doc = documents.get(uri);
    return doc && isDatasetDocument(doc) ? doc : undefined;
  };
  const scheduler = new DiagnosticScheduler(
    dataset,
    (uri, version, diagnostics) => void connection.sendDiagnostics({ uri, version, diagnostics }),
    (err) => log(`diagnostics failed: ${(err as Error)?.stack ?? String(err)}`),
  );

  documents.onDidChangeContent(({ document }) => {
    if (isDatasetDocument(document)) scheduler.schedule(document);
  });
  documents.onDidClose(({ document }) => {
    forgetDocument(document);
    if (isDatasetDocument(document)) scheduler.clear(document.uri);
  });

  connection.onHover(async ({ textDocument, position }) => {
    const doc = dataset(textDocument.uri);
    return doc ? hoverAt(doc, position) : null;
  });
  connection.onCodeLens(({ textDocument }) => {
    const doc = dataset(textDocument.uri);
    return doc ? codeLenses(doc) : [];
  });
  connection.onDocumentSymbol(({ textDocument }) => {
    const doc = dataset(textDocument.uri);
    return doc ? documentSymbols(doc) : [];
  });

  documents.listen(connection);
  return {
    documents,
    configure(init) {
      const ms = (init as LanguageInitOptions | null | undefined)?.diagnosticsDebounceMs;
      if (ms === undefined) return;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_DEBOUNCE_MS) scheduler.debounceMs = ms;
      else
        log(`initializationOptions.diagnosticsDebounceMs: ignored ${JSON.stringify(ms)} (want 0..${MAX_DEBOUNCE_MS})`);
    },
  };
}
