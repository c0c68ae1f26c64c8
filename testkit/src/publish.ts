// @botsync/testkit/publish: releases written straight into `<space>/published`
// through the server's own ServerWriter, for bot tests that need review mode
// before the HTTP publish route (POST /api/spaces/:space/releases) exists.
// Not the server's publish: no versions row, no consistent read of the
// drafts in one transaction. Tests that mean "an admin published" should move
// to the HTTP route once it is there.
import * as Y from 'yjs'
import type { BotsyncServer } from '@botsync/server'
import { currentReleaseNumber, docName, isValidId, projectSpace, putRelease, scenariosRoot, setPublishMode, type PublishMode, type SpaceJson } from '@botsync/shared-docs'

/** The space's drafts as the server holds them now, projected (a test's starting point for a release). */
export async function draftsOf(server: BotsyncServer, space: string): Promise<SpaceJson> {
  const load = async (name: string): Promise<Y.Doc> => {
    const doc = new Y.Doc()
    const state = await server.writer.read(name)
    if (state) Y.applyUpdate(doc, state)
    return doc
  }
  const scenarios = await load(docName.scenarios(space))
  const scenarioDocs = new Map<string, Y.Doc>()
  for (const id of scenariosRoot(scenarios).keys()) if (isValidId(id)) scenarioDocs.set(id, await load(docName.scenario(space, id)))
  return projectSpace({ settings: await load(docName.settings(space)), buttons: await load(docName.buttons(space)), scenarios, scenarioDocs })
}

/**
 * Test only: makes `content` the space's next release (current number + 1)
 * in `<space>/published`, committed before it resolves; returns its number.
 */
export async function publishReleaseForTest(server: BotsyncServer, space: string, content: SpaceJson): Promise<number> {
  let number = 0
  await server.writer.change(docName.published(space), (doc) => {
    number = (currentReleaseNumber(doc) ?? 0) + 1
    putRelease(doc, { number, versionId: `test-${number}`, createdAt: new Date().toISOString(), content: structuredClone(content) })
  })
  return number
}

/** Test only: sets the space's publish mode in `<space>/published` (the server's PUT …/publish-mode does more). */
export async function setPublishModeForTest(server: BotsyncServer, space: string, mode: PublishMode): Promise<void> {
  await server.writer.change(docName.published(space), (doc) => setPublishMode(doc, mode))
}
