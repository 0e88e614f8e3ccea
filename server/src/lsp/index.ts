// Wires the dataset language features onto an LSP connection: incremental document sync,
// debounced diagnostics, hovers, code lenses and document symbols for JSONL datasets.
import { Connection, ServerCapabilities, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeLenses } from './codeLens';
import { DiagnosticScheduler } from './diagnostics';
import { forgetDocument, isDatasetDocument } from './documents';
import { hoverAt } from './hover';
import { documentSymbols } from './symbols';

/** What the language features need the server to announce in `initialize`. */
export const LANGUAGE_CAPABILITIES: ServerCapabilities = {
  textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
  hoverProvider: true,
  codeLensProvider: { resolveProvider: false },
  documentSymbolProvider: true,
};

/**
 * Registers the language features; returns the open documents (the custom requests read
 * unsaved editor text from them).
 */
export function registerLanguageFeatures(
  connection: Connection,
  log: (message: string) => void,
): TextDocuments<TextDocument> {
  const documents = new TextDocuments(TextDocument);
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
    forgetDocument(document.uri);
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
  return documents;
}
