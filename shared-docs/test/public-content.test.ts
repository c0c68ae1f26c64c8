import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  addStep,
  buildPublicContent,
  createScenario,
  docName,
  initSettingsDoc,
  parseDocumentName,
  projectPublicContent,
  projectScenario,
  projectButtons,
  projectScenarios,
  projectSettings,
  setButton,
  setMainMenu,
  setSettingsText,
  setTextPublic,
  updateScenario,
  writePublicContent,
} from '../src/index.ts'

describe('public content', () => {
  it('names and parses the public document', () => {
    expect(docName.public('demo')).toBe('demo/public')
    expect(parseDocumentName('demo/public')).toEqual({ space: 'demo', kind: 'public' })
  })

  it('projects only texts and scenarios flagged public, and writes nothing when unchanged', () => {
    const settings = new Y.Doc()
    initSettingsDoc(settings)
    setSettingsText(settings, 'welcome', 'Hello readers')
    setSettingsText(settings, 'maintenance', 'Secret maintenance text')
    setTextPublic(settings, 'welcome', true)
    const index = new Y.Doc()
    const faqDoc = new Y.Doc()
    const privateDoc = new Y.Doc()
    const faq = createScenario(index, faqDoc, { id: 'faq', title: 'FAQ', firstStep: { message: 'Q: how?' } })
    addStep(faqDoc, { message: 'A: like this' })
    createScenario(index, privateDoc, { id: 'internal', title: 'Internal', firstStep: { message: 'staff only' } })
    updateScenario(index, faq.scenarioId, { public: true })
    const buttons = new Y.Doc()
    setButton(buttons, 'to_faq', { text: 'FAQ', action: { type: 'goto', scenarioId: 'faq' } })
    setButton(buttons, 'to_internal', { text: 'Internal', action: { type: 'goto', scenarioId: 'internal' } })
    setButton(buttons, 'site', { text: 'Website', action: { type: 'url', url: 'https://example.com' } })
    setMainMenu(settings, [['to_faq', 'site'], ['to_internal']])

    const build = () =>
      buildPublicContent(
        projectSettings(settings),
        projectScenarios(index),
        new Map([
          ['faq', projectScenario(faqDoc)],
          ['internal', projectScenario(privateDoc)],
        ]),
        projectButtons(buttons),
      )
    const target = new Y.Doc()
    writePublicContent(target, build())
    const content = projectPublicContent(target)
    expect(content.texts).toEqual({ welcome: 'Hello readers' })
    expect(content.scenarios.map((s) => [s.id, s.title, s.steps.map((step) => step.message)])).toEqual([['faq', 'FAQ', ['Q: how?', 'A: like this']]])
    expect(content.menu).toEqual([[{ text: 'FAQ', scenarioId: 'faq' }]])
    expect(JSON.stringify(target.toJSON())).not.toContain('staff only')
    expect(JSON.stringify(target.toJSON())).not.toContain('Secret maintenance')

    let updates = 0
    target.on('update', () => updates++)
    writePublicContent(target, build())
    expect(updates).toBe(0)

    setTextPublic(settings, 'welcome', false)
    updateScenario(index, 'faq', { public: false })
    writePublicContent(target, build())
    expect(projectPublicContent(target)).toEqual({ texts: {}, scenarios: [], menu: [] })
  })

  it('carries the formatting of public texts and steps, never of private ones', () => {
    const settings = new Y.Doc()
    initSettingsDoc(settings)
    setSettingsText(settings, 'welcome', 'Hello 👋 readers', [{ type: 'bold', offset: 9, length: 7 }])
    setSettingsText(settings, 'maintenance', 'Down', [{ type: 'italic', offset: 0, length: 4 }])
    setTextPublic(settings, 'welcome', true)
    const index = new Y.Doc()
    const faqDoc = new Y.Doc()
    const faq = createScenario(index, faqDoc, {
      id: 'faq',
      title: 'FAQ',
      firstStep: { message: 'See the docs', entities: [{ type: 'text_link', offset: 8, length: 4, url: 'https://example.com/docs' }] },
    })
    addStep(faqDoc, { message: 'Plain' })
    updateScenario(index, faq.scenarioId, { public: true })
    const build = () => buildPublicContent(projectSettings(settings), projectScenarios(index), new Map([['faq', projectScenario(faqDoc)]]))
    const target = new Y.Doc()
    writePublicContent(target, build())
    const content = projectPublicContent(target)
    expect(content.textEntities).toEqual({ welcome: [{ type: 'bold', offset: 9, length: 7 }] })
    expect(content.scenarios[0].steps).toEqual([
      { id: faq.entryStepId, message: 'See the docs', entities: [{ type: 'text_link', offset: 8, length: 4, url: 'https://example.com/docs' }] },
      { id: expect.any(String), message: 'Plain' },
    ])

    // Unformatting the text removes its entry; an unchanged rebuild writes nothing.
    setSettingsText(settings, 'welcome', 'Hello 👋 readers', [])
    writePublicContent(target, build())
    expect(projectPublicContent(target).textEntities).toBeUndefined()
    let updates = 0
    target.on('update', () => updates++)
    writePublicContent(target, build())
    expect(updates).toBe(0)
  })
})
