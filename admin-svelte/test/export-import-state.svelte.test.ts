import { describe, expect, it } from 'vitest'
import { ExportImportState } from '../src/lib/settings/export-import-state.svelte.ts'
import { FakeApi } from './fake-api.ts'

describe('ExportImportState (Settings → Export and import)', () => {
  it('exports the file, imports one, and lists a refused file’s problems with their paths', async () => {
    const file = { format: 'botsync-space', version: 1 }
    const api = new FakeApi()
      .on('GET /api/spaces/coffee/export', { body: file })
      .on('POST /api/spaces/coffee/import', (call) =>
        (call.body as { version: number }).version === 1
          ? { body: { changed: 3, warnings: [] } }
          : { status: 422, body: { error: 'invalid-export', message: 'x', problems: [{ path: 'version', code: 'version-unsupported', message: 'Version 2 is not supported.' }] } },
      )
    const state = new ExportImportState('coffee', { token: () => 'jwt', fetch: api.fetch })
    expect(JSON.parse((await state.exportText())!)).toEqual(file)
    expect(state.fileName).toBe('coffee-botsync.json')
    expect(await state.importText(JSON.stringify(file))).toEqual({ ok: true, changed: 3, warnings: [] })
    expect(api.callsTo('POST /api/spaces/coffee/import')[0]).toMatchObject({ authorization: 'Bearer jwt', body: file })
    expect(await state.importText(JSON.stringify({ ...file, version: 2 }))).toEqual({
      ok: false,
      message: 'The file was refused; nothing was imported:',
      problems: [{ path: 'version', code: 'version-unsupported', message: 'Version 2 is not supported.' }],
    })
    expect(state.outcome?.ok).toBe(false)
    expect(await state.importText('{not json')).toEqual({ ok: false, message: 'The file is not JSON.', problems: [] })
    expect(api.callsTo('POST /api/spaces/coffee/import')).toHaveLength(2)
  })
})
