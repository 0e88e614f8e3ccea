// Tests run on the wasm backend (the default users get) unless R1_TEST_BACKEND says otherwise.
import { BackendName, initBackend } from '../../server/src/backend/backend';

export async function testBackend(): Promise<string> {
  return initBackend((process.env.R1_TEST_BACKEND as BackendName | undefined) ?? 'wasm');
}
