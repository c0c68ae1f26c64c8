// Review mode: the bot answers from `<space>/published`'s current release,
// never from the drafts admins are editing and never from a mix of two
// releases. The first test goes through the HTTP routes (PUT …/publish-mode,
// POST …/releases); the others write releases of chosen content straight
// through the server's ServerWriter (testkit/publish).
import { docName, projectSpace, setButtonText, setSettingsText, setStepMessage, type SpaceJson } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import type { RecordedCall, SimUser } from '@botsync/testkit/fake-bot-api'
import { draftsOf, publishReleaseForTest, setPublishModeForTest } from '@botsync/testkit/publish'
import { apiRequest, memberOf } from '@botsync/testkit/server'
import { Scene, buttonsOf, waitFor } from './helpers.ts'

const alice: SimUser = { id: 2001, first_name: 'Alice' }
const bob: SimUser = { id: 2002, first_name: 'Bob' }

const DEMO_WELCOME = 'Welcome to the botsync demo bot! Pick an option below.'
const FALLBACK = "Sorry, I didn't get that. Send /start to see the menu."
const MAIN_MENU = [
  [['Get started', 'b:start']],
  [
    ['Support', 'b:support'],
    ['Website', 'https://example.com'],
  ],
]
/** Telegram's limits would only slow these tests down. */
const NO_LIMITS = { perChat: { perSecond: 10_000, burst: 10_000 }, global: { perSecond: 10_000, burst: 10_000 } }

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

function withWelcome(content: SpaceJson, welcome: string): SpaceJson {
  const next = structuredClone(content)
  next.settings.texts.welcome = welcome
  return next
}

describe('review mode', () => {
  it('through the HTTP routes: review turned on by an owner, drafts kept from the bot until POST …/releases', async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const owner = await memberOf(server, space, 'owner')
    const mode = await apiRequest(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'review' })
    expect(mode.body).toMatchObject({ mode: 'review', release: { number: 1 } })
    const settings = await scene.admin('settings')
    setSettingsText(settings.doc, 'welcome', 'Reviewed welcome')
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).settings.texts.welcome === 'Reviewed welcome', 'the draft edit to reach the bot')
    expect((await scene.reply(alice, () => api.sendCommand(alice, 'start'))).message!.text).toBe(DEMO_WELCOME)
    const release = await apiRequest(server, 'POST', `/api/spaces/${space}/releases`, owner.token, { note: 'New welcome' })
    expect(release.body).toMatchObject({ kind: 'release', number: 2, author: { id: owner.userId } })
    expect((await scene.reply(alice, () => api.sendCommand(alice, 'start'))).message!.text).toBe('Reviewed welcome')
  })

  it('answers the released text while drafts are edited, the next release after a publish, the drafts again in live mode', async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const base = await draftsOf(server, space)
    expect(await publishReleaseForTest(server, space, withWelcome(base, 'Released welcome, release 1'))).toBe(1)
    await setPublishModeForTest(server, space, 'review')

    const settings = await scene.admin('settings')
    setSettingsText(settings.doc, 'welcome', 'Half-typed draft welc')
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).settings.texts.welcome === 'Half-typed draft welc', 'the draft edit to reach the bot')
    const released = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(released.message!.text).toBe('Released welcome, release 1')
    expect(buttonsOf(released)).toEqual(MAIN_MENU)

    // Read-your-writes: the publish has committed, so the very next answer has it.
    expect(await publishReleaseForTest(server, space, withWelcome(base, 'Released welcome, release 2'))).toBe(2)
    const next = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(next.message!.text).toBe('Released welcome, release 2')

    await setPublishModeForTest(server, space, 'live')
    const live = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(live.message!.text).toBe('Half-typed draft welc')

    expect(scene.logged('release-switched').map((line) => line.release)).toEqual([1, 2])
    expect(scene.logged('answering-from-drafts')).toHaveLength(1)
    expect(scene.logged('review-without-release')).toEqual([])
  })

  it('review mode without a release answers from the drafts and warns once', async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    await setPublishModeForTest(server, space, 'review')
    for (let i = 0; i < 3; i++) {
      const answer = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
      expect(answer.message!.text).toBe(DEMO_WELCOME)
    }
    expect(scene.logged('review-without-release')).toHaveLength(1)
  })

  it("a release's problems are logged once, not on every answer", async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const broken = structuredClone(await draftsOf(server, space))
    broken.buttons.support.text = ''
    await publishReleaseForTest(server, space, broken)
    await setPublishModeForTest(server, space, 'review')
    for (let i = 0; i < 3; i++) {
      const answer = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
      // The broken button is left out, the rest answers.
      expect(buttonsOf(answer)).toEqual([[['Get started', 'b:start']], [['Website', 'https://example.com']]])
    }
    const skipped = scene.logged('content-skipped').filter((line) => line.release === 1)
    expect(skipped.length).toBeGreaterThan(0)
    expect(new Set(skipped.map((line) => `${line.document} ${line.path} ${line.code}`)).size).toBe(skipped.length)
  })
})

describe('switching releases', () => {
  it('never answers from a mix of two releases: 50 releases while users keep asking', async () => {
    scene = await Scene.start({ bot: { rateLimits: NO_LIMITS } })
    const { api, server, space } = scene
    const base = await draftsOf(server, space)
    /** Release n as an admin would have written it: the welcome text, a main-menu button's label and the onboarding's first step, together. */
    const release = (n: number): SpaceJson => {
      const next = structuredClone(base)
      next.settings.texts.welcome = `Welcome R${n}`
      next.buttons.start.text = `Get started R${n}`
      next.buttons.ob_continue.text = `Let's go R${n}`
      next.scenarioDocs.onboarding.steps.welcome.message = `Hi R${n}`
      return next
    }
    /** The drafts move to release n's content one document at a time, as co-editing admins' do. */
    const editDrafts = async (n: number): Promise<void> => {
      await server.writer.change(docName.settings(space), (doc) => setSettingsText(doc, 'welcome', `Welcome R${n}`))
      await server.writer.change(docName.buttons(space), (doc) => {
        setButtonText(doc, 'start', `Get started R${n}`)
        setButtonText(doc, 'ob_continue', `Let's go R${n}`)
      })
      await server.writer.change(docName.scenario(space, 'onboarding'), (doc) => setStepMessage(doc, 'welcome', `Hi R${n}`))
    }
    await editDrafts(1)
    await publishReleaseForTest(server, space, release(1))
    await setPublishModeForTest(server, space, 'review')

    const answers: RecordedCall[] = []
    let publishing = true
    const users: SimUser[] = Array.from({ length: 6 }, (_, i) => ({ id: 3000 + i, first_name: `User${i}` }))
    const ask = async (user: SimUser): Promise<void> => {
      while (publishing) {
        const menu = await scene.reply(user, () => api.sendCommand(user, 'start'))
        answers.push(menu)
        const step = await scene.reply(user, () => api.clickButton(user, menu, 'b:start'))
        answers.push(step)
      }
    }
    const asking = Promise.all(users.map(ask))
    for (let n = 2; n <= 50; n++) {
      await editDrafts(n)
      const before = answers.length
      await publishReleaseForTest(server, space, release(n))
      // Paced by the answers, not by time: a few answers between releases so they cross many of them.
      await waitFor(() => answers.length >= before + 2, 'answers after a release')
    }
    publishing = false
    await asking

    const seen = new Set<number>()
    for (const answer of answers) {
      const text = answer.message!.text!
      const labels = buttonsOf(answer)
        .flat()
        .map(([label]) => label)
      const releases = new Set([text, ...labels].flatMap((s) => [...s.matchAll(/R(\d+)/g)].map((m) => Number(m[1]))))
      // The text and a keyboard label both carry a release number, and it is the same one.
      expect(releases.size, `${text} | ${labels.join(', ')}`).toBe(1)
      expect(
        labels.some((label) => /R\d+/.test(label)),
        `${text} | ${labels.join(', ')}`,
      ).toBe(true)
      seen.add([...releases][0])
    }
    // The answers did move through the releases, so a mix had every chance to show.
    expect(seen.size).toBeGreaterThanOrEqual(10)
    expect(seen.has(50)).toBe(true)
  }, 30_000)

  it('a user at a step the new release removed gets the fallback and the main menu; at a step it kept, continues there', async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const base = await draftsOf(server, space)
    await publishReleaseForTest(server, space, base)
    await setPublishModeForTest(server, space, 'review')

    // Both at "What should I call you?" (onboarding/ask_name) in release 1.
    for (const user of [alice, bob]) {
      const menu = await scene.reply(user, () => api.sendCommand(user, 'start'))
      const intro = await scene.reply(user, () => api.clickButton(user, menu, 'b:start'))
      const question = await scene.reply(user, () => api.clickButton(user, intro, 'b:ob_continue'))
      expect(question.message!.text).toBe('What should I call you?')
    }

    // Release 2 keeps ask_name and changes what follows it.
    const kept = structuredClone(base)
    kept.scenarioDocs.onboarding.steps.finish.message = 'Welcome aboard, {name}! (release 2)'
    await publishReleaseForTest(server, space, kept)
    const finish = await scene.reply(bob, () => api.sendText(bob, 'Bob'))
    expect(finish.message!.text).toBe('Welcome aboard, Bob! (release 2)')

    // Release 3 removes ask_name (and the button that led there).
    const removed = structuredClone(kept)
    delete removed.scenarioDocs.onboarding.steps.ask_name
    removed.scenarioDocs.onboarding.stepOrder = removed.scenarioDocs.onboarding.stepOrder.filter((id) => id !== 'ask_name')
    removed.scenarioDocs.onboarding.steps.welcome.keyboard.rows = [['ob_later']]
    await publishReleaseForTest(server, space, removed)
    const fallback = await scene.reply(alice, () => api.sendText(alice, 'Alice'))
    expect(fallback.message!.text).toBe(FALLBACK)
    expect(buttonsOf(fallback)).toEqual(MAIN_MENU)
    // And the user is out of the scenario: the next text is no answer to a question either.
    const again = await scene.reply(alice, () => api.sendText(alice, 'Alice'))
    expect(again.message!.text).toBe(FALLBACK)
    expect(scene.logged('release-switched').map((line) => line.release)).toEqual([1, 2, 3])
  })
})
